import { encode } from 'iconv-lite';
import {
  buildDirectPayRequest,
  buildRefundNopwdRequest,
  buildSingleTradeQueryRequest,
  parseSingleTradeQueryReply,
  type Charset,
  buildRefundPwdRequest,
  buildTradeCreateByBuyerRequest,
  parseResultDetails,
  type SignedRequest,
} from '@ledger/alipay-protocol';
import { checkGatewayRequest, type VerifiedRequest } from './gateway/gateway-request';
import type { Reading } from './gateway/payment-request';
import { ChaosControl } from './notifications/chaos-control';
import type { DeliveryReply } from './notifications/http-transport';
import { notificationKey } from './notifications/notification-params';
import { Notifier } from './notifications/notifier';
import { Sandbox, RETURN_NOTIFY_ID_TTL_MS } from './sandbox.service';
import {
  asGatewayRequest,
  GBK_KEY,
  GBK_PARTNER,
  MD5_KEY,
  MD5_PARTNER,
  RSA_KEYS,
  RSA_PARTNER,
  MERCHANT_MAP,
  MERCHANTS,
  merchantConfig,
  valueOf,
} from './sandbox.fixture';
import { resolveSandboxOptions, type ChaosSettings } from './sandbox-options';
import { canonicalNotifyId, SandboxStore } from './store/sandbox-store';

const NOTIFY_URL = 'http://shop.test/notify';
const REFUND_NOTIFY_URL = 'http://shop.test/refund-notify';

function setup(chaos: ChaosSettings = {}, random: () => number = () => 0.99) {
  let ms = Date.parse('2024-03-05T02:00:00Z');
  const clock = () => new Date(ms);
  const options = resolveSandboxOptions({
    merchants: MERCHANTS,
    clock,
    chaos,
    random,
    publicBaseUrl: 'http://sandbox.test',
  });
  const store = new SandboxStore();
  const control = new ChaosControl(options.chaos);
  const delivered: Record<string, string>[] = [];
  const notifier = new Notifier({
    store,
    chaos: control,
    clock,
    retrySchedule: options.retrySchedule,
    timeScale: 1,
    transport: (delivery): Promise<DeliveryReply> => {
      const params = new URLSearchParams(delivery.body.toString('latin1'));
      delivered.push({ url: delivery.url, ...Object.fromEntries(params) });
      return Promise.resolve({ status: 200, body: 'success' });
    },
    keyFor: (partner, signType) => notificationKey(MERCHANT_MAP.get(partner)!, signType),
    deliveryTimeoutMs: 1000,
    autoDeliver: false,
  });
  const sandbox = new Sandbox(options, store, notifier, control);
  return { sandbox, store, notifier, chaos: control, delivered, clock, advance: (by: number) => (ms += by) };
}

function accepted<T>(reading: Reading<T>): T {
  if (!reading.ok) throw new Error(`${reading.code}: ${reading.detail}`);
  return reading.value;
}

function verified<S extends VerifiedRequest['service']>(
  request: SignedRequest,
  method: 'GET' | 'POST' = 'GET',
) {
  const checked = checkGatewayRequest(asGatewayRequest(request, method), MERCHANT_MAP);
  if (!checked.ok || checked.service === 'notify_verify') throw new Error(JSON.stringify(checked));
  return checked as VerifiedRequest<S>;
}

function directPay(outTradeNo: string, totalFee = 1000, subject = 'tea') {
  return verified<'create_direct_pay_by_user'>(
    valueOf(
      buildDirectPayRequest(merchantConfig(MD5_PARTNER), {
        outTradeNo,
        subject,
        totalFee,
        notifyUrl: NOTIFY_URL,
        returnUrl: 'http://shop.test/return',
      }),
    ),
  );
}

function dualPay(outTradeNo: string) {
  return verified<'trade_create_by_buyer'>(
    valueOf(
      buildTradeCreateByBuyerRequest(merchantConfig(MD5_PARTNER), {
        outTradeNo,
        subject: 'tea set',
        price: 2000,
        quantity: 1,
        logistics: { type: 'EXPRESS', fee: 0, payment: 'SELLER_PAY' },
        notifyUrl: NOTIFY_URL,
      }),
    ),
  );
}

function nopwd(batchNo: string, records: { tradeNo: string; amount: number }[], now: Date) {
  return verified<'refund_fastpay_by_platform_nopwd'>(
    valueOf(
      buildRefundNopwdRequest(merchantConfig(MD5_PARTNER), {
        batchNo,
        refundDate: now,
        records: records.map((r) => ({ ...r, reason: 'customer request' })),
        notifyUrl: REFUND_NOTIFY_URL,
      }),
    ),
    'POST',
  );
}

function paidTrade(env: ReturnType<typeof setup>, outTradeNo: string, totalFee = 1000) {
  const trade = accepted(env.sandbox.receivePayment(directPay(outTradeNo, totalFee)));
  const paid = env.sandbox.act(trade.tradeNo, 'pay-instant');
  if ('ok' in paid) throw new Error(paid.code);
  return paid.trade;
}

describe('Sandbox payments', () => {
  it('creates a trade waiting for payment, and gives the same trade for the same request', () => {
    const { sandbox, store } = setup();
    const first = sandbox.receivePayment(directPay('order-1'));
    const again = sandbox.receivePayment(directPay('order-1'));
    expect(first).toMatchObject({
      ok: true,
      value: { tradeStatus: 'WAIT_BUYER_PAY', terms: { totalFee: 1000 } },
    });
    expect(again.ok && first.ok && again.value.tradeNo).toBe(first.ok && first.value.tradeNo);
    expect(store.listTrades()).toHaveLength(1);
    // docs/alipay-protocol.md, "Instant trades": an instant trade waiting for payment is not notified.
    expect(store.listNotifications()).toHaveLength(0);
  });

  it('refuses the same out_trade_no with other data (TRADE_DATA_MATCH_ERROR), or once paid', () => {
    const env = setup();
    env.sandbox.receivePayment(directPay('order-1'));
    expect(env.sandbox.receivePayment(directPay('order-1', 999))).toMatchObject({
      ok: false,
      code: 'TRADE_DATA_MATCH_ERROR',
      detail: expect.stringContaining('totalFee'),
    });
    paidTrade(env, 'order-2');
    expect(env.sandbox.receivePayment(directPay('order-2'))).toMatchObject({
      ok: false,
      code: 'TRADE_NOT_ALLOWED_PAY',
    });
  });

  it('notifies WAIT_BUYER_PAY for an escrow-capable trade, then each status change', async () => {
    const env = setup();
    const trade = accepted(env.sandbox.receivePayment(dualPay('order-e')));
    env.sandbox.act(trade.tradeNo, 'pay-escrow');
    env.sandbox.act(trade.tradeNo, 'ship');
    env.sandbox.act(trade.tradeNo, 'confirm-receipt');
    await env.notifier.deliverDue();
    expect(env.delivered.map((n) => n.trade_status)).toEqual([
      'WAIT_BUYER_PAY',
      'WAIT_SELLER_SEND_GOODS',
      'WAIT_BUYER_CONFIRM_GOODS',
      'TRADE_FINISHED',
    ]);
    expect(new Set(env.delivered.map((n) => n.notify_id)).size).toBe(4);
  });

  it('gives a return_url whose notify_id notify_verify confirms for about a minute, however it is spelt', () => {
    const env = setup();
    const trade = accepted(env.sandbox.receivePayment(directPay('order-1')));
    const paid = env.sandbox.act(trade.tradeNo, 'pay-instant');
    if ('ok' in paid) throw new Error(paid.code);
    const query = new URL(paid.returnUrl!).search.slice(1);
    // One decoding (what a merchant's framework does) leaves the %2F of the signed value.
    const notifyId = new URLSearchParams(query).get('notify_id')!;
    expect(notifyId).toMatch(/%2[FB]/);
    const verify = (id: string) => env.sandbox.notifyVerify({ partner: MD5_PARTNER, notify_id: id });
    expect(verify(notifyId)).toBe('true');
    expect(verify(canonicalNotifyId(notifyId))).toBe('true');
    expect(env.sandbox.notifyVerify({ partner: '2088000000000002', notify_id: notifyId })).toBe('false');
    env.advance(RETURN_NOTIFY_ID_TTL_MS + 1);
    expect(verify(notifyId)).toBe('false');
  });

  it('answers invalid to notify_verify without its parameters', () => {
    const { sandbox } = setup();
    expect(sandbox.notifyVerify({ partner: MD5_PARTNER })).toBe('invalid');
    expect(sandbox.notifyVerify({ notify_id: 'x' })).toBe('invalid');
    expect(sandbox.notifyVerify({ partner: MD5_PARTNER, notify_id: 'never-sent' })).toBe('false');
  });
});

describe('Sandbox refunds', () => {
  it('refunds a nopwd batch and notifies the batch result and the trade', async () => {
    const env = setup();
    const a = paidTrade(env, 'order-a', 1000);
    const b = paidTrade(env, 'order-b', 500);
    await env.notifier.deliverDue();
    env.delivered.length = 0;
    const batch = env.sandbox.receiveRefund(
      nopwd(
        '20240305001',
        [
          { tradeNo: a.tradeNo, amount: 300 },
          { tradeNo: b.tradeNo, amount: 500 },
        ],
        env.clock(),
      ),
    );
    expect(batch).toMatchObject({ ok: true, value: { state: 'processed', successNum: 2 } });
    await env.notifier.deliverDue();
    const [batchNotify, ...tradeNotifies] = env.delivered;
    expect(batchNotify).toMatchObject({
      url: REFUND_NOTIFY_URL,
      notify_type: 'batch_refund_notify',
      batch_no: '20240305001',
      success_num: '2',
    });
    expect(valueOf(parseResultDetails(batchNotify.result_details))).toEqual([
      { tradeNo: a.tradeNo, amount: 300, code: 'SUCCESS' },
      { tradeNo: b.tradeNo, amount: 500, code: 'SUCCESS' },
    ]);
    expect(tradeNotifies.map((n) => [n.out_trade_no, n.trade_status, n.refund_status])).toEqual([
      ['order-a', 'TRADE_SUCCESS', 'REFUND_SUCCESS'],
      ['order-b', 'TRADE_CLOSED', 'REFUND_SUCCESS'],
    ]);
  });

  it('reports per-record failures: too much, already closed, unknown', () => {
    const env = setup();
    const a = paidTrade(env, 'order-a', 1000);
    env.sandbox.receiveRefund(nopwd('20240305001', [{ tradeNo: a.tradeNo, amount: 1000 }], env.clock()));
    const b = paidTrade(env, 'order-b', 500);
    const batch = env.sandbox.receiveRefund(
      nopwd(
        '20240305002',
        [
          { tradeNo: a.tradeNo, amount: 1 },
          { tradeNo: b.tradeNo, amount: 501 },
          { tradeNo: '2024030521001004999999999999', amount: 1 },
        ],
        env.clock(),
      ),
    );
    expect(batch.ok && batch.value.results?.map((r) => r.code)).toEqual([
      'TRADE_HAS_CLOSED',
      'REASON_TRADE_REFUND_FEE_ERR',
      'TRADE_NOT_EXIST',
    ]);
    expect(batch.ok && batch.value.successNum).toBe(0);
  });

  it('refuses a batch_no used before with DUPLICATE_BATCH_NO', () => {
    const env = setup();
    const a = paidTrade(env, 'order-a');
    const request = nopwd('20240305001', [{ tradeNo: a.tradeNo, amount: 100 }], env.clock());
    expect(env.sandbox.receiveRefund(request)).toMatchObject({ ok: true });
    expect(env.sandbox.receiveRefund(request)).toMatchObject({ ok: false, code: 'DUPLICATE_BATCH_NO' });
    expect(env.store.trade(a.tradeNo)?.refundedFee).toBe(100);
  });

  it('waits for the confirmation of a pwd batch, shows it again for the same request, then refunds', () => {
    const env = setup();
    const a = paidTrade(env, 'order-a');
    const request = verified<'refund_fastpay_by_platform_pwd'>(
      valueOf(
        buildRefundPwdRequest(merchantConfig(MD5_PARTNER), {
          batchNo: '20240305001',
          refundDate: env.clock(),
          records: [{ tradeNo: a.tradeNo, amount: 100, reason: 'r' }],
          notifyUrl: REFUND_NOTIFY_URL,
        }),
      ),
    );
    expect(env.sandbox.receiveRefund(request)).toMatchObject({
      ok: true,
      value: { state: 'awaiting_confirmation' },
    });
    expect(env.sandbox.receiveRefund(request)).toMatchObject({
      ok: true,
      value: { state: 'awaiting_confirmation' },
    });
    expect(env.store.trade(a.tradeNo)?.refundedFee).toBe(0);
    expect(env.sandbox.decidePwdBatch(MD5_PARTNER, '20240305001', true)).toMatchObject({
      state: 'processed',
      successNum: 1,
    });
    expect(env.sandbox.decidePwdBatch(MD5_PARTNER, '20240305001', true)).toMatchObject({
      ok: false,
      code: 'DUPLICATE_BATCH_NO',
    });
    expect(env.sandbox.receiveRefund(request)).toMatchObject({ ok: false, code: 'DUPLICATE_BATCH_NO' });
    expect(env.store.trade(a.tradeNo)?.refundedFee).toBe(100);
  });

  it('fails a share of the records with the refund failure chaos, refunding nothing for them', () => {
    const draws = [0.1, 0.9];
    const env = setup({ refundFailures: { ratio: 0.5, code: 'TXN_RESULT_ACCOUNT_BALANCE_NOT_ENOUGH' } }, () =>
      draws.shift()!,
    );
    const a = paidTrade(env, 'order-a');
    const b = paidTrade(env, 'order-b');
    const batch = accepted(
      env.sandbox.receiveRefund(
        nopwd(
          '20240305001',
          [
            { tradeNo: a.tradeNo, amount: 100 },
            { tradeNo: b.tradeNo, amount: 100 },
          ],
          env.clock(),
        ),
      ),
    );
    expect(batch.results?.map((r) => r.code)).toEqual(['TXN_RESULT_ACCOUNT_BALANCE_NOT_ENOUGH', 'SUCCESS']);
    expect(batch.successNum).toBe(1);
    expect([env.store.trade(a.tradeNo)?.refundedFee, env.store.trade(b.tradeNo)?.refundedFee]).toEqual([
      0, 100,
    ]);
  });

  it('fails the trades it names with the refund failure chaos, set at run time', () => {
    const env = setup();
    const a = paidTrade(env, 'order-a');
    const b = paidTrade(env, 'order-b');
    expect(env.chaos.replace({ refundFailures: { tradeNos: [a.tradeNo] } })).toEqual([]);
    const batch = accepted(
      env.sandbox.receiveRefund(
        nopwd(
          '20240305001',
          [
            { tradeNo: a.tradeNo, amount: 100 },
            { tradeNo: b.tradeNo, amount: 100 },
          ],
          env.clock(),
        ),
      ),
    );
    expect(batch.results?.map((r) => r.code)).toEqual(['SELLER_BALANCE_NOT_ENOUGH', 'SUCCESS']);
    expect(env.store.trade(a.tradeNo)?.refundedFee).toBe(0);
  });
});

describe('Sandbox chaos on trade notifications', () => {
  it('sends the previous status again after each change with the stale chaos', async () => {
    const env = setup({ staleStatuses: true });
    const trade = accepted(env.sandbox.receivePayment(dualPay('order-e')));
    env.sandbox.act(trade.tradeNo, 'pay-escrow');
    env.sandbox.act(trade.tradeNo, 'ship');
    await env.notifier.deliverDue();
    expect(env.delivered.map((n) => n.trade_status)).toEqual([
      'WAIT_BUYER_PAY',
      'WAIT_SELLER_SEND_GOODS',
      'WAIT_BUYER_PAY',
      'WAIT_BUYER_CONFIRM_GOODS',
      'WAIT_SELLER_SEND_GOODS',
    ]);
    expect(new Set(env.delivered.map((n) => n.notify_id)).size).toBe(5);
    expect(env.store.listNotifications().filter((n) => n.tags.includes('stale'))).toHaveLength(2);
  });

  it('follows a refund with TRADE_FINISHED with that chaos, leaving the trade as the refund made it', async () => {
    const env = setup({ finishedAfterRefund: true });
    const a = paidTrade(env, 'order-a', 1000);
    env.sandbox.receiveRefund(nopwd('20240305001', [{ tradeNo: a.tradeNo, amount: 1000 }], env.clock()));
    await env.notifier.deliverDue();
    expect(
      env.delivered
        .filter((n) => n.notify_type === 'trade_status_sync')
        .map((n) => [n.trade_status, n.refund_status]),
    ).toEqual([
      ['TRADE_SUCCESS', undefined],
      ['TRADE_CLOSED', 'REFUND_SUCCESS'],
      ['TRADE_FINISHED', 'REFUND_SUCCESS'],
    ]);
    expect(env.store.trade(a.tradeNo)?.tradeStatus).toBe('TRADE_CLOSED');
  });
});

describe('Sandbox trade query', () => {
  function query(partner: string, q: { outTradeNo?: string; tradeNo?: string }, charset: Charset = 'utf-8') {
    return verified<'single_trade_query'>(
      valueOf(buildSingleTradeQueryRequest(merchantConfig(partner, charset), q)),
    );
  }
  const md5 = { signType: 'MD5' as const, md5Keys: [MD5_KEY], charset: 'utf-8' as const };

  it('answers the trade as it stands, signed, by out_trade_no or trade_no', () => {
    const env = setup();
    const waiting = accepted(env.sandbox.receivePayment(directPay('order-q', 1234, '茶 & 点心')));
    const before = valueOf(
      parseSingleTradeQueryReply(
        env.sandbox.queryTrade(query(MD5_PARTNER, { outTradeNo: 'order-q' })).body,
        md5,
      ),
    );
    expect(before).toMatchObject({
      status: 'found',
      trade: {
        tradeNo: waiting.tradeNo,
        tradeStatus: 'WAIT_BUYER_PAY',
        totalFee: 1234,
        subject: '茶 & 点心',
      },
      request: { service: 'single_trade_query', out_trade_no: 'order-q' },
    });
    env.sandbox.act(waiting.tradeNo, 'pay-instant');
    const answer = env.sandbox.queryTrade(query(MD5_PARTNER, { tradeNo: waiting.tradeNo }));
    expect(answer.contentType).toBe('text/xml; charset=utf-8');
    expect(valueOf(parseSingleTradeQueryReply(answer.body, md5))).toMatchObject({
      status: 'found',
      trade: {
        tradeStatus: 'TRADE_SUCCESS',
        gmtPayment: env.clock(),
        buyerId: expect.stringMatching(/^2088/),
        useCoupon: false,
        toSellerFee: 1234,
      },
    });
  });

  it('answers TRADE_IS_NOT_EXIST for an unknown trade and for another partner’s', () => {
    const env = setup();
    const trade = paidTrade(env, 'order-mine');
    for (const request of [
      query(MD5_PARTNER, { outTradeNo: 'order-unknown' }),
      query(MD5_PARTNER, { tradeNo: '2024030521001004370000000000' }),
      query(GBK_PARTNER, { tradeNo: trade.tradeNo }),
      query(GBK_PARTNER, { outTradeNo: 'order-mine' }),
    ]) {
      const reply = valueOf(parseSingleTradeQueryReply(env.sandbox.queryTrade(request).body, md5));
      expect(reply).toMatchObject({ status: 'not_found', error: 'TRADE_IS_NOT_EXIST' });
    }
  });

  it('answers a GBK merchant in GBK, signed over GBK bytes, and an RSA merchant with Alipay’s key', () => {
    const env = setup();
    const gbkPay = verified<'create_direct_pay_by_user'>(
      valueOf(
        buildDirectPayRequest(merchantConfig(GBK_PARTNER, 'gbk'), {
          outTradeNo: 'order-gbk',
          subject: '测试商品',
          totalFee: 100,
          notifyUrl: NOTIFY_URL,
        }),
      ),
    );
    accepted(env.sandbox.receivePayment(gbkPay));
    const answer = env.sandbox.queryTrade(query(GBK_PARTNER, { outTradeNo: 'order-gbk' }, 'gbk'));
    expect(answer.contentType).toBe('text/xml; charset=GBK');
    expect(answer.body.includes(encode('测试商品', 'gbk'))).toBe(true);
    const gbkOptions = { signType: 'MD5' as const, md5Keys: [GBK_KEY], charset: 'gbk' as const };
    expect(valueOf(parseSingleTradeQueryReply(answer.body, gbkOptions))).toMatchObject({
      status: 'found',
      charset: 'gbk',
      trade: { subject: '测试商品' },
    });

    const rsaPay = verified<'create_direct_pay_by_user'>(
      valueOf(
        buildDirectPayRequest(merchantConfig(RSA_PARTNER), {
          outTradeNo: 'order-rsa',
          subject: 'tea',
          totalFee: 100,
        }),
      ),
    );
    accepted(env.sandbox.receivePayment(rsaPay));
    const rsaAnswer = env.sandbox.queryTrade(query(RSA_PARTNER, { outTradeNo: 'order-rsa' }));
    const rsaOptions = {
      signType: 'RSA' as const,
      alipayPublicKeyPem: RSA_KEYS.alipay.publicKey,
      charset: 'utf-8' as const,
    };
    expect(valueOf(parseSingleTradeQueryReply(rsaAnswer.body, rsaOptions))).toMatchObject({
      status: 'found',
    });
    // Verified with the merchant's own public key it is not Alipay's answer.
    const wrongKey = { ...rsaOptions, alipayPublicKeyPem: RSA_KEYS.merchant.publicKey };
    expect(valueOf(parseSingleTradeQueryReply(rsaAnswer.body, wrongKey)).status).toBe('unverified');
  });
});

describe('Sandbox trade query across charsets', () => {
  it('answers ILLEGAL_ENCODING when a GBK query cannot carry a UTF-8 trade’s text', () => {
    const env = setup();
    accepted(env.sandbox.receivePayment(directPay('order-emoji', 100, 'tea 🍵')));
    const request = verified<'single_trade_query'>(
      valueOf(
        buildSingleTradeQueryRequest(merchantConfig(MD5_PARTNER, 'gbk'), { outTradeNo: 'order-emoji' }),
      ),
    );
    const reply = valueOf(
      parseSingleTradeQueryReply(env.sandbox.queryTrade(request).body, {
        signType: 'MD5',
        md5Keys: [MD5_KEY],
        charset: 'gbk',
      }),
    );
    expect(reply).toMatchObject({ status: 'rejected', error: 'ILLEGAL_ENCODING', charset: 'gbk' });
  });
});

describe('Sandbox chaos: Alipay gave up', () => {
  it('sends no notification at all while the trade moves, and the query still tells the truth', async () => {
    const env = setup({ dropNotifications: true });
    const trade = accepted(env.sandbox.receivePayment(dualPay('order-silent')));
    env.sandbox.act(trade.tradeNo, 'pay-escrow');
    await env.notifier.flush({ all: true });
    expect(env.delivered).toEqual([]);
    const recorded = env.store.listNotifications({ tradeNo: trade.tradeNo });
    expect(
      recorded.map((n) => [n.tradeStatus, n.state, n.attempts.length, n.tags.includes('dropped')]),
    ).toEqual([
      ['WAIT_BUYER_PAY', 'abandoned', 0, true],
      ['WAIT_SELLER_SEND_GOODS', 'abandoned', 0, true],
    ]);
    const reply = valueOf(
      parseSingleTradeQueryReply(
        env.sandbox.queryTrade(
          verified<'single_trade_query'>(
            valueOf(
              buildSingleTradeQueryRequest(merchantConfig(MD5_PARTNER), { outTradeNo: 'order-silent' }),
            ),
          ),
        ).body,
        { signType: 'MD5', md5Keys: [MD5_KEY], charset: 'utf-8' },
      ),
    );
    expect(reply).toMatchObject({ status: 'found', trade: { tradeStatus: 'WAIT_SELLER_SEND_GOODS' } });

    // Turned off, the next change is notified again.
    env.chaos.replace({});
    env.sandbox.act(trade.tradeNo, 'ship');
    await env.notifier.deliverDue();
    expect(env.delivered.map((n) => n.trade_status)).toEqual(['WAIT_BUYER_CONFIRM_GOODS']);
  });
});
