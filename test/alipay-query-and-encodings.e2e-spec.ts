import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { encode } from 'iconv-lite';
import { AlipayGateway, GatewayError } from '@ledger/alipay-gateway';
import {
  buildDirectPayRequest,
  buildRefundNopwdRequest,
  encodeText,
  formatBatchNo,
  parseGatewayReply,
  type Charset,
  type MerchantConfig,
  type Result,
  type SignedRequest,
} from '@ledger/alipay-protocol';
import { createSandboxApp } from '@ledger/alipay-sandbox';

// The gateway client's single_trade_query against the sandbox over HTTP, the sandbox's "Alipay gave up"
// chaos, and gateway.do reading what Alipay's own kits send: multipart/form-data as the PHP kit's curl posts
// it, and parameters split between the query and the body.

const MD5_PARTNER = '2088000000000011';
const MD5_KEY = 'querykey000000000000000000000000';
const GBK_PARTNER = '2088000000000012';
const GBK_KEY = 'gbkquerykey000000000000000000000';
const RSA_PARTNER = '2088000000000013';
const pemPair = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 1024,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
const MERCHANT_RSA = pemPair();
const ALIPAY_RSA = pemPair();

function valueOf<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('; '));
  return result.value;
}

let sandbox: INestApplication;
let base: string;
let gatewayUrl: string;
/** The merchant's notify_url: counts what reaches it. */
let notifyServer: Server;
let notifyUrl: string;
const notified: string[] = [];

function merchant(partner: string, charset: Charset = 'utf-8'): MerchantConfig {
  return {
    partner,
    charset,
    gateway: gatewayUrl,
    signingKey:
      partner === RSA_PARTNER
        ? { signType: 'RSA', privateKey: MERCHANT_RSA.privateKey }
        : { signType: 'MD5', md5Key: partner === GBK_PARTNER ? GBK_KEY : MD5_KEY },
  };
}

function client(
  partner: string,
  charset: Charset = 'utf-8',
  overrides: Partial<ConstructorParameters<typeof AlipayGateway>[0]> = {},
) {
  return new AlipayGateway({
    merchant: merchant(partner, charset),
    verification:
      partner === RSA_PARTNER
        ? { alipayPublicKeyPem: ALIPAY_RSA.publicKey }
        : { md5Keys: [partner === GBK_PARTNER ? GBK_KEY : MD5_KEY] },
    ...overrides,
  });
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}/sandbox/api${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  expect(response.status).toBeLessThan(300);
  return (await response.json()) as T;
}

interface TradeJson {
  tradeNo: string;
  tradeStatus: string;
  refundedFee: string;
}

/** A trade placed as the merchant's page would (GET of the signed URL), then paid through the control API. */
async function paidTrade(partner: string, options: { charset?: Charset; subject?: string } = {}) {
  const outTradeNo = `q-${randomBytes(4).toString('hex')}`;
  const request = valueOf(
    buildDirectPayRequest(merchant(partner, options.charset), {
      outTradeNo,
      subject: options.subject ?? `order ${outTradeNo}`,
      totalFee: 1234,
      notifyUrl,
    }),
  );
  expect((await fetch(request.url)).status).toBe(200);
  const [trade] = await api<TradeJson[]>('GET', `/trades?outTradeNo=${outTradeNo}`);
  await api('POST', `/trades/${trade.tradeNo}/actions/pay-instant`);
  return { outTradeNo, tradeNo: trade.tradeNo };
}

async function failure(call: Promise<unknown>): Promise<GatewayError> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof GatewayError)) throw new Error(`expected a GatewayError, got ${String(outcome)}`);
  return outcome;
}

/** A raw HTTP POST, as curl sends it (with `Expect: 100-continue` for a large body). */
function post(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(body.length) },
    });
    outgoing.on('response', (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    outgoing.on('error', reject);
    if (headers.expect === '100-continue') outgoing.on('continue', () => outgoing.end(body));
    else outgoing.end(body);
  });
}

beforeAll(async () => {
  notifyServer = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      notified.push(request.url ?? '');
      response.end('success');
    });
  });
  await new Promise<void>((resolve) => notifyServer.listen(0, '127.0.0.1', resolve));
  notifyUrl = `http://127.0.0.1:${(notifyServer.address() as AddressInfo).port}/notify`;
  sandbox = await createSandboxApp({
    merchants: [
      { partner: MD5_PARTNER, md5Keys: [MD5_KEY] },
      { partner: GBK_PARTNER, md5Keys: [GBK_KEY] },
      {
        partner: RSA_PARTNER,
        rsa: { merchantPublicKeyPem: MERCHANT_RSA.publicKey, alipayPrivateKeyPem: ALIPAY_RSA.privateKey },
      },
    ],
    publicBaseUrl: 'http://127.0.0.1',
    timeScale: 10_000,
    logger: false,
  });
  await sandbox.listen(0, '127.0.0.1');
  base = await sandbox.getUrl();
  gatewayUrl = `${base}/gateway.do`;
});

afterAll(async () => {
  await sandbox?.close();
  notifyServer.closeAllConnections();
  await new Promise<void>((resolve) => notifyServer.close(() => resolve()));
});

afterEach(async () => {
  await api('PUT', '/chaos', {});
});

describe('AlipayGateway.singleTradeQuery against the sandbox', () => {
  it('finds a paid trade by out_trade_no and by trade_no, signature verified, and keeps the reply bytes', async () => {
    const { outTradeNo, tradeNo } = await paidTrade(MD5_PARTNER);
    const byOrder = await client(MD5_PARTNER).singleTradeQuery({ outTradeNo });
    expect(byOrder.reply).toMatchObject({
      status: 'found',
      verification: { outcome: 'VERIFIED', verified: true },
      trade: {
        tradeNo,
        outTradeNo,
        tradeStatus: 'TRADE_SUCCESS',
        totalFee: 1234,
        gmtPayment: expect.any(Date),
      },
    });
    expect(byOrder.body.toString('utf8')).toContain('<is_success>T</is_success>');
    expect(byOrder.latencyMs).toBeGreaterThanOrEqual(0);
    const byTrade = await client(MD5_PARTNER).singleTradeQuery({ tradeNo });
    expect(byTrade.reply).toMatchObject({ status: 'found', trade: { outTradeNo } });
  });

  it('reports TRADE_IS_NOT_EXIST as not_found, an answer and not an error', async () => {
    const result = await client(MD5_PARTNER).singleTradeQuery({ outTradeNo: 'never-placed' });
    expect(result.reply).toEqual(
      expect.objectContaining({ status: 'not_found', error: 'TRADE_IS_NOT_EXIST' }),
    );
  });

  it('reads a GBK merchant’s answer in GBK, and an RSA merchant’s with Alipay’s key only', async () => {
    const gbk = await paidTrade(GBK_PARTNER, { charset: 'gbk', subject: '测试商品' });
    const gbkResult = await client(GBK_PARTNER, 'gbk').singleTradeQuery({ outTradeNo: gbk.outTradeNo });
    expect(gbkResult.reply).toMatchObject({
      status: 'found',
      charset: 'gbk',
      trade: { subject: '测试商品' },
    });
    expect(gbkResult.body.includes(encode('测试商品', 'gbk'))).toBe(true);

    const rsa = await paidTrade(RSA_PARTNER);
    expect((await client(RSA_PARTNER).singleTradeQuery({ outTradeNo: rsa.outTradeNo })).reply.status).toBe(
      'found',
    );
    const wrongKey = client(RSA_PARTNER, 'utf-8', {
      verification: { alipayPublicKeyPem: MERCHANT_RSA.publicKey },
    });
    const unverified = await wrongKey.singleTradeQuery({ outTradeNo: rsa.outTradeNo });
    expect(unverified.reply).toMatchObject({
      status: 'unverified',
      verification: { outcome: 'SIGNATURE_MISMATCH' },
    });
  });

  it('throws REJECTED with Alipay’s code when the sandbox refuses the query (a wrong key: ILLEGAL_SIGN)', async () => {
    const wrong = new AlipayGateway({
      merchant: { ...merchant(MD5_PARTNER), signingKey: { signType: 'MD5', md5Key: GBK_KEY } },
      verification: { md5Keys: [MD5_KEY] },
    });
    const error = await failure(wrong.singleTradeQuery({ outTradeNo: 'x' }));
    expect(error).toMatchObject({
      code: 'REJECTED',
      alipayCode: 'ILLEGAL_SIGN',
      service: 'single_trade_query',
    });
  });

  it('throws INVALID_REQUEST without sending anything when there is nothing to query by', async () => {
    expect(await failure(client(MD5_PARTNER).singleTradeQuery({}))).toMatchObject({
      code: 'INVALID_REQUEST',
    });
  });

  describe('a gateway that misbehaves', () => {
    let server: Server;
    let url: string;
    let answer: 'hang' | 'html' | 'status';
    beforeAll(async () => {
      server = createServer((request, response) => {
        if (answer === 'hang') return;
        if (answer === 'html')
          response.writeHead(200, { 'content-type': 'text/html' }).end('<html>502</html>');
        else response.writeHead(502).end('bad gateway');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gateway.do`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const at = () =>
      new AlipayGateway({ merchant: { ...merchant(MD5_PARTNER), gateway: url }, queryTimeoutMs: 300 });

    it.each([
      ['hang', 'TIMEOUT'],
      ['html', 'BAD_REPLY'],
      ['status', 'BAD_REPLY'],
    ] as const)('%s → %s, retryable', async (behaviour, code) => {
      answer = behaviour;
      expect(await failure(at().singleTradeQuery({ outTradeNo: 'x' }))).toMatchObject({
        code,
        retryable: true,
      });
    });
  });
});

describe('chaos: Alipay gave up', () => {
  it('sends no notification at all, lists them as dropped, and the query still says paid', async () => {
    await api('PUT', '/chaos', { dropNotifications: true });
    expect(await api('GET', '/chaos')).toEqual({ dropNotifications: true });
    const before = notified.length;
    const { outTradeNo } = await paidTrade(MD5_PARTNER);
    await api('POST', '/notifications/flush', { all: true });
    expect(notified.length).toBe(before);
    const listed = await api<{ state: string; tradeStatus: string; attempts: unknown[] }[]>(
      'GET',
      `/notifications?outTradeNo=${outTradeNo}`,
    );
    expect(listed).toEqual([
      expect.objectContaining({ state: 'abandoned', tradeStatus: 'TRADE_SUCCESS', attempts: [] }),
    ]);
    const result = await client(MD5_PARTNER).singleTradeQuery({ outTradeNo });
    expect(result.reply).toMatchObject({ status: 'found', trade: { tradeStatus: 'TRADE_SUCCESS' } });
  });
});

describe('gateway.do takes what Alipay’s kits send', () => {
  const boundary = '------------------------9051914041544843365972754266';

  function nopwd(partner: string, charset: Charset, tradeNo: string): SignedRequest {
    const now = new Date();
    return valueOf(
      buildRefundNopwdRequest(merchant(partner, charset), {
        batchNo: valueOf(formatBatchNo(now, String(100_000 + Math.floor(Math.random() * 899_999)))),
        refundDate: now,
        records: [{ tradeNo, amount: 100, reason: '协商退款' }],
        notifyUrl,
      }),
    );
  }

  /** The body curl makes of the PHP kit's parameter array: one part per parameter, the value's raw bytes. */
  function curlMultipart(request: SignedRequest): Buffer {
    return Buffer.concat([
      ...request.params.flatMap(({ name, value }) => [
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`, 'latin1'),
        valueOf(encodeText(value, request.charset)),
        Buffer.from('\r\n', 'latin1'),
      ]),
      Buffer.from(`--${boundary}--\r\n`, 'latin1'),
    ]);
  }

  it.each(['gbk', 'utf-8'] as const)(
    'accepts a %s nopwd refund posted as multipart/form-data with _input_charset in the URL (was ILLEGAL_SERVICE)',
    async (charset) => {
      const partner = charset === 'gbk' ? GBK_PARTNER : MD5_PARTNER;
      const { tradeNo } = await paidTrade(partner, { charset });
      const request = nopwd(partner, charset, tradeNo);
      const body = curlMultipart(request);
      // The PHP kit's gateway ends with `?`, to which it appends `_input_charset=`.
      const reply = await post(
        `${gatewayUrl}?_input_charset=${charset}`,
        { 'content-type': `multipart/form-data; boundary=${boundary}`, expect: '100-continue' },
        body,
      );
      expect(reply.status).toBe(200);
      expect(valueOf(parseGatewayReply(reply.body))).toMatchObject({ status: 'accepted', isSuccess: 'T' });
      const batchNo = request.params.find((p) => p.name === 'batch_no')!.value;
      const batch = await api<{ records: { tradeNo: string; code?: string }[] }>(
        'GET',
        `/batches/${partner}/${batchNo}`,
      );
      expect(batch.records).toEqual([expect.objectContaining({ tradeNo, code: 'SUCCESS' })]);
    },
  );

  it('refuses the same multipart with one GBK byte changed: ILLEGAL_SIGN over the bytes as they came', async () => {
    const { tradeNo } = await paidTrade(GBK_PARTNER, { charset: 'gbk' });
    const body = curlMultipart(nopwd(GBK_PARTNER, 'gbk', tradeNo));
    const at = body.indexOf(encode('退款', 'gbk'));
    body[at + 1] ^= 0x01;
    const reply = await post(
      `${gatewayUrl}?_input_charset=gbk`,
      { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    );
    expect(valueOf(parseGatewayReply(reply.body))).toMatchObject({
      status: 'rejected',
      error: 'ILLEGAL_SIGN',
    });
  });

  it('accepts a POST with the parameters split between the query and the body', async () => {
    const { tradeNo } = await paidTrade(GBK_PARTNER, { charset: 'gbk' });
    const request = nopwd(GBK_PARTNER, 'gbk', tradeNo);
    const pairs = request.formBody.split('&');
    // The signed _input_charset stays in the body; the URL names the charset too, as the demos' action does.
    const inQuery = pairs.filter((p) => /^(service|partner|sign|sign_type)=/.test(p));
    const inBody = pairs.filter((p) => !inQuery.includes(p));
    const reply = await post(
      `${gatewayUrl}?_input_charset=gbk&${inQuery.join('&')}`,
      { 'content-type': 'application/x-www-form-urlencoded' },
      Buffer.from(inBody.join('&'), 'latin1'),
    );
    expect(valueOf(parseGatewayReply(reply.body))).toMatchObject({ status: 'accepted' });
  });
});
