import { newNotifyId, newTradeNo, signedNotification, tradeStatusSyncParams } from '@ledger/testing';
import { ProjectionsService } from '@ledger/projections';
import {
  ADMIN_TOKEN,
  FORGED_KEY,
  eventTypes,
  inboxRows,
  newOutTradeNo,
  notify,
  placeOrder,
  startLedger,
  tradeNotification,
  type RunningLedger,
} from './alipay-notify.fixture';

// Payment notifications over HTTP against a running ledger: the instant and escrow
// flows, arrival out of order, duplicates and concurrent deliveries, the return_url alone.

describe('POST /alipay/notify', () => {
  let running: RunningLedger;

  beforeAll(async () => {
    running = await startLedger('alipay_notify');
  });

  afterAll(async () => {
    await running?.close();
  });

  it('records an instant payment, answers exactly success, and keeps the raw notification with its evidence', async () => {
    const outTradeNo = newOutTradeNo('INSTANT');
    const tradeNo = newTradeNo();
    await placeOrder(running.commands, outTradeNo);
    const notification = tradeNotification({
      outTradeNo,
      tradeNo,
      tradeStatus: 'TRADE_SUCCESS',
      totalFee: '12.34',
    });

    const reply = await notify(running, notification);
    expect(reply).toEqual({ status: 200, text: 'success' });

    const events = await running.store.readStream(`order-${outTradeNo}`);
    expect(events.map((event) => event.type)).toEqual(['OrderPlaced', 'PaymentSucceeded']);
    expect(events[1].data).toMatchObject({
      paymentType: 'instant',
      paidFee: 1234,
      tradeNo,
      source: 'notify',
    });

    const [row] = await inboxRows(running, outTradeNo);
    expect(events[1].metadata.causationId).toBe(String(row.id));
    const stored = await running.inbox.get(row.id);
    expect(Buffer.from(stored.body.base64!, 'base64').equals(notification.body)).toBe(true);
    expect(stored).toMatchObject({
      channel: 'notify',
      method: 'POST',
      path: '/alipay/notify',
      contentType: notification.contentType,
      outcome: 'applied',
      verified: true,
      notifyId: notification.params.find((p) => p.name === 'notify_id')?.value,
      verification: { outcome: 'VERIFIED', matchedKeyIndex: 0, charset: 'utf-8' },
      notifyVerify: { answer: true, body: 'true' },
      outcomeDetail: { outcome: 'applied', events: [{ type: 'PaymentSucceeded', version: 2 }] },
    });
    expect(stored.headers['user-agent']).toBe('Mozilla/4.0');
    expect(stored.remoteAddress).toMatch(/127\.0\.0\.1/);
    expect(stored.notifyVerify).toHaveProperty('latencyMs');

    const finished = tradeNotification({
      outTradeNo,
      tradeNo,
      tradeStatus: 'TRADE_FINISHED',
      totalFee: '12.34',
    });
    expect(await notify(running, finished)).toEqual({ status: 200, text: 'success' });
    // TRADE_FINISHED after a payment is not a second payment (docs/product-rules.md,
    // "One payment per trade").
    expect(await eventTypes(running, outTradeNo)).toEqual([
      'OrderPlaced',
      'PaymentSucceeded',
      'TradeFinished',
    ]);
  });

  it('answers without waiting for the projections, and the admin read that follows shows the payment', async () => {
    const projections = running.ledger.app.get(ProjectionsService);
    const outTradeNo = newOutTradeNo('READ');
    await placeOrder(running.commands, outTradeNo);
    // With the projections stopped, the reply cannot have waited for them: Alipay reads none.
    await projections.beforeApplicationShutdown();
    try {
      const reply = await notify(
        running,
        tradeNotification({
          outTradeNo,
          tradeNo: newTradeNo(),
          tradeStatus: 'TRADE_SUCCESS',
          totalFee: '12.34',
        }),
      );
      expect(reply.text).toBe('success');
      const [row] = await running.database.dataSource.query<{ status: string }[]>(
        `SELECT status FROM order_status WHERE out_trade_no = $1`,
        [outTradeNo],
      );
      expect(row?.status).not.toBe('paid');
    } finally {
      await projections.onApplicationBootstrap();
    }
    // The admin read waits until the projections, running again, show every acknowledged write.
    const response = await fetch(`${running.baseUrl}/admin/orders/${outTradeNo}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'paid', paidFee: '12.34' });
  });

  it('follows an escrow trade through shipping to the end', async () => {
    const outTradeNo = newOutTradeNo('ESCROW');
    const tradeNo = newTradeNo();
    await placeOrder(running.commands, outTradeNo, { service: 'trade_create_by_buyer' });
    for (const tradeStatus of [
      'WAIT_BUYER_PAY',
      'WAIT_BUYER_PAY',
      'WAIT_SELLER_SEND_GOODS',
      'WAIT_BUYER_CONFIRM_GOODS',
      'TRADE_FINISHED',
    ]) {
      const reply = await notify(
        running,
        tradeNotification({
          outTradeNo,
          tradeNo,
          tradeStatus,
          totalFee: '12.34',
          service: 'trade_create_by_buyer',
        }),
      );
      expect(reply).toEqual({ status: 200, text: 'success' });
    }
    const events = await running.store.readStream(`order-${outTradeNo}`);
    expect(events.map((event) => event.type)).toEqual([
      'OrderPlaced',
      'PaymentAwaited',
      'PaymentSucceeded',
      'GoodsShipped',
      'TradeFinished',
    ]);
    expect(events[2].data).toMatchObject({ paymentType: 'escrow' });
    const outcomes = (await inboxRows(running, outTradeNo)).map((row) => row.outcome);
    // The second WAIT_BUYER_PAY (logistics filled in, docs/alipay-protocol.md, "Payment requests") is a
    // genuine notification with no new fact.
    expect(outcomes).toEqual(['applied', 'no_new_fact', 'applied', 'applied', 'applied']);
  });

  it('applies statuses that arrive out of order once, and never moves an order backwards', async () => {
    const outTradeNo = newOutTradeNo('ORDER');
    const tradeNo = newTradeNo();
    await placeOrder(running.commands, outTradeNo);
    for (const tradeStatus of ['TRADE_FINISHED', 'TRADE_SUCCESS', 'WAIT_BUYER_PAY']) {
      const reply = await notify(
        running,
        tradeNotification({ outTradeNo, tradeNo, tradeStatus, totalFee: '12.34' }),
      );
      expect(reply).toEqual({ status: 200, text: 'success' });
    }
    // TRADE_FINISHED first records the payment it implies; the late ones bring nothing.
    expect(await eventTypes(running, outTradeNo)).toEqual([
      'OrderPlaced',
      'PaymentSucceeded',
      'TradeFinished',
    ]);
    expect((await inboxRows(running, outTradeNo)).map((row) => row.outcomeDetail)).toEqual([
      expect.objectContaining({ outcome: 'applied' }),
      expect.objectContaining({ outcome: 'no_new_fact', reason: 'stale' }),
      expect.objectContaining({ outcome: 'no_new_fact', reason: 'stale' }),
    ]);
  });

  it('answers a retry of a processed notification success without asking the gateway again', async () => {
    const outTradeNo = newOutTradeNo('RETRY');
    const notifyId = newNotifyId();
    await placeOrder(running.commands, outTradeNo);
    const notification = tradeNotification({
      outTradeNo,
      tradeNo: newTradeNo(),
      tradeStatus: 'TRADE_SUCCESS',
      totalFee: '12.34',
      notifyId,
    });
    expect((await notify(running, notification)).text).toBe('success');
    // Alipay's retry: same notify_id, a new notify_time and signature (docs/alipay-protocol.md,
    // "Reply and retries").
    const retry = tradeNotification({
      outTradeNo,
      tradeNo: notification.params.find((p) => p.name === 'trade_no')!.value,
      tradeStatus: 'TRADE_SUCCESS',
      totalFee: '12.34',
      notifyId,
      notifyTime: new Date(Date.now() + 240_000),
    });
    expect((await notify(running, retry)).text).toBe('success');

    const rows = await inboxRows(running, outTradeNo);
    expect(rows.map((row) => row.outcomeDetail)).toEqual([
      expect.objectContaining({ outcome: 'applied' }),
      { outcome: 'no_new_fact', reason: 'duplicate', duplicateOf: rows[0].id },
    ]);
    expect(rows[1].notifyVerify).toMatchObject({ answer: null, skipped: 'already_processed' });
    expect(running.gateway.requestsFor('notify_verify', notifyId)).toHaveLength(1);
    expect(await eventTypes(running, outTradeNo)).toEqual(['OrderPlaced', 'PaymentSucceeded']);
  });

  it('records one PaymentSucceeded for the same notification delivered six times at once', async () => {
    const outTradeNo = newOutTradeNo('SIX');
    await placeOrder(running.commands, outTradeNo);
    const notification = tradeNotification({
      outTradeNo,
      tradeNo: newTradeNo(),
      tradeStatus: 'TRADE_SUCCESS',
      totalFee: '12.34',
    });
    const replies = await Promise.all(Array.from({ length: 6 }, () => notify(running, notification)));
    expect(replies).toEqual(Array.from({ length: 6 }, () => ({ status: 200, text: 'success' })));
    expect(await eventTypes(running, outTradeNo)).toEqual(['OrderPlaced', 'PaymentSucceeded']);
    const rows = await inboxRows(running, outTradeNo);
    expect(rows).toHaveLength(6);
    expect(rows.filter((row) => row.outcome === 'applied')).toHaveLength(1);
    expect(rows.filter((row) => row.outcome === 'no_new_fact')).toHaveLength(5);
  });

  it('applies different statuses of one order racing each other exactly once each', async () => {
    const outTradeNo = newOutTradeNo('RACE');
    const tradeNo = newTradeNo();
    await placeOrder(running.commands, outTradeNo, { service: 'trade_create_by_buyer' });
    const statuses = [
      'WAIT_BUYER_PAY',
      'WAIT_SELLER_SEND_GOODS',
      'WAIT_BUYER_CONFIRM_GOODS',
      'TRADE_FINISHED',
    ];
    const replies = await Promise.all(
      statuses.map((tradeStatus) =>
        notify(
          running,
          tradeNotification({
            outTradeNo,
            tradeNo,
            tradeStatus,
            totalFee: '12.34',
            service: 'trade_create_by_buyer',
          }),
        ),
      ),
    );
    expect(replies.map((reply) => reply.text)).toEqual(['success', 'success', 'success', 'success']);
    const types = await eventTypes(running, outTradeNo);
    // Which status wins the race decides what the others imply (TRADE_FINISHED first reads as instant);
    // whatever the order, each fact is recorded once and the trade ends paid and finished.
    expect(types.filter((type) => type === 'PaymentSucceeded')).toHaveLength(1);
    expect(types.filter((type) => type === 'TradeFinished')).toHaveLength(1);
    expect(new Set(types).size).toBe(types.length);
    const outcomes = (await inboxRows(running, outTradeNo)).map((row) => row.outcome);
    expect(outcomes).toHaveLength(4);
    expect(outcomes.every((outcome) => outcome === 'applied' || outcome === 'no_new_fact')).toBe(true);
  });

  it('records a mismatched amount or seller, and an unknown order, as anomalies that never pay', async () => {
    const outTradeNo = newOutTradeNo('MISMATCH');
    await placeOrder(running.commands, outTradeNo);
    const wrongAmount = tradeNotification({
      outTradeNo,
      tradeNo: newTradeNo(),
      tradeStatus: 'TRADE_SUCCESS',
      totalFee: '0.01',
    });
    expect((await notify(running, wrongAmount)).text).toBe('success');
    const wrongSeller = tradeNotification({
      outTradeNo,
      tradeNo: newTradeNo(),
      tradeStatus: 'TRADE_SUCCESS',
      totalFee: '12.34',
      sellerId: '2088999999999999',
    });
    expect((await notify(running, wrongSeller)).text).toBe('success');
    const events = await running.store.readStream(`order-${outTradeNo}`);
    expect(events.map((event) => [event.type, (event.data as { kind?: string }).kind])).toEqual([
      ['OrderPlaced', undefined],
      ['AnomalyDetected', 'amount_mismatch'],
      ['AnomalyDetected', 'seller_mismatch'],
    ]);

    const unknown = newOutTradeNo('UNKNOWN');
    const reply = await notify(
      running,
      tradeNotification({
        outTradeNo: unknown,
        tradeNo: newTradeNo(),
        tradeStatus: 'TRADE_SUCCESS',
        totalFee: '1.00',
      }),
    );
    expect(reply.text).toBe('success');
    const unknownEvents = await running.store.readStream(`order-${unknown}`);
    expect(unknownEvents.map((event) => [event.type, (event.data as { kind?: string }).kind])).toEqual([
      ['AnomalyDetected', 'unknown_order'],
    ]);
  });
});

describe('GET /alipay/return', () => {
  let running: RunningLedger;

  beforeAll(async () => {
    running = await startLedger('alipay_return');
  });

  afterAll(async () => {
    await running?.close();
  });

  /** A return_url query as Alipay builds it: `is_success`, `exterface`, a double-encoded notify_id. */
  function returnQuery(outTradeNo: string, tradeNo: string, totalFee = '12.34') {
    const params = tradeStatusSyncParams({
      outTradeNo,
      tradeNo,
      tradeStatus: 'TRADE_SUCCESS',
      totalFee,
      notifyId: `RqPnCoPT3K9%2Fvwbh3InWes5p8ZRYIdWn4DYf${newNotifyId().slice(0, 10)}`,
      extra: { is_success: 'T', exterface: 'create_direct_pay_by_user' },
    });
    return signedNotification(params);
  }

  it('records the payment from the redirect alone and tells the buyer it is paid', async () => {
    const outTradeNo = newOutTradeNo('RETURN');
    const tradeNo = newTradeNo();
    await placeOrder(running.commands, outTradeNo);
    const query = returnQuery(outTradeNo, tradeNo);
    expect(query.text).toContain('notify_id=RqPnCoPT3K9%252Fvwbh');

    const response = await fetch(`${running.baseUrl}/alipay/return?${query.text}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await response.text();
    expect(page).toContain('Payment received');
    expect(page).toContain(outTradeNo);
    expect(page).toContain('12.34');

    const events = await running.store.readStream(`order-${outTradeNo}`);
    expect(events.map((event) => event.type)).toEqual(['OrderPlaced', 'PaymentSucceeded']);
    expect(events[1].data).toMatchObject({ source: 'return' });
    const [row] = await inboxRows(running, outTradeNo);
    expect(row).toMatchObject({ channel: 'return', method: 'GET', outcome: 'applied', verified: true });
    // Alipay signs the once-decoded notify_id, %2F included (docs/alipay-protocol.md, "Decoding pitfalls"),
    // and notify_verify gets it so, as the demos send it: the gateway's own decoding then reads a '/'.
    expect(row.notifyId).toMatch(/^RqPnCoPT3K9%2Fvwbh/);
    const asked = running.gateway
      .requestsFor('notify_verify')
      .filter((request) => request.url.includes(`notify_id=${row.notifyId}`));
    expect(asked).toHaveLength(1);

    // The notification that follows brings nothing new, and a reload of the page still says paid.
    const later = tradeNotification({ outTradeNo, tradeNo, tradeStatus: 'TRADE_SUCCESS', totalFee: '12.34' });
    expect((await notify(running, later)).text).toBe('success');
    expect(await eventTypes(running, outTradeNo)).toEqual(['OrderPlaced', 'PaymentSucceeded']);
    const reload = await fetch(`${running.baseUrl}/alipay/return?${query.text}`);
    expect(await reload.text()).toContain('Payment received');
  });

  it('tells the buyer when a redirect cannot be verified, and keeps it', async () => {
    const outTradeNo = newOutTradeNo('FORGED-RETURN');
    await placeOrder(running.commands, outTradeNo);
    const forged = signedNotification(
      tradeStatusSyncParams({
        outTradeNo,
        tradeNo: newTradeNo(),
        tradeStatus: 'TRADE_SUCCESS',
        totalFee: '12.34',
      }),
      FORGED_KEY,
    );
    const response = await fetch(`${running.baseUrl}/alipay/return?${forged.text}`);
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toContain('could not be verified');
    expect(page).not.toContain(outTradeNo);
    expect(await eventTypes(running, outTradeNo)).toEqual(['OrderPlaced']);
    expect((await inboxRows(running, outTradeNo))[0]).toMatchObject({
      channel: 'return',
      outcome: 'rejected',
      verified: false,
    });

    const bare = await fetch(`${running.baseUrl}/alipay/return`);
    expect(bare.status).toBe(200);
    expect(await bare.text()).toContain('could not be verified');
  });

  it('tells the buyer a genuine redirect for an unpaid trade is pending', async () => {
    const outTradeNo = newOutTradeNo('PENDING');
    await placeOrder(running.commands, outTradeNo, { service: 'trade_create_by_buyer' });
    const query = signedNotification(
      tradeStatusSyncParams({
        outTradeNo,
        tradeNo: newTradeNo(),
        tradeStatus: 'WAIT_BUYER_PAY',
        totalFee: '12.34',
        service: 'trade_create_by_buyer',
        extra: { is_success: 'T' },
      }),
    );
    const page = await (await fetch(`${running.baseUrl}/alipay/return?${query.text}`)).text();
    expect(page).toContain('Confirming your payment');
    expect(await eventTypes(running, outTradeNo)).toEqual(['OrderPlaced', 'PaymentAwaited']);
  });
});
