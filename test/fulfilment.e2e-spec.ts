import { loadConfig } from '@ledger/platform';
import {
  createTestDatabase,
  newTradeNo,
  startFakeAlipayGateway,
  type FakeAlipayGateway,
  type TestDatabase,
} from '@ledger/testing';
import { createLedgerApp, type LedgerApp } from '../apps/ledger/src/ledger-app';
import { ADMIN_TOKEN, LedgerClient, countOf, has, newOutTradeNo } from './fulfilment.fixture';

// Delivery decisions acted on over HTTP (docs/product-rules.md, "Delivery decisions"; docs/fulfilment.md,
// "Escrow shipping"): a paid order is delivered once, an escrow trade's shipping is confirmed to Alipay once
// (retried when the gateway fails), an instant trade's never, an anomalous order is never delivered.

describe('fulfilment of paid orders', () => {
  let database: TestDatabase;
  let gateway: FakeAlipayGateway;
  let ledger: LedgerApp;
  let client: LedgerClient;

  beforeAll(async () => {
    gateway = await startFakeAlipayGateway();
    database = await createTestDatabase('fulfilment_e2e');
    const config = loadConfig(
      { LEDGER_MODE: 'demo', ADMIN_TOKEN, ALIPAY_GATEWAY: gateway.url, LOG_LEVEL: 'fatal' },
      { envFile: false },
    );
    ledger = await createLedgerApp(config, { database });
    await ledger.app.listen(0, '127.0.0.1');
    client = new LedgerClient(await ledger.app.getUrl());
  });

  afterAll(async () => {
    await ledger?.close();
    await database?.close();
    await gateway?.close();
  });

  /** An escrow order placed and paid into escrow over HTTP. */
  async function paidEscrowOrder(prefix: string, tradeNo = newTradeNo()): Promise<string> {
    const outTradeNo = newOutTradeNo(prefix);
    await client.placeOrder(outTradeNo, 'trade_create_by_buyer');
    const facts = { outTradeNo, tradeNo, service: 'trade_create_by_buyer' } as const;
    await client.notify({ ...facts, tradeStatus: 'WAIT_BUYER_PAY' });
    await client.notify({ ...facts, tradeStatus: 'WAIT_SELLER_SEND_GOODS' });
    return outTradeNo;
  }

  it('delivers an escrow order once and confirms its shipping once, retrying after a failed call', async () => {
    const tradeNo = newTradeNo();
    gateway.script('send_goods_confirm_by_platform', tradeNo, 'down', 'T');
    const outTradeNo = await paidEscrowOrder('ESCROW', tradeNo);

    const events = await client.historyWhen(outTradeNo, has('ShippingConfirmed'));
    expect(events.map((event) => event.type)).toEqual([
      'OrderPlaced',
      'PaymentAwaited',
      'PaymentSucceeded',
      'DeliveryCompleted',
      'ShippingConfirmationFailed',
      'ShippingConfirmed',
    ]);
    expect(events[2].data).toMatchObject({ paymentType: 'escrow' });
    expect(events[4].data).toMatchObject({ tradeNo, attempt: 1, code: 'UNREACHABLE', retryable: true });
    expect(events[5].data).toMatchObject({ tradeNo, attempt: 2 });
    const calls = gateway.requestsFor('send_goods_confirm_by_platform', tradeNo);
    expect(calls.map((call) => call.answer)).toEqual(['down', 'T']);
    expect(calls[1]).toMatchObject({ signature: 'valid', params: { trade_no: tradeNo } });

    // Alipay then reports the goods shipped, and re-sends an older notification: nothing is done again.
    const facts = { outTradeNo, tradeNo, service: 'trade_create_by_buyer' } as const;
    await client.notify({ ...facts, tradeStatus: 'WAIT_BUYER_CONFIRM_GOODS' });
    await client.notify({ ...facts, tradeStatus: 'WAIT_SELLER_SEND_GOODS' });
    // A later order confirmed proves the worker has been over the lists since.
    const later = await paidEscrowOrder('LATER');
    await client.historyWhen(later, has('ShippingConfirmed'));
    const after = await client.history(outTradeNo);
    expect(countOf(after, 'DeliveryCompleted')).toBe(1);
    expect(countOf(after, 'ShippingConfirmed')).toBe(1);
    expect(after.at(-1)?.type).toBe('GoodsShipped');
    expect(gateway.requestsFor('send_goods_confirm_by_platform', tradeNo)).toHaveLength(2);
  });

  it('delivers an instant trade without confirming shipping, and never an anomalous order', async () => {
    const instant = newOutTradeNo('INSTANT');
    const instantTradeNo = newTradeNo();
    await client.placeOrder(instant, 'create_direct_pay_by_user');
    await client.notify({ outTradeNo: instant, tradeNo: instantTradeNo, tradeStatus: 'TRADE_SUCCESS' });

    // Paid into escrow with another amount than the order's: an anomaly, never paid, never delivered.
    const anomalous = newOutTradeNo('ANOMALY');
    const anomalousTradeNo = newTradeNo();
    await client.placeOrder(anomalous, 'trade_create_by_buyer');
    const facts = {
      outTradeNo: anomalous,
      tradeNo: anomalousTradeNo,
      service: 'trade_create_by_buyer',
    } as const;
    await client.notify({ ...facts, tradeStatus: 'WAIT_BUYER_PAY', totalFee: '0.01' });
    await client.notify({ ...facts, tradeStatus: 'WAIT_SELLER_SEND_GOODS', totalFee: '0.01' });

    const instantEvents = await client.historyWhen(instant, has('DeliveryCompleted'));
    const later = await paidEscrowOrder('LATER');
    await client.historyWhen(later, has('ShippingConfirmed'));

    expect((await client.history(instant)).map((event) => event.type)).toEqual([
      'OrderPlaced',
      'PaymentSucceeded',
      'DeliveryCompleted',
    ]);
    expect(instantEvents[1].data).toMatchObject({ paymentType: 'instant' });
    expect(gateway.requestsFor('send_goods_confirm_by_platform', instantTradeNo)).toHaveLength(0);

    const anomalousEvents = await client.history(anomalous);
    expect(anomalousEvents.map((event) => event.type)).toContain('AnomalyDetected');
    expect(anomalousEvents.map((event) => event.type)).not.toContain('DeliveryCompleted');
    expect(gateway.requestsFor('send_goods_confirm_by_platform', anomalousTradeNo)).toHaveLength(0);
  });

  it('records a refusal for good and stops calling', async () => {
    const tradeNo = newTradeNo();
    gateway.script('send_goods_confirm_by_platform', tradeNo, { error: 'TRADE_NOT_EXIST' });
    const outTradeNo = await paidEscrowOrder('REFUSED', tradeNo);
    const events = await client.historyWhen(outTradeNo, has('ShippingConfirmationFailed'));
    expect(events.at(-1)?.data).toMatchObject({ attempt: 1, code: 'TRADE_NOT_EXIST', retryable: false });

    const later = await paidEscrowOrder('LATER');
    await client.historyWhen(later, has('ShippingConfirmed'));
    expect(gateway.requestsFor('send_goods_confirm_by_platform', tradeNo)).toHaveLength(1);
    const admin = await fetch(`${client.baseUrl}/admin/orders/${outTradeNo}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(await admin.json()).toMatchObject({ delivery: { state: 'delivered' } });
  });
});
