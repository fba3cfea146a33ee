import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import {
  buildDirectPayRequest,
  buildNotifyVerifyUrl,
  buildRefundNopwdRequest,
  buildRefundPwdRequest,
  buildSendGoodsConfirmRequest,
  buildTradeCreateByBuyerRequest,
  encodeForm,
  formatBatchNo,
  parseGatewayReply,
  parseNotification,
  signParams,
  verifyNotification,
  type Charset,
  type MerchantConfig,
  type Notification,
  type Result,
  type SignedRequest,
  type SignType,
} from '@ledger/alipay-protocol';
import { createSandboxApp } from '@ledger/alipay-sandbox';

// The sandbox over HTTP, as a merchant sees it: signed requests in, a cashier page, redirects, and signed
// notifications out to a small merchant server that records them and answers as scripted.

const MD5_PARTNER = '2088000000000001';
const MD5_KEY = 'demokey0000000000000000000000000';
const GBK_PARTNER = '2088000000000002';
const GBK_KEY = 'gbkkey00000000000000000000000000';
const RSA_PARTNER = '2088000000000003';

const pemPair = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 1024,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
const MERCHANT_RSA = pemPair();
const ALIPAY_RSA = pemPair();

/** What the merchant server received. */
interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The notification's parameters, verified with the merchant's key. */
  readonly notification?: Notification;
  readonly verified: boolean;
  /** What notify_verify answered when the merchant asked, before replying. */
  readonly notifyVerify?: string;
  readonly reply: string;
}

/**
 * A merchant's notify_url: it verifies each notification's signature with the protocol lib, asks the
 * sandbox's notify_verify (as a merchant must, before `success`), then answers from its script.
 */
class MerchantServer {
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, string[]>();
  private readonly waiters = new Set<() => void>();
  private server!: Server;
  baseUrl = '';
  gateway = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        void this.handle(request.url ?? '/', request.headers, Buffer.concat(chunks)).then((reply) => {
          response.writeHead(200, { 'content-type': 'text/plain' }).end(reply);
        });
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The replies for notifications of one order or batch, in turn (then `success`). */
  script(key: string, ...replies: string[]): void {
    this.scripts.set(key, replies);
  }

  private async handle(url: string, headers: IncomingHttpHeaders, body: Buffer): Promise<string> {
    const partner = url.split('/')[2];
    const verification = verifyNotification(body, {
      ...verificationKeys(partner),
      defaultCharset: partner === GBK_PARTNER ? 'gbk' : 'utf-8',
      contentType: headers['content-type'],
      source: 'notify',
    });
    const parsed = verification.ok ? parseNotification(verification.params) : undefined;
    const notification = parsed?.ok === true ? parsed.value : undefined;
    const notifyVerify =
      notification === undefined
        ? undefined
        : await askNotifyVerify(this.gateway, partner, notification.notifyId);
    const key =
      notification === undefined
        ? ''
        : notification.notifyType === 'batch_refund_notify'
          ? notification.batchNo
          : notification.outTradeNo;
    const reply = this.scripts.get(key)?.shift() ?? 'success';
    this.received.push({
      path: url,
      headers,
      body,
      ...(notification === undefined ? {} : { notification }),
      verified: verification.ok,
      ...(notifyVerify === undefined ? {} : { notifyVerify }),
      reply,
    });
    for (const wake of [...this.waiters]) wake();
    return reply;
  }

  /** The notifications received for an order or batch, oldest first. */
  about(key: string): Received[] {
    return this.received.filter(
      (r) =>
        r.notification !== undefined &&
        (r.notification.notifyType === 'batch_refund_notify'
          ? r.notification.batchNo === key
          : r.notification.outTradeNo === key),
    );
  }

  /** Waits until `count` notifications about `key` arrived. */
  async waitFor(key: string, count: number, timeoutMs = 10_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.about(key).length < count) {
      if (Date.now() > deadline) {
        throw new Error(`${this.about(key).length} of ${count} notifications about ${key} arrived`);
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, 100);
        this.waiters.add(wake);
      });
    }
    return this.about(key);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function verificationKeys(partner: string): {
  signType: SignType;
  md5Keys?: string[];
  alipayPublicKeyPem?: string;
} {
  if (partner === RSA_PARTNER) return { signType: 'RSA', alipayPublicKeyPem: ALIPAY_RSA.publicKey };
  return { signType: 'MD5', md5Keys: [partner === GBK_PARTNER ? GBK_KEY : MD5_KEY] };
}

async function askNotifyVerify(gateway: string, partner: string, notifyId: string): Promise<string> {
  const url = valueOf(buildNotifyVerifyUrl({ partner, notifyId, gateway }));
  return (await fetch(url)).text();
}

/** [trade_status, refund_status] of trade_status_sync notifications. */
function statuses(received: readonly Received[]): [string, string | undefined][] {
  return received.map(({ notification }) => {
    if (notification?.notifyType !== 'trade_status_sync') throw new Error('not a trade_status_sync');
    return [notification.tradeStatus, notification.refundStatus];
  });
}

function valueOf<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('; '));
  return result.value;
}

let sandbox: INestApplication;
let base: string;
let gateway: string;
const merchant = new MerchantServer();

function config(partner: string, charset: Charset = 'utf-8'): MerchantConfig {
  return {
    partner,
    charset,
    gateway,
    signingKey:
      partner === RSA_PARTNER
        ? { signType: 'RSA', privateKey: MERCHANT_RSA.privateKey }
        : { signType: 'MD5', md5Key: partner === GBK_PARTNER ? GBK_KEY : MD5_KEY },
  };
}

const newOrderNo = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
const notifyUrl = (partner: string) => `${merchant.baseUrl}/notify/${partner}`;
const returnUrl = (partner: string) => `${merchant.baseUrl}/return/${partner}`;

function directPay(
  partner: string,
  outTradeNo: string,
  options: { totalFee?: number; subject?: string; charset?: Charset } = {},
) {
  return valueOf(
    buildDirectPayRequest(config(partner, options.charset), {
      outTradeNo,
      subject: options.subject ?? `order ${outTradeNo}`,
      totalFee: options.totalFee ?? 1234,
      notifyUrl: notifyUrl(partner),
      returnUrl: returnUrl(partner),
    }),
  );
}

/** The cashier page for a request sent as the merchant's page would: GET the signed URL. */
async function openCashier(request: SignedRequest): Promise<{ html: string; action: string }> {
  const response = await fetch(request.url);
  expect(response.status).toBe(200);
  const html = await response.text();
  const action = /<form method="post" action="(\/cashier\/[0-9]+)">/.exec(html)?.[1];
  if (action === undefined) throw new Error(`no cashier form in ${html}`);
  return { html, action };
}

/** Clicks a cashier button; resolves with where the 303 sends the browser. */
async function choose(action: string, choice: 'instant' | 'escrow' | 'leave'): Promise<string> {
  const response = await fetch(`${base}${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `choice=${choice}`,
    redirect: 'manual',
  });
  expect(response.status).toBe(303);
  return response.headers.get('location')!;
}

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const response = await fetch(`${base}/sandbox/api${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as T };
}

interface TradeJson {
  tradeNo: string;
  outTradeNo: string;
  tradeStatus: string;
  refundStatus?: string;
  refundedFee: string;
  actions: string[];
}
interface NotificationJson {
  notifyId: string;
  state: string;
  tradeStatus?: string;
  attempts: { round: number; copy: number; reply?: string; acknowledged: boolean; httpStatus?: number }[];
}

async function tradeOf(outTradeNo: string): Promise<TradeJson> {
  const { json } = await api<TradeJson[]>('GET', `/trades?outTradeNo=${outTradeNo}`);
  expect(json).toHaveLength(1);
  return json[0];
}

async function paidOrder(partner: string, prefix: string, totalFee = 1000): Promise<TradeJson> {
  const outTradeNo = newOrderNo(prefix);
  const { action } = await openCashier(directPay(partner, outTradeNo, { totalFee }));
  await choose(action, 'instant');
  await merchant.waitFor(outTradeNo, 1);
  return tradeOf(outTradeNo);
}

function nopwdRefund(
  partner: string,
  records: { tradeNo: string; amount: number }[],
  serial = randomSerial(),
) {
  const now = new Date();
  return valueOf(
    buildRefundNopwdRequest(config(partner), {
      batchNo: valueOf(formatBatchNo(now, serial)),
      refundDate: now,
      records: records.map((record) => ({ ...record, reason: 'customer request' })),
      notifyUrl: notifyUrl(partner),
    }),
  );
}

const randomSerial = () => String(100_000 + Math.floor(Math.random() * 899_999));

async function postForm(request: SignedRequest): Promise<Buffer> {
  const response = await fetch(request.formAction, {
    method: 'POST',
    headers: { 'content-type': request.formContentType },
    body: request.formBody,
  });
  return Buffer.from(await response.arrayBuffer());
}

beforeAll(async () => {
  await merchant.start();
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
    // 4 minutes become 24 ms: the schedule runs within a test.
    timeScale: 10_000,
    logger: false,
  });
  await sandbox.listen(0, '127.0.0.1');
  base = await sandbox.getUrl();
  gateway = `${base}/gateway.do`;
  merchant.gateway = gateway;
});

afterAll(async () => {
  await sandbox?.close();
  await merchant.close();
});

afterEach(async () => {
  await api('PUT', '/chaos', {});
});

describe('a payment', () => {
  it('shows the cashier, redirects to return_url and notifies a signed TRADE_SUCCESS', async () => {
    const outTradeNo = newOrderNo('pay');
    const { html, action } = await openCashier(
      directPay(MD5_PARTNER, outTradeNo, { subject: 'green tea <b>x2</b>' }),
    );
    expect(html).toContain(outTradeNo);
    expect(html).toContain('¥12.34');
    expect(html).toContain('green tea &lt;b&gt;x2&lt;/b&gt;');
    expect(html).not.toContain('<b>x2</b>');
    expect(html).not.toContain('value="escrow"');
    expect(html).not.toContain('<script');

    const location = await choose(action, 'instant');
    expect(location.startsWith(`${returnUrl(MD5_PARTNER)}?`)).toBe(true);
    const query = location.slice(location.indexOf('?') + 1);
    // docs/alipay-protocol.md, "Decoding pitfalls": the return notify_id arrives double-encoded and is signed
    // once-decoded.
    expect(query).toMatch(/notify_id=[^&]*%252[FB]/);
    const returned = verifyNotification(query, {
      signType: 'MD5',
      md5Keys: [MD5_KEY],
      defaultCharset: 'utf-8',
      source: 'return',
    });
    expect(returned.reason).toBe('VERIFIED');
    const returnParams = valueOf(parseNotification(returned.params));
    expect(returnParams).toMatchObject({
      outTradeNo,
      tradeStatus: 'TRADE_SUCCESS',
      totalFee: 1234,
      isSuccess: true,
    });
    expect(await askNotifyVerify(gateway, MD5_PARTNER, returnParams.notifyId)).toBe('true');

    const [received] = await merchant.waitFor(outTradeNo, 1);
    expect(received.headers['content-type']).toBe(
      'application/x-www-form-urlencoded; text/html; charset=UTF-8',
    );
    expect(received.headers['user-agent']).toBe('Mozilla/4.0');
    expect(received.body.toString('latin1')).toContain('subject=green+tea+%3Cb%3Ex2%3C%2Fb%3E');
    expect(received.verified).toBe(true);
    expect(received.notification).toMatchObject({
      notifyType: 'trade_status_sync',
      outTradeNo,
      tradeStatus: 'TRADE_SUCCESS',
      totalFee: 1234,
      sellerId: MD5_PARTNER,
      subject: 'green tea <b>x2</b>',
    });
    // Asked before replying `success`: alive; after it: dead (docs/alipay-protocol.md, "notify_verify").
    expect(received.notifyVerify).toBe('true');
    expect(await askNotifyVerify(gateway, MD5_PARTNER, received.notification!.notifyId)).toBe('false');
    expect(await tradeOf(outTradeNo)).toMatchObject({ tradeStatus: 'TRADE_SUCCESS', actions: ['finish'] });
  });

  it('retries on the (compressed) schedule until success, with one notify_id, then notify_verify says false', async () => {
    const outTradeNo = newOrderNo('retry');
    merchant.script(outTradeNo, 'fail', 'oops', 'success');
    const { action } = await openCashier(directPay(MD5_PARTNER, outTradeNo));
    await choose(action, 'instant');
    const received = await merchant.waitFor(outTradeNo, 3);
    expect(received.map((r) => r.reply)).toEqual(['fail', 'oops', 'success']);
    expect(new Set(received.map((r) => r.notification?.notifyId)).size).toBe(1);
    expect(received.every((r) => r.verified && r.notifyVerify === 'true')).toBe(true);
    const notifyId = received[0].notification!.notifyId;
    expect(await askNotifyVerify(gateway, MD5_PARTNER, notifyId)).toBe('false');

    const { json } = await api<NotificationJson[]>('GET', `/notifications?outTradeNo=${outTradeNo}`);
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({ notifyId, state: 'acknowledged' });
    expect(json[0].attempts.map((a) => [a.round, a.httpStatus, a.reply, a.acknowledged])).toEqual([
      [0, 200, 'fail', false],
      [1, 200, 'oops', false],
      [2, 200, 'success', true],
    ]);
  });

  it('leaves the trade waiting when the buyer leaves without paying', async () => {
    const outTradeNo = newOrderNo('leave');
    const { action } = await openCashier(directPay(MD5_PARTNER, outTradeNo));
    const response = await fetch(`${base}${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'choice=whatever',
      redirect: 'manual',
    });
    expect(response.headers.get('location')).toBe(action);
    const location = await choose(action, 'leave');
    const page = await (await fetch(`${base}${location}`)).text();
    expect(page).toContain('still waits for payment');
    expect(await tradeOf(outTradeNo)).toMatchObject({ tradeStatus: 'WAIT_BUYER_PAY' });
    expect(merchant.about(outTradeNo)).toHaveLength(0);
  });

  it('refuses a tampered request with ILLEGAL_SIGN', async () => {
    const request = directPay(MD5_PARTNER, newOrderNo('tamper'), { totalFee: 100_00 });
    const tampered = request.url.replace('total_fee=100.00', 'total_fee=0.01');
    expect(tampered).not.toBe(request.url);
    const html = await (await fetch(tampered)).text();
    expect(html).toContain('<strong class="error" id="error-code">ILLEGAL_SIGN</strong>');
    expect(html).not.toContain(MD5_KEY);
  });

  it('refuses an out_trade_no sent again with other data: TRADE_DATA_MATCH_ERROR', async () => {
    const outTradeNo = newOrderNo('match');
    await openCashier(directPay(MD5_PARTNER, outTradeNo, { totalFee: 500 }));
    await openCashier(directPay(MD5_PARTNER, outTradeNo, { totalFee: 500 }));
    const html = await (await fetch(directPay(MD5_PARTNER, outTradeNo, { totalFee: 600 }).url)).text();
    expect(html).toContain('id="error-code">TRADE_DATA_MATCH_ERROR<');
    expect(html).toContain('totalFee');
  });

  it('serves a GBK merchant in GBK: request, page and notification', async () => {
    const outTradeNo = newOrderNo('gbk');
    const request = directPay(GBK_PARTNER, outTradeNo, { subject: '龙井 绿茶', charset: 'gbk' });
    // POSTed as the merchant's auto-submit form would, with GBK escapes in the body.
    expect(request.formBody).toContain('%C1%FA%BE%AE');
    const response = await fetch(request.formAction, {
      method: 'POST',
      headers: { 'content-type': request.formContentType },
      body: request.formBody,
    });
    const html = await response.text();
    expect(html).toContain('龙井 绿茶');
    await choose(/action="(\/cashier\/[0-9]+)"/.exec(html)![1], 'instant');
    const [received] = await merchant.waitFor(outTradeNo, 1);
    expect(received.headers['content-type']).toBe(
      'application/x-www-form-urlencoded; text/html; charset=GBK',
    );
    expect(received.body.toString('latin1')).toContain('subject=%C1%FA%BE%AE+%C2%CC%B2%E8');
    expect(received.verified).toBe(true);
    expect(received.notification).toMatchObject({ subject: '龙井 绿茶', tradeStatus: 'TRADE_SUCCESS' });
  });

  it("signs an RSA merchant's notifications with Alipay's key", async () => {
    const outTradeNo = newOrderNo('rsa');
    const { action } = await openCashier(directPay(RSA_PARTNER, outTradeNo));
    await choose(action, 'instant');
    const [received] = await merchant.waitFor(outTradeNo, 1);
    expect(received.body.toString('latin1')).toContain('sign_type=RSA');
    expect(received.verified).toBe(true);
  });
});

describe('the home page', () => {
  it('lists the trades newest first, each linking to its page with the buyer and seller buttons', async () => {
    const older = await paidOrder(MD5_PARTNER, 'home-old');
    const outTradeNo = newOrderNo('home-new');
    await openCashier(directPay(MD5_PARTNER, outTradeNo, { subject: '龙井 <i>tea</i>' }));
    const newer = await tradeOf(outTradeNo);

    const response = await fetch(`${base}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    const listed = [...html.matchAll(/href="\/trades\/([0-9]+)"/g)].map((match) => match[1]);
    expect(listed.indexOf(newer.tradeNo)).toBeGreaterThanOrEqual(0);
    expect(listed.indexOf(newer.tradeNo)).toBeLessThan(listed.indexOf(older.tradeNo));
    expect(html).toContain('龙井 &lt;i&gt;tea&lt;/i&gt;');
    expect(html).not.toContain('<i>tea</i>');
    expect(html).toContain('WAIT_BUYER_PAY');
    expect(html).toContain('href="/docs"');

    const tradePage = await (await fetch(`${base}/trades/${newer.tradeNo}`)).text();
    expect(tradePage).toContain('value="pay-instant"');
  });
});

describe('an escrow trade', () => {
  function dualPay(outTradeNo: string): SignedRequest {
    return valueOf(
      buildTradeCreateByBuyerRequest(config(MD5_PARTNER), {
        outTradeNo,
        subject: 'tea set',
        price: 5000,
        quantity: 1,
        logistics: { type: 'EXPRESS', fee: 0, payment: 'SELLER_PAY' },
        notifyUrl: notifyUrl(MD5_PARTNER),
        returnUrl: returnUrl(MD5_PARTNER),
      }),
    );
  }

  async function tradeAction(tradeNo: string, action: string): Promise<string> {
    const response = await fetch(`${base}/trades/${tradeNo}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `action=${action}`,
      redirect: 'manual',
    });
    expect(response.status).toBe(303);
    return response.headers.get('location')!;
  }

  it('is paid with escrow, shipped by send_goods_confirm_by_platform, refunded on the trade page', async () => {
    const outTradeNo = newOrderNo('escrow');
    const { html, action } = await openCashier(dualPay(outTradeNo));
    expect(html).toContain('value="escrow"');
    await choose(action, 'escrow');
    const { tradeNo } = await tradeOf(outTradeNo);

    const shipped = await postForm(
      valueOf(
        buildSendGoodsConfirmRequest(config(MD5_PARTNER), {
          tradeNo,
          logisticsName: 'SF Express',
          invoiceNo: 'SF1234567890',
          transportType: 'EXPRESS',
        }),
      ),
    );
    expect(valueOf(parseGatewayReply(shipped))).toMatchObject({ status: 'accepted' });
    const again = await postForm(
      valueOf(
        buildSendGoodsConfirmRequest(config(MD5_PARTNER), {
          tradeNo,
          logisticsName: 'SF',
          invoiceNo: '1',
          transportType: 'EXPRESS',
        }),
      ),
    );
    expect(valueOf(parseGatewayReply(again))).toMatchObject({
      status: 'rejected',
      error: 'TRADE_STATUS_NOT_AVAILD',
    });

    const page = await (await fetch(`${base}/trades/${tradeNo}`)).text();
    expect(page).toContain('value="confirm-receipt"');
    expect(page).toContain('value="request-refund"');
    expect(page).not.toContain('<script');
    expect(await tradeAction(tradeNo, 'request-refund')).toBe(`/trades/${tradeNo}`);
    await tradeAction(tradeNo, 'refuse-refund');
    await tradeAction(tradeNo, 'request-refund');
    await tradeAction(tradeNo, 'agree-refund');
    await tradeAction(tradeNo, 'return-goods');
    await tradeAction(tradeNo, 'confirm-return');
    const notice = await tradeAction(tradeNo, 'ship');
    expect(notice).toBe(`/trades/${tradeNo}?notice=TRADE_STATUS_NOT_AVAILD`);
    expect(await (await fetch(`${base}${notice}`)).text()).toContain('TRADE_STATUS_NOT_AVAILD');

    const received = await merchant.waitFor(outTradeNo, 9);
    expect(statuses(received)).toEqual([
      ['WAIT_BUYER_PAY', undefined],
      ['WAIT_SELLER_SEND_GOODS', undefined],
      ['WAIT_BUYER_CONFIRM_GOODS', undefined],
      ['WAIT_BUYER_CONFIRM_GOODS', 'WAIT_SELLER_AGREE'],
      ['WAIT_BUYER_CONFIRM_GOODS', 'SELLER_REFUSE_BUYER'],
      ['WAIT_BUYER_CONFIRM_GOODS', 'WAIT_SELLER_AGREE'],
      ['WAIT_BUYER_CONFIRM_GOODS', 'WAIT_BUYER_RETURN_GOODS'],
      ['WAIT_BUYER_CONFIRM_GOODS', 'WAIT_SELLER_CONFIRM_GOODS'],
      ['TRADE_CLOSED', 'REFUND_SUCCESS'],
    ]);
    expect(received.every((r) => r.verified)).toBe(true);
  });
});

describe('a batch refund', () => {
  it('nopwd: accepted with T, then batch_refund_notify and the trade notification', async () => {
    const a = await paidOrder(MD5_PARTNER, 'refund-a', 1000);
    const b = await paidOrder(MD5_PARTNER, 'refund-b', 500);
    const request = nopwdRefund(MD5_PARTNER, [
      { tradeNo: a.tradeNo, amount: 300 },
      { tradeNo: b.tradeNo, amount: 500 },
    ]);
    const batchNo = request.params.find((p) => p.name === 'batch_no')!.value;
    const reply = valueOf(parseGatewayReply(await postForm(request)));
    expect(reply).toMatchObject({ status: 'accepted', isSuccess: 'T', charset: 'gbk' });

    const [batchNotify] = await merchant.waitFor(batchNo, 1);
    expect(batchNotify.verified).toBe(true);
    const notification = batchNotify.notification!;
    if (notification.notifyType !== 'batch_refund_notify') throw new Error(notification.notifyType);
    expect(notification.successNum).toBe(2);
    expect(notification.resultDetails).toEqual([
      { tradeNo: a.tradeNo, amount: 300, code: 'SUCCESS' },
      { tradeNo: b.tradeNo, amount: 500, code: 'SUCCESS' },
    ]);
    const [, aRefund] = await merchant.waitFor(a.outTradeNo, 2);
    const [, bRefund] = await merchant.waitFor(b.outTradeNo, 2);
    expect(aRefund.notification).toMatchObject({
      tradeStatus: 'TRADE_SUCCESS',
      refundStatus: 'REFUND_SUCCESS',
    });
    expect(bRefund.notification).toMatchObject({
      tradeStatus: 'TRADE_CLOSED',
      refundStatus: 'REFUND_SUCCESS',
    });
    expect(await tradeOf(a.outTradeNo)).toMatchObject({ refundedFee: '3.00', tradeStatus: 'TRADE_SUCCESS' });

    // docs/alipay-protocol.md, "batch_no": the same batch_no again is DUPLICATE_BATCH_NO, and nothing is
    // refunded twice.
    const duplicate = valueOf(parseGatewayReply(await postForm(request)));
    expect(duplicate).toMatchObject({ status: 'rejected', error: 'DUPLICATE_BATCH_NO' });
    expect(await tradeOf(a.outTradeNo)).toMatchObject({ refundedFee: '3.00' });
  });

  it('refuses a batch_num that does not count the records, and a tampered request', async () => {
    const a = await paidOrder(MD5_PARTNER, 'refund-c');
    const request = nopwdRefund(MD5_PARTNER, [{ tradeNo: a.tradeNo, amount: 100 }]);
    const miscounted = { ...request, formBody: request.formBody.replace('batch_num=1', 'batch_num=2') };
    expect(valueOf(parseGatewayReply(await postForm(miscounted)))).toMatchObject({ error: 'ILLEGAL_SIGN' });

    // Signed by the merchant, yet inconsistent: Alipay checks batch_num against detail_data.
    const unsigned = request.params
      .filter((p) => p.name !== 'sign' && p.name !== 'sign_type')
      .map((p) => (p.name === 'batch_num' ? { name: p.name, value: '2' } : p));
    const signed = valueOf(signParams(unsigned, 'utf-8', { signType: 'MD5', md5Key: MD5_KEY }));
    const inconsistent = { ...request, formBody: valueOf(encodeForm(signed.params, 'utf-8')) };
    expect(valueOf(parseGatewayReply(await postForm(inconsistent)))).toMatchObject({
      status: 'rejected',
      error: 'BATCH_NUM_NOT_EQUAL_TOTAL',
    });
    // Refused batches leave their batch_no unused.
    expect(valueOf(parseGatewayReply(await postForm(request)))).toMatchObject({ status: 'accepted' });
  });

  it('pwd: the merchant confirms on the page, then batch_refund_notify', async () => {
    const a = await paidOrder(MD5_PARTNER, 'refund-pwd');
    const now = new Date();
    const request = valueOf(
      buildRefundPwdRequest(config(MD5_PARTNER), {
        batchNo: valueOf(formatBatchNo(now, randomSerial())),
        refundDate: now,
        records: [{ tradeNo: a.tradeNo, amount: 250, reason: '协商退款' }],
        notifyUrl: notifyUrl(MD5_PARTNER),
      }),
    );
    const batchNo = request.params.find((p) => p.name === 'batch_no')!.value;
    const page = await (await fetch(request.url)).text();
    expect(page).toContain('协商退款');
    const action = /<form method="post" action="([^"]+)">/.exec(page)![1];
    expect(await tradeOf(a.outTradeNo)).toMatchObject({ refundedFee: '0.00' });
    const response = await fetch(`${base}${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'password=123456&decision=confirm',
      redirect: 'manual',
    });
    expect(response.status).toBe(303);
    const result = await (await fetch(`${base}${response.headers.get('location')}`)).text();
    expect(result).toContain('SUCCESS');
    const [notify] = await merchant.waitFor(batchNo, 1);
    expect(notify.notification).toMatchObject({
      successNum: 1,
      resultDetails: [{ tradeNo: a.tradeNo, amount: 250, code: 'SUCCESS' }],
    });
  });
});

describe('chaos', () => {
  it('duplicates: the first delivery arrives several times with one notify_id', async () => {
    expect((await api('PUT', '/chaos', { duplicates: 3 })).status).toBe(200);
    const outTradeNo = newOrderNo('dup');
    const { action } = await openCashier(directPay(MD5_PARTNER, outTradeNo));
    await choose(action, 'instant');
    const received = await merchant.waitFor(outTradeNo, 3);
    expect(new Set(received.map((r) => r.notification?.notifyId)).size).toBe(1);
    expect(new Set(received.map((r) => r.body.toString())).size).toBe(1);
    const { json } = await api<NotificationJson[]>('GET', `/notifications?outTradeNo=${outTradeNo}`);
    expect(json[0].attempts.map((a) => a.copy)).toEqual([1, 2, 3]);
  });

  it('reordering: held notifications are sent newest first', async () => {
    const outTradeNo = newOrderNo('reorder');
    const request = valueOf(
      buildTradeCreateByBuyerRequest(config(MD5_PARTNER), {
        outTradeNo,
        subject: 'tea set',
        price: 5000,
        quantity: 1,
        logistics: { type: 'POST', fee: 0, payment: 'SELLER_PAY' },
        notifyUrl: notifyUrl(MD5_PARTNER),
      }),
    );
    await openCashier(request);
    await merchant.waitFor(outTradeNo, 1);
    await api('PUT', '/chaos', { reorderWindow: 2 });
    const { tradeNo } = await tradeOf(outTradeNo);
    expect((await api('POST', `/trades/${tradeNo}/actions/pay-escrow`)).status).toBe(200);
    const shipped = await api<{ notifications: { state: string }[] }>(
      'POST',
      `/trades/${tradeNo}/actions/ship`,
      {
        logisticsName: 'EMS',
        transportType: 'EMS',
      },
    );
    expect(shipped.status).toBe(200);
    const received = await merchant.waitFor(outTradeNo, 3);
    expect(statuses(received).map(([tradeStatus]) => tradeStatus)).toEqual([
      'WAIT_BUYER_PAY',
      'WAIT_BUYER_CONFIRM_GOODS',
      'WAIT_SELLER_SEND_GOODS',
    ]);
  });

  it('sends what reordering held once it is switched off', async () => {
    await api('PUT', '/chaos', { reorderWindow: 5 });
    const outTradeNo = newOrderNo('held');
    const { action } = await openCashier(directPay(MD5_PARTNER, outTradeNo));
    await choose(action, 'instant');
    const { json } = await api<NotificationJson[]>('GET', `/notifications?outTradeNo=${outTradeNo}`);
    expect(json.map((n) => n.state)).toEqual(['held']);
    await api('PUT', '/chaos', {});
    const [received] = await merchant.waitFor(outTradeNo, 1);
    expect(received.notification).toMatchObject({ tradeStatus: 'TRADE_SUCCESS' });
  });

  it('refuses invalid settings', async () => {
    const { status, json } = await api<{ message: string[] }>('PUT', '/chaos', { duplicates: 0 });
    expect(status).toBe(400);
    expect(JSON.stringify(json)).toContain('duplicates');
  });
});

describe('the control API', () => {
  it('flushes pending retries on demand and lists them meanwhile', async () => {
    const slow = await createSandboxApp({
      merchants: [{ partner: MD5_PARTNER, md5Keys: [MD5_KEY] }],
      publicBaseUrl: 'http://127.0.0.1',
      logger: false,
    });
    await slow.listen(0, '127.0.0.1');
    const slowBase = await slow.getUrl();
    try {
      const outTradeNo = newOrderNo('flush');
      merchant.script(outTradeNo, 'fail');
      const request = valueOf(
        buildDirectPayRequest(
          { ...config(MD5_PARTNER), gateway: `${slowBase}/gateway.do` },
          { outTradeNo, subject: 'tea', totalFee: 100, notifyUrl: notifyUrl(MD5_PARTNER) },
        ),
      );
      expect((await fetch(request.url)).status).toBe(200);
      const [trade] = (await (await fetch(`${slowBase}/sandbox/api/trades`)).json()) as TradeJson[];
      await fetch(`${slowBase}/sandbox/api/trades/${trade.tradeNo}/actions/pay-instant`, { method: 'POST' });
      await merchant.waitFor(outTradeNo, 1);
      const pending = (await (
        await fetch(`${slowBase}/sandbox/api/notifications?state=scheduled`)
      ).json()) as (NotificationJson & {
        nextAttemptAt: string;
      })[];
      expect(pending).toHaveLength(1);
      // Alipay's first retry comes four minutes later; a flush brings it now.
      expect(Date.parse(pending[0].nextAttemptAt) - Date.now()).toBeGreaterThan(3 * 60_000);
      const flushed = await fetch(`${slowBase}/sandbox/api/notifications/flush`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ all: true }),
      });
      expect(await flushed.json()).toMatchObject({
        attempts: [{ round: 1, acknowledged: true, reply: 'success' }],
      });
      expect(merchant.about(outTradeNo)).toHaveLength(2);
    } finally {
      await slow.close();
    }
  });

  it('answers 404 and 409 with Alipay codes, and serves its OpenAPI', async () => {
    expect(await api('POST', '/trades/2024000000000000000000000000/actions/ship')).toMatchObject({
      status: 404,
      json: { code: 'TRADE_NOT_EXIST' },
    });
    const trade = await paidOrder(MD5_PARTNER, 'api');
    expect(await api('POST', `/trades/${trade.tradeNo}/actions/pay-instant`)).toMatchObject({
      status: 409,
      json: { code: 'TRADE_NOT_ALLOWED_PAY' },
    });
    expect((await api('POST', `/trades/${trade.tradeNo}/actions/dance`)).status).toBe(400);
    const openApi = (await (await fetch(`${base}/docs-json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openApi.paths)).toEqual(
      expect.arrayContaining([
        '/sandbox/api/trades/{tradeNo}/actions/{action}',
        '/sandbox/api/notifications/flush',
        '/sandbox/api/chaos',
      ]),
    );
  });
});
