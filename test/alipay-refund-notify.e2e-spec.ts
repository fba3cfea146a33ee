import { randomBytes } from 'node:crypto';
import { formatBatchNo, formatBeijingTime } from '@ledger/alipay-protocol';
import type { AcceptRefundBatch } from '@ledger/domain';
import {
  AnswerRefundBatchCommand,
  CompleteDeliveryCommand,
  SubmitRefundBatchCommand,
} from '@ledger/commands';
import {
  newNotifyId,
  newTradeNo,
  postNotification,
  signedNotification,
  type SignedNotification,
} from '@ledger/testing';
import { RefundOverdueCheck } from '@ledger/processes';
import {
  ADMIN_TOKEN,
  FORGED_KEY,
  eventTypes,
  newOutTradeNo,
  notify,
  placeOrder,
  startLedger,
  tradeNotification,
  type RunningLedger,
} from './alipay-notify.fixture';

// Batch refund results over HTTP against a running ledger: per-record events and the
// batch's reconciled completion, duplicates and reordering, the anomalies (docs/events.md, "Anomaly kinds"),
// the trade channel's refunds (escrow negotiation included), and one refund reported on both channels counted
// once.

interface Paid {
  outTradeNo: string;
  tradeNo: string;
}

interface Item extends Paid {
  /** Fen. */
  amount: number;
}

/** Pays an instant order of `totalFee` fen by a signed TRADE_SUCCESS notification. */
async function paidOrder(running: RunningLedger, prefix: string, totalFee: number): Promise<Paid> {
  const outTradeNo = newOutTradeNo(prefix);
  const tradeNo = newTradeNo();
  await placeOrder(running.commands, outTradeNo, { totalFee });
  const reply = await notify(
    running,
    tradeNotification({ outTradeNo, tradeNo, tradeStatus: 'TRADE_SUCCESS', totalFee: yuan(totalFee) }),
  );
  expect(reply.text).toBe('success');
  return { outTradeNo, tradeNo };
}

function yuan(fen: number): string {
  return (fen / 100).toFixed(2);
}

/** A fresh batch_no dated today in Beijing, as the ledger allocates them. */
function newBatchNo(): string {
  const serial = Array.from(randomBytes(12), (byte) => String(byte % 10)).join('');
  const batchNo = formatBatchNo(new Date(), `9${serial}`);
  if (!batchNo.ok) throw new Error('cannot format a batch_no');
  return batchNo.value;
}

const E2E = { causationId: 'e2e' };

function accept(running: RunningLedger, batchNo: string) {
  const command: AcceptRefundBatch = {
    type: 'AcceptRefundBatch',
    batchNo,
    reply: 'T',
    acceptedAt: new Date().toISOString(),
  };
  return running.commands.execute(new AnswerRefundBatchCommand(command, E2E));
}

/** Submits a nopwd batch of `items` (reserving each amount), and has the gateway accept it unless told not to. */
async function submitBatch(
  running: RunningLedger,
  items: readonly Item[],
  options: { accept?: boolean } = {},
): Promise<string> {
  const batchNo = newBatchNo();
  await running.commands.execute(
    new SubmitRefundBatchCommand(
      {
        type: 'SubmitRefundBatch',
        batchNo,
        mode: 'nopwd',
        items: items.map(({ outTradeNo, tradeNo, amount }) => ({
          outTradeNo,
          tradeNo,
          amount,
          reason: 'returned',
        })),
        submittedAt: new Date().toISOString(),
      },
      E2E,
    ),
  );
  if (options.accept !== false) await accept(running, batchNo);
  return batchNo;
}

/**
 * A `batch_refund_notify` as Alipay sends it (docs/alipay-protocol.md, "Batch refund results"), signed with
 * the demo key unless told otherwise.
 */
function refundNotification(
  facts: {
    batchNo: string;
    successNum: number;
    resultDetails: string;
    notifyId?: string;
    notifyTime?: Date;
    notifyType?: string;
  },
  key?: string,
): SignedNotification {
  return signedNotification(
    {
      notify_time: formatBeijingTime(facts.notifyTime ?? new Date()),
      notify_type: facts.notifyType ?? 'batch_refund_notify',
      notify_id: facts.notifyId ?? newNotifyId(),
      batch_no: facts.batchNo,
      success_num: String(facts.successNum),
      result_details: facts.resultDetails,
    },
    key,
  );
}

function refundNotify(running: RunningLedger, notification: SignedNotification) {
  return postNotification(`${running.baseUrl}/alipay/refund-notify`, notification);
}

/** `[type, kind]` of each event of a stream, in order. */
async function kinds(running: RunningLedger, streamId: string): Promise<[string, string | undefined][]> {
  return (await running.store.readStream(streamId)).map((event) => [
    event.type,
    (event.data as { kind?: string }).kind,
  ]);
}

async function eventsOf(running: RunningLedger, streamId: string, type: string): Promise<unknown[]> {
  return (await running.store.readStream(streamId)).filter((e) => e.type === type).map((e) => e.data);
}

async function adminGet(running: RunningLedger, path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${running.baseUrl}${path}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function adminPost(
  running: RunningLedger,
  path: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${running.baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

/** The inbox rows about a batch, oldest first. */
async function batchRows(running: RunningLedger, batchNo: string) {
  const { items } = await running.inbox.list({ batchNo }, { limit: 100 });
  return items.reverse();
}

describe('POST /alipay/refund-notify', () => {
  let running: RunningLedger;

  beforeAll(async () => {
    running = await startLedger('alipay_refund_notify');
  });

  afterAll(async () => {
    await running?.close();
  });

  it('applies mixed results per record, completes the batch with every result, and keeps the fee, royalty and sub-trade parts', async () => {
    const full = await paidOrder(running, 'MIX-FULL', 5000);
    const part = await paidOrder(running, 'MIX-PART', 12000);
    const failed = await paidOrder(running, 'MIX-FAIL', 16000);
    const batchNo = await submitBatch(running, [
      { ...full, amount: 5000 },
      { ...part, amount: 3000 },
      { ...failed, amount: 16000 },
    ]);
    const details = [
      `${full.tradeNo}^50.00^SUCCESS$seller@example.com^2088101003147483^0.01^SUCCESS`,
      `${part.tradeNo}^30.00^SUCCESS|out@example.com^2088701892019087^in@example.com^2088701892019088^5.00^SUCCESS$$20.00^10.00^SUCCESS`,
      `${failed.tradeNo}^160.00^SELLER_BALANCE_NOT_ENOUGH`,
    ].join('#');
    const notification = refundNotification({ batchNo, successNum: 2, resultDetails: details });

    expect(await refundNotify(running, notification)).toEqual({ status: 200, text: 'success' });

    const batch = await running.store.readStream(`refund-batch-${batchNo}`);
    expect(batch.map((event) => event.type)).toEqual([
      'RefundBatchSubmitted',
      'RefundBatchAccepted',
      'RefundBatchCompleted',
    ]);
    expect(batch[2].data).toMatchObject({
      batchNo,
      successNum: 2,
      anomalies: [],
      records: [
        {
          tradeNo: full.tradeNo,
          outTradeNo: full.outTradeNo,
          submittedAmount: 5000,
          result: {
            amount: 5000,
            code: 'SUCCESS',
            fee: { account: 'seller@example.com', userId: '2088101003147483', amount: 1, code: 'SUCCESS' },
          },
        },
        {
          tradeNo: part.tradeNo,
          result: {
            amount: 3000,
            code: 'SUCCESS',
            royalties: [{ outUserId: '2088701892019087', inUserId: '2088701892019088', amount: 500 }],
            subTrade: { amount: 2000, refundableAmount: 1000, code: 'SUCCESS' },
          },
        },
        { tradeNo: failed.tradeNo, result: { amount: 16000, code: 'SELLER_BALANCE_NOT_ENOUGH' } },
      ],
    });

    const [row] = await batchRows(running, batchNo);
    expect(row).toMatchObject({
      channel: 'refund_notify',
      path: '/alipay/refund-notify',
      outcome: 'applied',
      verified: true,
      notifyType: 'batch_refund_notify',
      notifyVerify: { answer: true },
      outcomeDetail: {
        outcome: 'applied',
        streamId: `refund-batch-${batchNo}`,
        events: [{ type: 'RefundBatchCompleted', version: 3 }],
      },
    });
    expect(batch[2].metadata.causationId).toBe(String(row.id));

    const fullEvents = await running.store.readStream(`order-${full.outTradeNo}`);
    expect(fullEvents.map((event) => event.type)).toEqual([
      'OrderPlaced',
      'PaymentSucceeded',
      'RefundRequested',
      'RefundSucceeded',
    ]);
    expect(fullEvents[3].data).toMatchObject({
      channel: 'batch',
      batchNo,
      amount: 5000,
      resultCode: 'SUCCESS',
      countedFee: 5000,
      notifyId: notification.params.find((p) => p.name === 'notify_id')?.value,
    });
    expect(fullEvents[3].metadata.causationId).toBe(String(row.id));
    expect(await eventsOf(running, `order-${failed.outTradeNo}`, 'RefundFailed')).toEqual([
      expect.objectContaining({
        batchNo,
        code: 'SELLER_BALANCE_NOT_ENOUGH',
        stage: 'result',
        amount: 16000,
      }),
    ]);

    // The reply came after the projections caught up: the admin API already shows each order's refund.
    expect(await adminGet(running, `/admin/orders/${full.outTradeNo}`)).toMatchObject({
      status: 'refunded',
      statusCode: 105,
      refundedFee: '50.00',
    });
    expect(await adminGet(running, `/admin/orders/${part.outTradeNo}`)).toMatchObject({
      status: 'partially_refunded',
      refundedFee: '30.00',
    });
    expect(await adminGet(running, `/admin/orders/${failed.outTradeNo}`)).toMatchObject({
      status: 'paid',
      statusCode: 8,
      refundedFee: '0.00',
    });
  });

  it('completes a batch once for the same notification delivered six times at once, and adds nothing on a redelivery', async () => {
    const order = await paidOrder(running, 'SIX', 3000);
    const batchNo = await submitBatch(running, [{ ...order, amount: 1000 }]);
    const notifyId = newNotifyId();
    const notification = refundNotification({
      batchNo,
      successNum: 1,
      resultDetails: `${order.tradeNo}^10.00^SUCCESS`,
      notifyId,
    });

    const replies = await Promise.all(Array.from({ length: 6 }, () => refundNotify(running, notification)));
    expect(replies).toEqual(Array.from({ length: 6 }, () => ({ status: 200, text: 'success' })));
    expect(await eventTypes(running, order.outTradeNo)).toEqual([
      'OrderPlaced',
      'PaymentSucceeded',
      'RefundRequested',
      'RefundSucceeded',
    ]);
    expect(
      (await running.store.readStream(`refund-batch-${batchNo}`)).filter(
        (event) => event.type === 'RefundBatchCompleted',
      ),
    ).toHaveLength(1);
    const rows = await batchRows(running, batchNo);
    expect(rows.map((row) => row.outcome).sort()).toEqual([
      'applied',
      'no_new_fact',
      'no_new_fact',
      'no_new_fact',
      'no_new_fact',
      'no_new_fact',
    ]);

    // Alipay's retry after success: same notify_id, a later notify_time, a new signature.
    const retry = refundNotification({
      batchNo,
      successNum: 1,
      resultDetails: `${order.tradeNo}^10.00^SUCCESS`,
      notifyId,
      notifyTime: new Date(Date.now() + 240_000),
    });
    expect(await refundNotify(running, retry)).toEqual({ status: 200, text: 'success' });
    const applied = rows.find((row) => row.outcome === 'applied')!;
    expect((await batchRows(running, batchNo)).at(-1)).toMatchObject({
      outcome: 'no_new_fact',
      outcomeDetail: { reason: 'duplicate', duplicateOf: applied.id },
      notifyVerify: { skipped: 'already_processed' },
    });
    expect(await running.store.streamVersion(`refund-batch-${batchNo}`)).toBe(3);
    expect(await eventTypes(running, order.outTradeNo)).toHaveLength(4);
    expect(await adminGet(running, `/admin/orders/${order.outTradeNo}`)).toMatchObject({
      status: 'partially_refunded',
      refundedFee: '10.00',
    });
  });

  it('takes a result that arrives before the acceptance, which then adds nothing', async () => {
    const order = await paidOrder(running, 'EARLY', 2000);
    const batchNo = await submitBatch(running, [{ ...order, amount: 2000 }], { accept: false });
    const reply = await refundNotify(
      running,
      refundNotification({ batchNo, successNum: 1, resultDetails: `${order.tradeNo}^20.00^SUCCESS` }),
    );
    expect(reply.text).toBe('success');
    const late = await accept(running, batchNo);
    expect(late.events).toEqual([]);
    expect(await kinds(running, `refund-batch-${batchNo}`)).toEqual([
      ['RefundBatchSubmitted', undefined],
      ['RefundBatchCompleted', undefined],
    ]);
    expect(await adminGet(running, `/admin/orders/${order.outTradeNo}`)).toMatchObject({
      status: 'refunded',
      refundedFee: '20.00',
    });
  });

  it('records a result for a batch never submitted as an anomaly and applies nothing to the trade it names', async () => {
    const order = await paidOrder(running, 'STRAY', 2000);
    const batchNo = newBatchNo();
    const reply = await refundNotify(
      running,
      refundNotification({ batchNo, successNum: 1, resultDetails: `${order.tradeNo}^20.00^SUCCESS` }),
    );
    expect(reply).toEqual({ status: 200, text: 'success' });
    const [completed] = await running.store.readStream(`refund-batch-${batchNo}`);
    expect(completed.type).toBe('RefundBatchCompleted');
    expect(completed.data).toMatchObject({
      records: [{ tradeNo: order.tradeNo, result: { amount: 2000, code: 'SUCCESS' } }],
      anomalies: expect.arrayContaining([
        expect.objectContaining({
          kind: 'refund_result_unmatched',
          detail: expect.stringContaining(batchNo),
        }),
        expect.objectContaining({ kind: 'refund_result_unmatched', tradeNo: order.tradeNo }),
      ]),
    });
    expect(await eventTypes(running, order.outTradeNo)).toEqual(['OrderPlaced', 'PaymentSucceeded']);
    expect(await adminGet(running, `/admin/orders/${order.outTradeNo}`)).toMatchObject({
      status: 'paid',
      refundedFee: '0.00',
    });
  });

  it('flags an amount other than submitted, and a success_num that disagrees with the records', async () => {
    const order = await paidOrder(running, 'AMOUNT', 5000);
    const batchNo = await submitBatch(running, [{ ...order, amount: 3000 }]);
    const reply = await refundNotify(
      running,
      refundNotification({ batchNo, successNum: 2, resultDetails: `${order.tradeNo}^25.00^SUCCESS` }),
    );
    expect(reply.text).toBe('success');
    const [completion] = await eventsOf(running, `refund-batch-${batchNo}`, 'RefundBatchCompleted');
    expect((completion as { anomalies: { kind: string }[] }).anomalies.map((a) => a.kind)).toEqual([
      'refund_amount_mismatch',
      'success_num_mismatch',
    ]);
    // Counted as Alipay reports it, and flagged on the order.
    expect(await kinds(running, `order-${order.outTradeNo}`)).toEqual([
      ['OrderPlaced', undefined],
      ['PaymentSucceeded', undefined],
      ['RefundRequested', undefined],
      ['AnomalyDetected', 'refund_amount_mismatch'],
      ['RefundSucceeded', undefined],
    ]);
    expect(await adminGet(running, `/admin/orders/${order.outTradeNo}`)).toMatchObject({
      refundedFee: '25.00',
      anomalies: [expect.objectContaining({ kind: 'refund_amount_mismatch' })],
    });
  });

  it('never applies a refund that would exceed what was paid', async () => {
    const order = await paidOrder(running, 'OVER', 5000);
    const batchNo = await submitBatch(running, [{ ...order, amount: 5000 }]);
    const reply = await refundNotify(
      running,
      refundNotification({ batchNo, successNum: 1, resultDetails: `${order.tradeNo}^60.00^SUCCESS` }),
    );
    expect(reply.text).toBe('success');
    expect(await kinds(running, `order-${order.outTradeNo}`)).toEqual([
      ['OrderPlaced', undefined],
      ['PaymentSucceeded', undefined],
      ['RefundRequested', undefined],
      ['AnomalyDetected', 'refund_amount_mismatch'],
      ['AnomalyDetected', 'over_refund'],
    ]);
    expect(await adminGet(running, `/admin/orders/${order.outTradeNo}`)).toMatchObject({
      status: 'paid',
      refundedFee: '0.00',
    });
  });

  it('reads TRADE_HAS_CLOSED as already refunded after an earlier refund, and as an anomaly without one', async () => {
    const earlier = await paidOrder(running, 'CLOSED-KNOWN', 10000);
    const first = await submitBatch(running, [{ ...earlier, amount: 4000 }]);
    await refundNotify(
      running,
      refundNotification({
        batchNo: first,
        successNum: 1,
        resultDetails: `${earlier.tradeNo}^40.00^SUCCESS`,
      }),
    );
    const second = await submitBatch(running, [{ ...earlier, amount: 6000 }]);
    const reply = await refundNotify(
      running,
      refundNotification({
        batchNo: second,
        successNum: 0,
        resultDetails: `${earlier.tradeNo}^60.00^TRADE_HAS_CLOSED`,
      }),
    );
    expect(reply.text).toBe('success');
    expect(await eventsOf(running, `order-${earlier.outTradeNo}`, 'RefundSucceeded')).toEqual([
      expect.objectContaining({ batchNo: first, resultCode: 'SUCCESS', countedFee: 4000 }),
      expect.objectContaining({ batchNo: second, resultCode: 'TRADE_HAS_CLOSED', countedFee: 0 }),
    ]);
    expect(await adminGet(running, `/admin/orders/${earlier.outTradeNo}`)).toMatchObject({
      refundedFee: '40.00',
      anomalies: [],
    });

    const never = await paidOrder(running, 'CLOSED-UNKNOWN', 10000);
    const batchNo = await submitBatch(running, [{ ...never, amount: 10000 }]);
    await refundNotify(
      running,
      refundNotification({
        batchNo,
        successNum: 0,
        resultDetails: `${never.tradeNo}^100.00^TRADE_HAS_CLOSED`,
      }),
    );
    expect(await kinds(running, `order-${never.outTradeNo}`)).toEqual([
      ['OrderPlaced', undefined],
      ['PaymentSucceeded', undefined],
      ['RefundRequested', undefined],
      ['AnomalyDetected', 'trade_closed_without_refund'],
    ]);
    expect(await adminGet(running, `/admin/orders/${never.outTradeNo}`)).toMatchObject({
      refundedFee: '0.00',
      anomalies: [expect.objectContaining({ kind: 'trade_closed_without_refund' })],
    });
  });

  it('refuses a forged result and one notify_verify does not confirm, keeping both', async () => {
    const order = await paidOrder(running, 'FORGED-REFUND', 2000);
    const batchNo = await submitBatch(running, [{ ...order, amount: 2000 }]);
    const details = `${order.tradeNo}^20.00^SUCCESS`;
    const forgedId = newNotifyId();
    const forged = refundNotification(
      { batchNo, successNum: 1, resultDetails: details, notifyId: forgedId },
      FORGED_KEY,
    );
    expect(await refundNotify(running, forged)).toEqual({ status: 400, text: 'fail' });
    expect(running.gateway.requestsFor('notify_verify', forgedId)).toHaveLength(0);

    const unknownId = newNotifyId();
    running.gateway.script('notify_verify', unknownId, 'false');
    const unknown = refundNotification({
      batchNo,
      successNum: 1,
      resultDetails: details,
      notifyId: unknownId,
    });
    expect(await refundNotify(running, unknown)).toEqual({ status: 400, text: 'fail' });

    expect(await batchRows(running, batchNo)).toMatchObject([
      {
        channel: 'refund_notify',
        outcome: 'rejected',
        verified: false,
        outcomeDetail: { reason: 'signature' },
      },
      {
        channel: 'refund_notify',
        outcome: 'rejected',
        verified: false,
        outcomeDetail: { reason: 'notify_verify' },
        notifyVerify: { answer: false, body: 'false' },
      },
    ]);
    expect(await running.store.streamVersion(`refund-batch-${batchNo}`)).toBe(2);
    expect(await eventTypes(running, order.outTradeNo)).toEqual([
      'OrderPlaced',
      'PaymentSucceeded',
      'RefundRequested',
    ]);
  });

  it('refuses a payment notification at the refund endpoint and a refund result at the payment endpoint, by name', async () => {
    const order = await paidOrder(running, 'CROSSED', 2000);
    const trade = tradeNotification({
      outTradeNo: order.outTradeNo,
      tradeNo: order.tradeNo,
      tradeStatus: 'TRADE_FINISHED',
      totalFee: '20.00',
    });
    expect(await refundNotify(running, trade)).toEqual({ status: 400, text: 'fail' });
    const batchNo = await submitBatch(running, [{ ...order, amount: 1000 }]);
    const result = refundNotification({
      batchNo,
      successNum: 1,
      resultDetails: `${order.tradeNo}^10.00^SUCCESS`,
    });
    expect(await notify(running, result)).toEqual({ status: 400, text: 'fail' });

    const tradeRow = (await running.inbox.list({ outTradeNo: order.outTradeNo, channel: 'refund_notify' }))
      .items[0];
    expect(tradeRow).toMatchObject({
      outcome: 'rejected',
      outcomeDetail: {
        reason: 'unexpected_notify_type',
        message: expect.stringContaining('"trade_status_sync" is not handled at the refund_notify channel'),
      },
    });
    const [resultRow] = await batchRows(running, batchNo);
    expect(resultRow).toMatchObject({
      channel: 'notify',
      outcome: 'rejected',
      outcomeDetail: {
        reason: 'unexpected_notify_type',
        message: expect.stringContaining('batch_refund_notify'),
      },
    });
    expect(await eventTypes(running, order.outTradeNo)).toEqual([
      'OrderPlaced',
      'PaymentSucceeded',
      'RefundRequested',
    ]);

    // The genuine result, posted where it belongs, still applies: nothing was spent on the wrong endpoint.
    expect((await refundNotify(running, result)).text).toBe('success');
    expect(await adminGet(running, `/admin/orders/${order.outTradeNo}`)).toMatchObject({
      refundedFee: '10.00',
    });
  });

  it('replays a verified result whose transaction failed, with the stored evidence, and only once', async () => {
    const order = await paidOrder(running, 'REPLAY', 3000);
    const batchNo = await submitBatch(running, [{ ...order, amount: 3000 }]);
    const { dataSource } = running.database;
    // The database refuses this batch's result once: the notification is verified, then its transaction fails.
    await dataSource.query(`
      CREATE FUNCTION e2e_refuse_batch() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.stream_id = 'refund-batch-${batchNo}' THEN RAISE EXCEPTION 'e2e: refused'; END IF;
        RETURN NEW;
      END $$`);
    await dataSource.query(
      `CREATE TRIGGER e2e_refuse_batch BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION e2e_refuse_batch()`,
    );
    const notifyId = newNotifyId();
    const notification = refundNotification({
      batchNo,
      successNum: 1,
      resultDetails: `${order.tradeNo}^30.00^SUCCESS`,
      notifyId,
    });
    try {
      expect(await refundNotify(running, notification)).toEqual({ status: 503, text: 'fail' });
    } finally {
      await dataSource.query(`DROP TRIGGER e2e_refuse_batch ON events`);
      await dataSource.query(`DROP FUNCTION e2e_refuse_batch()`);
    }
    const [failed] = await batchRows(running, batchNo);
    expect(failed).toMatchObject({
      outcome: 'failed',
      verified: true,
      outcomeDetail: { reason: 'database' },
    });

    const dry = await adminPost(running, '/admin/replay', { ids: [failed.id], dryRun: true });
    expect(dry).toMatchObject({
      dryRun: true,
      replayed: 1,
      events: 2,
      batches: [{ batchNo, events: [{ inboxId: failed.id, type: 'RefundBatchCompleted', version: 3 }] }],
      orders: [{ outTradeNo: order.outTradeNo, events: [{ type: 'RefundSucceeded', version: 4 }] }],
    });
    expect(await running.store.streamVersion(`refund-batch-${batchNo}`)).toBe(2);

    const replayed = await adminPost(running, '/admin/replay', { ids: [failed.id] });
    expect(replayed).toMatchObject({ dryRun: false, replayed: 1, events: 2 });
    const [completed] = await running.store.readStream(`refund-batch-${batchNo}`, 3);
    expect(completed).toMatchObject({
      type: 'RefundBatchCompleted',
      metadata: { causationId: String(failed.id) },
    });
    expect(await running.inbox.get(failed.id)).toMatchObject({
      outcome: 'applied',
      outcomeDetail: { replayedAt: expect.any(String) },
    });
    expect(await adminPost(running, '/admin/replay', { ids: [failed.id] })).toMatchObject({ events: 0 });

    // Alipay's retry of the notification the ledger answered `fail`: the replay holds the key.
    expect(await refundNotify(running, notification)).toEqual({ status: 200, text: 'success' });
    expect((await batchRows(running, batchNo)).at(-1)).toMatchObject({
      outcome: 'no_new_fact',
      outcomeDetail: { reason: 'duplicate', duplicateOf: failed.id },
    });
    expect(await eventsOf(running, `order-${order.outTradeNo}`, 'RefundSucceeded')).toHaveLength(1);
  });
});

describe('one refund on both channels, and the trade channel', () => {
  let running: RunningLedger;

  beforeAll(async () => {
    running = await startLedger('alipay_refund_channels');
  });

  afterAll(async () => {
    await running?.close();
  });

  const refundNotice = (
    order: Paid,
    totalFee: string,
    tradeStatus: string,
    refundStatus: string,
    notifyTime: Date,
    service?: 'trade_create_by_buyer',
  ) =>
    notify(
      running,
      tradeNotification({
        ...order,
        totalFee,
        tradeStatus,
        refundStatus,
        notifyTime,
        ...(service === undefined ? {} : { service }),
        extra: { gmt_refund: formatBeijingTime(notifyTime) },
      }),
    );

  async function delivered(order: Paid): Promise<void> {
    await running.commands.execute(
      new CompleteDeliveryCommand({
        type: 'CompleteDelivery',
        outTradeNo: order.outTradeNo,
        deliveredAt: new Date().toISOString(),
      }),
    );
  }

  it('counts a full refund once when the trade notice comes while the batch is in flight, then its result', async () => {
    const order = await paidOrder(running, 'BOTH-NOTICE-FIRST', 12000);
    await delivered(order);
    const batchNo = await submitBatch(running, [{ ...order, amount: 12000 }]);
    expect((await refundNotice(order, '120.00', 'TRADE_CLOSED', 'REFUND_SUCCESS', new Date())).text).toBe(
      'success',
    );
    const reply = await refundNotify(
      running,
      refundNotification({ batchNo, successNum: 1, resultDetails: `${order.tradeNo}^120.00^SUCCESS` }),
    );
    expect(reply.text).toBe('success');

    const refunds = await eventsOf(running, `order-${order.outTradeNo}`, 'RefundSucceeded');
    expect(refunds).toEqual([
      expect.objectContaining({ channel: 'trade', full: true, countedFee: 12000 }),
      expect.objectContaining({ channel: 'batch', batchNo, countedFee: 0 }),
    ]);
    expect(await adminGet(running, `/admin/orders/${order.outTradeNo}`)).toMatchObject({
      status: 'refunded',
      statusCode: 105,
      refundedFee: '120.00',
      return: { state: 'pending' },
    });
  });

  it('counts a full refund once when the batch result comes first, then the trade notice', async () => {
    const order = await paidOrder(running, 'BOTH-RESULT-FIRST', 12000);
    const batchNo = await submitBatch(running, [{ ...order, amount: 12000 }]);
    await refundNotify(
      running,
      refundNotification({ batchNo, successNum: 1, resultDetails: `${order.tradeNo}^120.00^SUCCESS` }),
    );
    expect((await refundNotice(order, '120.00', 'TRADE_CLOSED', 'REFUND_SUCCESS', new Date())).text).toBe(
      'success',
    );
    const refunds = await eventsOf(running, `order-${order.outTradeNo}`, 'RefundSucceeded');
    expect(refunds).toEqual([
      expect.objectContaining({ channel: 'batch', countedFee: 12000 }),
      expect.objectContaining({ channel: 'trade', full: true, countedFee: 0 }),
    ]);
    expect(await adminGet(running, `/admin/orders/${order.outTradeNo}`)).toMatchObject({
      status: 'refunded',
      statusCode: 105,
      refundedFee: '120.00',
    });
  });

  it('matches a partial trade notice to the batch it reports, counting the amount once', async () => {
    const order = await paidOrder(running, 'BOTH-PARTIAL', 12000);
    await delivered(order);
    const batchNo = await submitBatch(running, [{ ...order, amount: 3000 }]);
    await refundNotify(
      running,
      refundNotification({ batchNo, successNum: 1, resultDetails: `${order.tradeNo}^30.00^SUCCESS` }),
    );
    expect((await refundNotice(order, '120.00', 'TRADE_SUCCESS', 'REFUND_SUCCESS', new Date())).text).toBe(
      'success',
    );
    expect(await eventsOf(running, `order-${order.outTradeNo}`, 'RefundSucceeded')).toEqual([
      expect.objectContaining({ channel: 'batch', countedFee: 3000 }),
      expect.objectContaining({ channel: 'trade', full: false, countedFee: 0, matchedBatchNo: batchNo }),
    ]);
    expect(await adminGet(running, `/admin/orders/${order.outTradeNo}`)).toMatchObject({
      status: 'partially_refunded',
      statusCode: null,
      refundedFee: '30.00',
      return: { state: 'manual_review' },
    });
  });

  it('follows an escrow negotiation through refusal and a new request to the refund', async () => {
    const outTradeNo = newOutTradeNo('ESCROW-REFUND');
    const order = { outTradeNo, tradeNo: newTradeNo() };
    await placeOrder(running.commands, outTradeNo, { service: 'trade_create_by_buyer', totalFee: 8800 });
    const start = Date.now();
    const at = (step: number) => new Date(start + step * 60_000);
    for (const [step, tradeStatus] of [
      'WAIT_BUYER_PAY',
      'WAIT_SELLER_SEND_GOODS',
      'WAIT_BUYER_CONFIRM_GOODS',
    ].entries()) {
      const reply = await notify(
        running,
        tradeNotification({
          ...order,
          tradeStatus,
          totalFee: '88.00',
          service: 'trade_create_by_buyer',
          notifyTime: at(step),
        }),
      );
      expect(reply.text).toBe('success');
    }
    await delivered(order);
    const steps: [string, string][] = [
      ['WAIT_BUYER_CONFIRM_GOODS', 'WAIT_SELLER_AGREE'],
      ['WAIT_BUYER_CONFIRM_GOODS', 'SELLER_REFUSE_BUYER'],
      ['WAIT_BUYER_CONFIRM_GOODS', 'WAIT_SELLER_AGREE'],
      ['TRADE_CLOSED', 'REFUND_SUCCESS'],
    ];
    for (const [index, [tradeStatus, refundStatus]] of steps.entries()) {
      const reply = await refundNotice(
        order,
        '88.00',
        tradeStatus,
        refundStatus,
        at(10 + index),
        'trade_create_by_buyer',
      );
      expect(reply.text).toBe('success');
    }
    const events = await running.store.readStream(`order-${outTradeNo}`);
    expect(events.map((event) => event.type)).toEqual([
      'OrderPlaced',
      'PaymentAwaited',
      'PaymentSucceeded',
      'GoodsShipped',
      'DeliveryCompleted',
      'RefundRequested',
      'RefundRefused',
      'RefundRequested',
      'RefundSucceeded',
      'TradeClosed',
    ]);
    expect(events[2].data).toMatchObject({ paymentType: 'escrow' });
    expect(events.slice(5).map((event) => (event.data as { refundStatus?: string }).refundStatus)).toEqual([
      'WAIT_SELLER_AGREE',
      'SELLER_REFUSE_BUYER',
      'WAIT_SELLER_AGREE',
      'REFUND_SUCCESS',
      undefined,
    ]);
    expect(events[8].data).toMatchObject({ channel: 'trade', full: true, countedFee: 8800 });
    expect(events[9].data).toMatchObject({ reason: 'refunded' });
    expect(await adminGet(running, `/admin/orders/${outTradeNo}`)).toMatchObject({
      status: 'refunded',
      statusCode: 105,
      refundStatus: 'REFUND_SUCCESS',
      paidFee: '88.00',
      refundedFee: '88.00',
      return: { state: 'pending' },
    });

    // A retry of the refusal, late: it never reopens the refunded trade.
    const late = await refundNotice(
      order,
      '88.00',
      'WAIT_BUYER_CONFIRM_GOODS',
      'SELLER_REFUSE_BUYER',
      at(11),
      'trade_create_by_buyer',
    );
    expect(late.text).toBe('success');
    expect(await running.store.streamVersion(`order-${outTradeNo}`)).toBe(10);
  });

  it('shows a withdrawn escrow refund request as refund_closed (106)', async () => {
    const outTradeNo = newOutTradeNo('ESCROW-CLOSED');
    const order = { outTradeNo, tradeNo: newTradeNo() };
    await placeOrder(running.commands, outTradeNo, { service: 'trade_create_by_buyer', totalFee: 1500 });
    const start = Date.now();
    const at = (step: number) => new Date(start + step * 60_000);
    for (const [step, tradeStatus] of [
      'WAIT_BUYER_PAY',
      'WAIT_SELLER_SEND_GOODS',
      'WAIT_BUYER_CONFIRM_GOODS',
    ].entries()) {
      await notify(
        running,
        tradeNotification({
          ...order,
          tradeStatus,
          totalFee: '15.00',
          service: 'trade_create_by_buyer',
          notifyTime: at(step),
        }),
      );
    }
    await refundNotice(
      order,
      '15.00',
      'WAIT_BUYER_CONFIRM_GOODS',
      'WAIT_SELLER_AGREE',
      at(5),
      'trade_create_by_buyer',
    );
    await refundNotice(
      order,
      '15.00',
      'WAIT_BUYER_CONFIRM_GOODS',
      'REFUND_CLOSED',
      at(6),
      'trade_create_by_buyer',
    );
    expect((await eventTypes(running, outTradeNo)).slice(-2)).toEqual(['RefundRequested', 'RefundClosed']);
    expect(await adminGet(running, `/admin/orders/${outTradeNo}`)).toMatchObject({
      status: 'refund_closed',
      statusCode: 106,
      refundedFee: '0.00',
    });
  });
});

describe('the refund result timeout', () => {
  let running: RunningLedger;

  beforeAll(async () => {
    // 3 seconds: the check then runs every 750 ms.
    running = await startLedger('alipay_refund_overdue', { REFUND_RESULT_TIMEOUT_MINUTES: '0.05' });
  });

  afterAll(async () => {
    await running?.close();
  });

  async function waitForFlag(batchNo: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const flagged = (await kinds(running, `refund-batch-${batchNo}`)).some(
        ([, kind]) => kind === 'refund_result_missing',
      );
      if (flagged) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`batch ${batchNo} was not flagged within ${timeoutMs} ms`);
  }

  it('flags a batch left without a result once, and still takes the late result', async () => {
    const waiting = await paidOrder(running, 'OVERDUE', 2000);
    const answered = await paidOrder(running, 'ANSWERED', 2000);
    const answeredBatch = await submitBatch(running, [{ ...answered, amount: 2000 }]);
    await refundNotify(
      running,
      refundNotification({
        batchNo: answeredBatch,
        successNum: 1,
        resultDetails: `${answered.tradeNo}^20.00^SUCCESS`,
      }),
    );
    const submittedAt = Date.now();
    const batchNo = await submitBatch(running, [{ ...waiting, amount: 2000 }]);

    await waitForFlag(batchNo, 15_000);
    expect(Date.now() - submittedAt).toBeGreaterThanOrEqual(3_000);
    const check = running.ledger.app.get(RefundOverdueCheck);
    expect(await check.runOnce(new Date(Date.now() + 86_400_000))).toEqual([]);
    expect(await kinds(running, `refund-batch-${batchNo}`)).toEqual([
      ['RefundBatchSubmitted', undefined],
      ['RefundBatchAccepted', undefined],
      ['AnomalyDetected', 'refund_result_missing'],
    ]);
    expect(await kinds(running, `refund-batch-${answeredBatch}`)).toEqual([
      ['RefundBatchSubmitted', undefined],
      ['RefundBatchAccepted', undefined],
      ['RefundBatchCompleted', undefined],
    ]);

    const late = await refundNotify(
      running,
      refundNotification({ batchNo, successNum: 1, resultDetails: `${waiting.tradeNo}^20.00^SUCCESS` }),
    );
    expect(late.text).toBe('success');
    expect((await kinds(running, `refund-batch-${batchNo}`)).at(-1)).toEqual([
      'RefundBatchCompleted',
      undefined,
    ]);
    expect(await adminGet(running, `/admin/orders/${waiting.outTradeNo}`)).toMatchObject({
      refundedFee: '20.00',
    });
  });
});
