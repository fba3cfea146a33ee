import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { encodeText, formatBatchNo, type NopwdRefund, type SendGoods } from '@ledger/alipay-protocol';
import { DEMO_ALIPAY, loadConfig } from '@ledger/platform';
import { startFakeAlipayGateway, type FakeAlipayGateway } from '@ledger/testing';
import { AlipayGateway } from './alipay-gateway';
import { GatewayError } from './gateway-error';

const PARTNER = DEMO_ALIPAY.partner;
const KEY = DEMO_ALIPAY.md5Key;

function client(
  gateway: FakeAlipayGateway,
  overrides: Partial<ConstructorParameters<typeof AlipayGateway>[0]> = {},
) {
  return new AlipayGateway({
    merchant: {
      partner: PARTNER,
      charset: 'utf-8',
      signingKey: { signType: 'MD5', md5Key: KEY },
      gateway: gateway.url,
    },
    notifyVerifyTimeoutMs: 10_000,
    requestTimeoutMs: 10_000,
    ...overrides,
  });
}

async function failure(call: Promise<unknown>): Promise<GatewayError> {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof GatewayError)) throw new Error(`expected a GatewayError, got ${String(outcome)}`);
  return outcome;
}

/** A port nothing listens on: bound, then released. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/gateway.do`;
}

const shipment: SendGoods = {
  tradeNo: '2026112321001004370000361525',
  logisticsName: 'SF Express',
  invoiceNo: 'SF1234567890',
  transportType: 'EXPRESS',
};

function refund(serial: string, reason = 'customer request'): NopwdRefund {
  const now = new Date();
  const batchNo = formatBatchNo(now, serial);
  if (!batchNo.ok) throw new Error('bad serial');
  return {
    batchNo: batchNo.value,
    refundDate: now,
    notifyUrl: 'http://merchant.example/alipay/refund-notify',
    records: [{ tradeNo: '2026112321001004370000361525', amount: 100, reason }],
  };
}

let gateway: FakeAlipayGateway;

beforeEach(async () => {
  gateway = await startFakeAlipayGateway();
});

afterEach(async () => {
  await gateway.close();
});

describe('notify_verify', () => {
  it('is true for a notification Alipay sent, asked with partner and notify_id over GET', async () => {
    const answer = await client(gateway).notifyVerify('70fec0c2730b27528665af4517c27b95');
    expect(answer).toMatchObject({ verified: true, answer: 'true' });
    expect(answer.latencyMs).toBeGreaterThanOrEqual(0);
    const [request] = gateway.requestsFor('notify_verify');
    expect(request).toMatchObject({
      method: 'GET',
      params: { service: 'notify_verify', partner: PARTNER, notify_id: '70fec0c2730b27528665af4517c27b95' },
    });
    expect(request.params.sign).toBeUndefined();
  });

  it('is false when Alipay does not know the notify_id', async () => {
    gateway.script('notify_verify', 'forged', 'false');
    await expect(client(gateway).notifyVerify('forged')).resolves.toMatchObject({
      verified: false,
      answer: 'false',
    });
  });

  it('accepts the answer with surrounding white space, as the demos do', async () => {
    gateway.script('notify_verify', 'spaced', { status: 200, body: 'true\r\n' });
    await expect(client(gateway).notifyVerify('spaced')).resolves.toMatchObject({ verified: true });
  });

  it('fails with TIMEOUT when the gateway is slower than the limit', async () => {
    gateway.script('notify_verify', 'slow', { delayMs: 60_000, then: 'true' });
    const error = await failure(client(gateway, { notifyVerifyTimeoutMs: 1_000 }).notifyVerify('slow'));
    expect(error).toMatchObject({ code: 'TIMEOUT', service: 'notify_verify', retryable: true });
  });

  it('fails with TIMEOUT when the reply starts in time but its body stalls past the limit', async () => {
    // Headers and part of the body at once, the rest never: the limit covers the whole exchange.
    const server = createServer((socket) => {
      socket.once('data', () =>
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\ntr'),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const started = Date.now();
      const error = await failure(
        client({ url: `http://127.0.0.1:${port}/gateway.do` } as FakeAlipayGateway, {
          notifyVerifyTimeoutMs: 300,
        }).notifyVerify('stalled'),
      );
      expect(error).toMatchObject({ code: 'TIMEOUT', service: 'notify_verify', retryable: true });
      expect(error.message).toContain('reading the reply');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      server.close();
    }
  });

  it('fails with UNREACHABLE when the connection drops without a reply', async () => {
    gateway.script('notify_verify', 'dropped', 'down');
    const error = await failure(client(gateway).notifyVerify('dropped'));
    expect(error).toMatchObject({ code: 'UNREACHABLE', retryable: true });
  });

  it('asks again on a fresh connection when the server closed the kept-alive one it reused, and only a query', async () => {
    // Each connection: the first request is answered and the connection kept; the next one on it is cut,
    // as when the server's keep-alive timeout races the client's reuse.
    const requests: string[] = [];
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      let answered = 0;
      socket.on('data', (chunk: Buffer) => {
        requests.push(chunk.toString('latin1').split(' ')[0]);
        if (answered++ > 0) {
          socket.resetAndDestroy();
          return;
        }
        socket.write(
          'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 4\r\nconnection: keep-alive\r\n\r\ntrue',
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const flaky = new AlipayGateway({
        merchant: {
          partner: PARTNER,
          charset: 'utf-8',
          signingKey: { signType: 'MD5', md5Key: KEY },
          gateway: `http://127.0.0.1:${port}/gateway.do`,
        },
      });
      expect(await flaky.notifyVerify('first')).toMatchObject({ verified: true });
      expect(await flaky.notifyVerify('second')).toMatchObject({ verified: true });
      expect(requests).toEqual(['GET', 'GET', 'GET']);
      // A refund is not asked twice: the cut request may have been read.
      requests.length = 0;
      const error = await failure(flaky.refundNopwd(refund('900001')));
      expect(error.code).toBe('UNREACHABLE');
      expect(requests).toEqual(['POST']);
    } finally {
      // Kept-alive connections would hold close() open.
      server.close();
      for (const socket of sockets) socket.destroy();
    }
  });

  it('fails with UNREACHABLE when nothing listens', async () => {
    const url = await closedPortUrl();
    const unreachable = new AlipayGateway({
      merchant: {
        partner: PARTNER,
        charset: 'utf-8',
        signingKey: { signType: 'MD5', md5Key: KEY },
        gateway: url,
      },
    });
    const error = await failure(unreachable.notifyVerify('any'));
    expect(error.code).toBe('UNREACHABLE');
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('fails with BAD_REPLY on `invalid` (a wrong partner): retrying after a fix may succeed', async () => {
    const wrongPartner = client(gateway, {
      merchant: {
        partner: '2088999999999999',
        charset: 'utf-8',
        signingKey: { signType: 'MD5', md5Key: KEY },
        gateway: gateway.url,
      },
    });
    const error = await failure(wrongPartner.notifyVerify('any'));
    expect(error).toMatchObject({
      code: 'BAD_REPLY',
      httpStatus: 200,
      replyExcerpt: 'invalid',
      retryable: true,
    });
  });

  // docs/alipay-protocol.md, "notify_verify"
  it('fails with BAD_REPLY on an HTTP error page (nginx 400 for plain HTTP)', async () => {
    gateway.script('notify_verify', 'nginx', {
      status: 400,
      body: '<html><head><title>400 The plain HTTP request was sent to HTTPS port</title></head></html>',
    });
    const error = await failure(client(gateway).notifyVerify('nginx'));
    expect(error).toMatchObject({ code: 'BAD_REPLY', httpStatus: 400 });
    expect(error.replyExcerpt).toContain('plain HTTP request');
  });

  it('fails with BAD_REPLY on a reply larger than the limit, without reading it all', async () => {
    gateway.script('notify_verify', 'huge', { status: 200, body: 'x'.repeat(200_000) });
    const small = client(gateway, { maxReplyBytes: 1_024 });
    await expect(failure(small.notifyVerify('huge'))).resolves.toMatchObject({ code: 'BAD_REPLY' });
  });

  it('fails with ABORTED when the caller stops the call', async () => {
    gateway.script('notify_verify', 'slow', { delayMs: 60_000, then: 'true' });
    const controller = new AbortController();
    const call = client(gateway).notifyVerify('slow', {
      signal: controller.signal,
    });
    await gateway.waitForRequest((request) => request.key === 'slow');
    controller.abort();
    await expect(failure(call)).resolves.toMatchObject({ code: 'ABORTED' });
  });

  it('sends nothing for an empty notify_id', async () => {
    await expect(failure(client(gateway).notifyVerify(''))).resolves.toMatchObject({
      code: 'INVALID_REQUEST',
      retryable: false,
    });
    expect(gateway.requests).toHaveLength(0);
  });
});

describe('send_goods_confirm_by_platform', () => {
  it('POSTs a signed request that the gateway accepts (T)', async () => {
    const acceptance = await client(gateway).sendGoodsConfirm(shipment);
    expect(acceptance.status).toBe('accepted');
    expect(acceptance.reply.charset).toBe('gbk');
    const [request] = gateway.requestsFor('send_goods_confirm_by_platform');
    expect(request).toMatchObject({
      method: 'POST',
      signature: 'valid',
      key: shipment.tradeNo,
      params: {
        service: 'send_goods_confirm_by_platform',
        partner: PARTNER,
        _input_charset: 'utf-8',
        trade_no: shipment.tradeNo,
        logistics_name: 'SF Express',
        invoice_no: 'SF1234567890',
        transport_type: 'EXPRESS',
        sign_type: 'MD5',
      },
    });
    expect(request.url).toBe('/gateway.do?_input_charset=utf-8');
  });

  it('reports P as pending', async () => {
    gateway.script('send_goods_confirm_by_platform', shipment.tradeNo, 'P');
    await expect(client(gateway).sendGoodsConfirm(shipment)).resolves.toMatchObject({ status: 'pending' });
  });

  it('fails with REJECTED and Alipay code when a shipped trade is confirmed again', async () => {
    await client(gateway).sendGoodsConfirm(shipment);
    const error = await failure(client(gateway).sendGoodsConfirm(shipment));
    expect(error).toMatchObject({
      code: 'REJECTED',
      alipayCode: 'TRADE_STATUS_NOT_AVAILD',
      retryable: false,
      httpStatus: 200,
    });
    expect(error.message).toContain('does not allow this operation');
  });

  it('marks a rejection retryable only when its code is (SESSION_TIMEOUT)', async () => {
    gateway.script('send_goods_confirm_by_platform', shipment.tradeNo, { error: 'SESSION_TIMEOUT' });
    await expect(failure(client(gateway).sendGoodsConfirm(shipment))).resolves.toMatchObject({
      code: 'REJECTED',
      alipayCode: 'SESSION_TIMEOUT',
      retryable: true,
    });
  });

  it('is REJECTED with ILLEGAL_SIGN when signed with another key', async () => {
    const wrongKey = client(gateway, {
      merchant: {
        partner: PARTNER,
        charset: 'utf-8',
        signingKey: { signType: 'MD5', md5Key: 'x'.repeat(32) },
        gateway: gateway.url,
      },
    });
    await expect(failure(wrongKey.sendGoodsConfirm(shipment))).resolves.toMatchObject({
      code: 'REJECTED',
      alipayCode: 'ILLEGAL_SIGN',
    });
    expect(gateway.requests[0].signature).toBe('invalid');
  });

  it('signs and sends in GBK for a GBK merchant, which the gateway verifies over GBK bytes', async () => {
    const gbk = client(gateway, {
      merchant: {
        partner: PARTNER,
        charset: 'gbk',
        signingKey: { signType: 'MD5', md5Key: KEY },
        gateway: gateway.url,
      },
    });
    await expect(gbk.sendGoodsConfirm({ ...shipment, logisticsName: '顺丰速运' })).resolves.toMatchObject({
      status: 'accepted',
    });
    const [request] = gateway.requests;
    expect(request).toMatchObject({
      signature: 'valid',
      charset: 'gbk',
      params: { logistics_name: '顺丰速运' },
    });
    expect(request.body.toString('latin1')).toContain('logistics_name=%CB%B3%B7%E1%CB%D9%D4%CB');
    expect(request.url).toBe('/gateway.do?_input_charset=gbk');
  });

  it('reads a GBK reply by its declaration', async () => {
    const xml = encodeText(
      '<?xml version="1.0" encoding="GBK"?><alipay><is_success>F</is_success><error>交易状态不正确</error></alipay>',
      'gbk',
    );
    if (!xml.ok) throw new Error('unencodable');
    gateway.script('send_goods_confirm_by_platform', shipment.tradeNo, {
      status: 200,
      body: xml.value,
      contentType: 'text/xml',
    });
    await expect(failure(client(gateway).sendGoodsConfirm(shipment))).resolves.toMatchObject({
      code: 'REJECTED',
      alipayCode: '交易状态不正确',
      retryable: false,
    });
  });

  it('reads a UTF-8 reply without a declaration', async () => {
    gateway.script('send_goods_confirm_by_platform', shipment.tradeNo, {
      status: 200,
      body: '<alipay><is_success>T</is_success></alipay>',
    });
    await expect(client(gateway).sendGoodsConfirm(shipment)).resolves.toMatchObject({
      status: 'accepted',
      reply: { charset: 'utf-8', charsetSource: 'default' },
    });
  });

  it('fails with BAD_REPLY on Alipay’s HTML error page served with 200', async () => {
    gateway.script('send_goods_confirm_by_platform', shipment.tradeNo, {
      status: 200,
      body: '<html><body>调试错误，请回到请求来源地，重新发起请求。错误代码 ILLEGAL_PARTNER</body></html>',
    });
    const error = await failure(client(gateway).sendGoodsConfirm(shipment));
    expect(error).toMatchObject({ code: 'BAD_REPLY', retryable: true });
    expect(error.replyExcerpt).toContain('调试错误');
  });

  it('fails with TIMEOUT on a slow gateway, and UNREACHABLE when it drops the connection', async () => {
    gateway.script(
      'send_goods_confirm_by_platform',
      shipment.tradeNo,
      { delayMs: 60_000, then: 'T' },
      'down',
    );
    const impatient = client(gateway, { requestTimeoutMs: 1_000 });
    await expect(failure(impatient.sendGoodsConfirm(shipment))).resolves.toMatchObject({ code: 'TIMEOUT' });
    await expect(failure(impatient.sendGoodsConfirm(shipment))).resolves.toMatchObject({
      code: 'UNREACHABLE',
    });
  });

  it('sends nothing for an invalid shipment and names the parameter', async () => {
    const error = await failure(client(gateway).sendGoodsConfirm({ ...shipment, invoiceNo: undefined }));
    expect(error).toMatchObject({ code: 'INVALID_REQUEST', retryable: false });
    expect(error.message).toContain('invoice_no');
    expect(gateway.requests).toHaveLength(0);
  });

  it('signs with the merchant’s RSA key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const rsaGateway = await startFakeAlipayGateway({
      signType: 'RSA',
      merchantPublicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    });
    try {
      const rsa = new AlipayGateway({
        merchant: {
          partner: PARTNER,
          charset: 'utf-8',
          signingKey: {
            signType: 'RSA',
            privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
          },
          gateway: rsaGateway.url,
        },
      });
      await expect(rsa.sendGoodsConfirm(shipment)).resolves.toMatchObject({ status: 'accepted' });
      expect(rsaGateway.requests[0]).toMatchObject({ signature: 'valid', params: { sign_type: 'RSA' } });
    } finally {
      await rsaGateway.close();
    }
  });
});

describe('refund_fastpay_by_platform_nopwd', () => {
  // docs/alipay-protocol.md, "batch_no"
  it('is accepted once; the same batch_no again is DUPLICATE_BATCH_NO', async () => {
    const batch = refund('0001');
    await expect(client(gateway).refundNopwd(batch)).resolves.toMatchObject({ status: 'accepted' });
    const error = await failure(client(gateway).refundNopwd(batch));
    expect(error).toMatchObject({ code: 'REJECTED', alipayCode: 'DUPLICATE_BATCH_NO', retryable: false });
    const [request] = gateway.requestsFor('refund_fastpay_by_platform_nopwd');
    expect(request).toMatchObject({
      signature: 'valid',
      key: batch.batchNo,
      params: {
        batch_num: '1',
        detail_data: '2026112321001004370000361525^1.00^customer request',
        return_type: 'xml',
      },
    });
  });

  it('sends a Chinese reason in GBK for a GBK merchant', async () => {
    const gbk = client(gateway, {
      merchant: {
        partner: PARTNER,
        charset: 'gbk',
        signingKey: { signType: 'MD5', md5Key: KEY },
        gateway: gateway.url,
      },
    });
    await expect(gbk.refundNopwd(refund('0002', '协商退款'))).resolves.toMatchObject({ status: 'accepted' });
    expect(gateway.requests[0]).toMatchObject({
      signature: 'valid',
      params: { detail_data: '2026112321001004370000361525^1.00^协商退款' },
    });
  });
});

describe('metrics', () => {
  it('times every call by service and counts those without a usable answer by code', async () => {
    const calls: [string, number, string | undefined][] = [];
    const timed = client(gateway, {
      metrics: { gatewayCalled: (service, seconds, code) => calls.push([service, seconds, code]) },
    });
    gateway.script('notify_verify', 'nobody', 'false');
    gateway.script('notify_verify', 'dropped', 'down');
    await timed.notifyVerify('70fec0c2730b27528665af4517c27b95');
    await timed.notifyVerify('nobody');
    await failure(timed.notifyVerify('dropped'));
    const batch = refund('0003');
    await timed.refundNopwd(batch);
    await failure(timed.refundNopwd(batch));
    expect(calls.map(([service, , code]) => [service, code])).toEqual([
      ['notify_verify', undefined],
      // Alipay answered: false is an answer, not an error.
      ['notify_verify', undefined],
      ['notify_verify', 'UNREACHABLE'],
      ['refund_fastpay_by_platform_nopwd', undefined],
      ['refund_fastpay_by_platform_nopwd', 'REJECTED'],
    ]);
    for (const [, seconds] of calls) {
      expect(seconds).toBeGreaterThanOrEqual(0);
      expect(seconds).toBeLessThan(10);
    }
  });
});

describe('AlipayGateway.fromConfig', () => {
  it('signs with the first configured MD5 key in the configured charset', async () => {
    // Live credentials of its own: live mode refuses the demo key.
    const merchant = { partner: '2088123456789012', md5Keys: ['live0key0of0the0merchant00000000'] };
    const live = await startFakeAlipayGateway(merchant);
    try {
      const config = loadConfig(
        {
          ALIPAY_PARTNER: merchant.partner,
          ALIPAY_KEY: `${merchant.md5Keys[0]},${'y'.repeat(32)}`,
          ALIPAY_GATEWAY: live.url,
          ALIPAY_INPUT_CHARSET: 'gbk',
          PUBLIC_BASE_URL: 'https://shop.example.com',
          DATABASE_URL: 'postgres://ledger@db.example.com/ledger',
        },
        { envFile: false },
      );
      await AlipayGateway.fromConfig(config).sendGoodsConfirm(shipment);
      expect(live.requests[0]).toMatchObject({ signature: 'valid', charset: 'gbk' });
    } finally {
      await live.close();
    }
  });
});
