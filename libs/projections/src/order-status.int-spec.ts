import {
  type OrderCommand,
  type PlaceOrder,
  type RecordTradeStatus,
  LEDGER_EVENT_CATALOGUE,
  ORDER_STATE_VERSION,
} from '@ledger/domain';
import { EventSchemas, EventStore, Projector, type AppendResult } from '@ledger/event-store';
import { createTestDatabase, type TestDatabase } from '@ledger/testing';
import { appendOrderCommand } from './order-commands.fixture';
import { OrderQueries } from './order-queries';
import { ORDER_STATUS_PROJECTION, orderStatusProjection } from './order-status.projection';
import { ProjectionsError } from './projections-error';

const schemas = new EventSchemas(LEDGER_EVENT_CATALOGUE);

jest.setTimeout(120_000);

const SELLER = '2088101122136241';

function place(outTradeNo: string, overrides: Partial<PlaceOrder> = {}): PlaceOrder {
  return {
    type: 'PlaceOrder',
    outTradeNo,
    subject: 'Annual membership',
    totalFee: 12_000,
    service: 'create_direct_pay_by_user',
    sellerId: SELLER,
    requestParameters: { out_trade_no: outTradeNo, total_fee: '120.00' },
    placedAt: '2024-05-01T02:00:00.000Z',
    ...overrides,
  };
}

let notices = 0;
function status(
  outTradeNo: string,
  tradeStatus: RecordTradeStatus['tradeStatus'],
  overrides: Partial<RecordTradeStatus> = {},
): RecordTradeStatus {
  notices++;
  return {
    type: 'RecordTradeStatus',
    outTradeNo,
    tradeNo: `2024050122001004370000${String(1000 + outTradeNo.length)}`,
    tradeStatus,
    totalFee: 12_000,
    sellerId: SELLER,
    buyer: { id: '2088102122524333', email: 'buyer@example.com' },
    times: { gmtPayment: '2024-05-01T02:05:00.000Z' },
    notifyId: `notify-${notices}`,
    notifyTime: '2024-05-01T02:05:01.000Z',
    source: 'notify',
    ...overrides,
  };
}

describe('the order status projection', () => {
  let db: TestDatabase;
  let store: EventStore;
  let projector: Projector;
  let orders: OrderQueries;

  /** The command appended as the ledger's handlers append it, then projected. */
  async function run(command: OrderCommand): Promise<AppendResult | undefined> {
    const appended = await appendOrderCommand(store, command);
    if (appended !== undefined) await projector.waitFor(ORDER_STATUS_PROJECTION, appended, 20_000);
    return appended;
  }

  const rows = () => db.dataSource.query(`SELECT * FROM order_status ORDER BY out_trade_no`);

  beforeAll(async () => {
    db = await createTestDatabase('order_status');
    store = new EventStore(db.dataSource, schemas);
    projector = new Projector(db.dataSource, [orderStatusProjection], { schemas, rebuildBatchSize: 7 });
    await projector.start();
    orders = new OrderQueries(db.dataSource);
  });
  afterAll(async () => {
    await projector?.stop();
    await db?.close();
  });

  it('shows an instant order placed, paid, due for delivery, then delivered', async () => {
    await run(place('INSTANT-1'));
    expect(await orders.get('INSTANT-1')).toMatchObject({
      placed: true,
      status: 'awaiting_payment',
      statusCode: 0,
      totalFee: 12_000,
      paidFee: 0,
      deliveryState: 'none',
      version: 1,
    });

    await run(status('INSTANT-1', 'TRADE_SUCCESS'));
    const paid = await orders.get('INSTANT-1');
    expect(paid).toMatchObject({
      status: 'paid',
      statusCode: 8,
      tradeStatus: 'TRADE_SUCCESS',
      paymentType: 'instant',
      paidFee: 12_000,
      buyerId: '2088102122524333',
      buyerEmail: 'buyer@example.com',
      deliveryState: 'pending',
      returnState: 'none',
      shippingState: 'none',
      anomalies: [],
      version: 2,
    });
    expect((await orders.pendingDeliveries(100)).map((o) => o.outTradeNo)).toContain('INSTANT-1');

    await run({ type: 'CompleteDelivery', outTradeNo: 'INSTANT-1', deliveredAt: '2024-05-01T02:06:00.000Z' });
    expect(await orders.get('INSTANT-1')).toMatchObject({ deliveryState: 'delivered', version: 3 });
    expect((await orders.pendingDeliveries(100)).map((o) => o.outTradeNo)).not.toContain('INSTANT-1');
  });

  it('shows an escrow trade paid, then due for its shipping confirmation once delivered', async () => {
    await run(place('ESCROW-1', { service: 'trade_create_by_buyer' }));
    await run(status('ESCROW-1', 'WAIT_BUYER_PAY'));
    await run(status('ESCROW-1', 'WAIT_SELLER_SEND_GOODS'));
    expect(await orders.get('ESCROW-1')).toMatchObject({
      status: 'paid',
      paymentType: 'escrow',
      deliveryState: 'pending',
      shippingState: 'none',
    });
    await run({ type: 'CompleteDelivery', outTradeNo: 'ESCROW-1', deliveredAt: '2024-05-01T02:06:00.000Z' });
    expect(await orders.get('ESCROW-1')).toMatchObject({
      deliveryState: 'delivered',
      shippingState: 'pending',
    });
    expect((await orders.pendingShippingConfirmations(100)).map((o) => o.outTradeNo)).toEqual(['ESCROW-1']);
  });

  it('blocks the delivery of an order whose notification does not match it', async () => {
    await run(place('MISMATCH-1'));
    await run(status('MISMATCH-1', 'TRADE_SUCCESS', { totalFee: 1 }));
    const order = await orders.get('MISMATCH-1');
    expect(order).toMatchObject({ status: 'awaiting_payment', paidFee: 0, deliveryState: 'blocked' });
    expect(order?.anomalies).toEqual([
      { kind: 'amount_mismatch', detail: expect.stringContaining('total_fee') },
    ]);
  });

  it('keeps an order never placed, with its anomaly and no status', async () => {
    await run(status('NEVER-PLACED', 'TRADE_SUCCESS'));
    expect(await orders.get('NEVER-PLACED')).toMatchObject({
      placed: false,
      status: null,
      statusCode: null,
      subject: null,
      totalFee: null,
      deliveryState: 'blocked',
      anomalies: [{ kind: 'unknown_order', detail: expect.any(String) }],
    });
  });

  it('reads a refund partly made, and the return a full refund of a delivered order calls for', async () => {
    await run(place('REFUND-1'));
    await run(status('REFUND-1', 'TRADE_SUCCESS'));
    await run({ type: 'CompleteDelivery', outTradeNo: 'REFUND-1', deliveredAt: '2024-05-01T02:06:00.000Z' });
    await run(
      status('REFUND-1', 'TRADE_CLOSED', {
        refundStatus: 'REFUND_SUCCESS',
        gmtRefund: '2024-05-02T00:00:00.000Z',
      }),
    );
    expect(await orders.get('REFUND-1')).toMatchObject({
      status: 'refunded',
      statusCode: 105,
      refundStatus: 'REFUND_SUCCESS',
      refundedFee: 12_000,
      returnState: 'pending',
    });
    expect((await orders.pendingReturns(100)).map((o) => o.outTradeNo)).toEqual(['REFUND-1']);
  });

  it('counts the orders each decision waits on, an anomaly until an operator resolves it', async () => {
    const before = await orders.pendingDecisionCounts();
    await run(place('WAITING-1'));
    await run(status('WAITING-1', 'TRADE_SUCCESS'));
    await run(place('WAITING-2'));
    await run(status('WAITING-2', 'TRADE_SUCCESS', { totalFee: 1 }));
    expect(await orders.pendingDecisionCounts()).toEqual({
      ...before,
      delivery: before.delivery + 1,
      anomaly: before.anomaly + 1,
    });

    await run({
      type: 'ResolveAnomalies',
      outTradeNo: 'WAITING-2',
      decision: 'accept',
      operator: 'ops-alice',
      reason: 'the amount was changed by phone with the buyer',
      resolvedAt: '2024-05-01T03:00:00.000Z',
    });
    expect((await orders.pendingDecisionCounts()).anomaly).toBe(before.anomaly);
  });

  it('tells the age of the oldest order awaiting payment, among those recorded within the days asked', async () => {
    await run(place('AWAITING-1'));
    const age = await orders.oldestAwaitingPaymentAge(1);
    expect(age).toBeGreaterThan(0);
    // This file's orders were all recorded in the last minutes.
    expect(age).toBeLessThan(600);
    const shift = (interval: string) =>
      db.dataSource.query(
        `UPDATE order_status SET created_at = created_at + interval '${interval}'
         WHERE status = 'awaiting_payment'`,
      );
    await shift('-2 days');
    try {
      expect(await orders.oldestAwaitingPaymentAge(1)).toBe(0);
      expect(await orders.oldestAwaitingPaymentAge(3)).toBeGreaterThan(2 * 86_400);
    } finally {
      // A later test compares the table with a rebuild, which takes the times from the events.
      await shift('2 days');
    }
  });

  it('ignores the events of refund batch streams, even those with an order event type', async () => {
    const before = await rows();
    const appended = await store.append('refund-batch-20240501001', 'no_stream', [
      {
        type: 'AnomalyDetected',
        data: { batchNo: '20240501001', kind: 'refund_result_missing', detail: 'x' },
      },
    ]);
    await projector.waitFor(ORDER_STATUS_PROJECTION, appended, 20_000);
    expect(await rows()).toEqual(before);
    expect(await projector.listParked(ORDER_STATUS_PROJECTION)).toEqual([]);
  });

  describe('lists', () => {
    const listed: string[] = [];
    beforeAll(async () => {
      for (let i = 0; i < 7; i++) {
        listed.push(`PAGE-${i}`);
        await run(place(`PAGE-${i}`));
        if (i % 2 === 0) await run(status(`PAGE-${i}`, 'TRADE_SUCCESS'));
      }
    });

    it('pages through every order exactly once, newest first', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await orders.list({ limit: 3 }, cursor);
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((o) => o.outTradeNo));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor !== undefined);
      const all = (await rows()) as { out_trade_no: string; created_at: Date }[];
      const expected = [...all]
        .sort(
          (a, b) =>
            b.created_at.getTime() - a.created_at.getTime() || (a.out_trade_no < b.out_trade_no ? 1 : -1),
        )
        .map((row) => row.out_trade_no);
      expect(seen).toEqual(expected);
      expect(pages).toBe(Math.ceil(all.length / 3));
    });

    it('filters by status, then pages within the filter', async () => {
      const first = await orders.list({ status: 'paid', limit: 2 });
      const second = await orders.list({ status: 'paid', limit: 2 }, first.nextCursor!);
      const paid = [...first.items, ...second.items];
      expect(paid.every((o) => o.status === 'paid')).toBe(true);
      expect(paid.map((o) => o.outTradeNo)).toEqual(expect.arrayContaining(['PAGE-6', 'PAGE-4', 'PAGE-2']));
      const awaiting = await orders.list({ status: 'awaiting_payment', limit: 100 });
      expect(awaiting.items.map((o) => o.outTradeNo)).toEqual(
        expect.arrayContaining(['PAGE-5', 'PAGE-3', 'PAGE-1']),
      );
      expect(awaiting.items.map((o) => o.outTradeNo)).not.toContain('PAGE-2');
      expect(awaiting.nextCursor).toBeNull();
    });

    it('filters by the time the order was first recorded: from inclusive, to exclusive', async () => {
      const third = (await orders.get('PAGE-3'))!;
      const fifth = (await orders.get('PAGE-5'))!;
      const between = await orders.list({
        from: new Date(third.createdAt),
        to: new Date(fifth.createdAt),
        limit: 100,
      });
      const keys = between.items.map((o) => o.outTradeNo);
      expect(keys).toContain('PAGE-3');
      expect(keys).not.toContain('PAGE-5');
      expect(keys).not.toContain('PAGE-2');
      expect(
        between.items.every((o) => o.createdAt >= third.createdAt && o.createdAt < fifth.createdAt),
      ).toBe(true);
    });

    it('refuses a cursor it did not hand out and a page size out of range', async () => {
      await expect(orders.list({}, 'not-a-cursor')).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
      const forged = Buffer.from(JSON.stringify(['yesterday', 'X'])).toString('base64url');
      await expect(orders.list({}, forged)).rejects.toBeInstanceOf(ProjectionsError);
      await expect(orders.list({ limit: 0 })).rejects.toMatchObject({
        code: 'INVALID_FILTER',
        field: 'limit',
      });
      await expect(orders.list({ limit: 101 })).rejects.toMatchObject({ code: 'INVALID_FILTER' });
      await expect(orders.list({ from: new Date('nope') })).rejects.toMatchObject({ field: 'from' });
    });
  });

  describe('search, totals and the orders that wait for a person', () => {
    const buyer = { id: '2088000000000001', email: 'alice@example.cn' };
    beforeAll(async () => {
      await run(place('SEARCH-A', { totalFee: 100 }));
      await run(status('SEARCH-A', 'TRADE_SUCCESS', { tradeNo: 'T-SEARCH-A', totalFee: 100, buyer }));
      await run(place('SEARCH-B', { totalFee: 200 }));
      await run(status('SEARCH-B', 'TRADE_SUCCESS', { tradeNo: 'T-SEARCH-B', totalFee: 200, buyer }));
      // Paid less than asked: an amount_mismatch anomaly blocks the delivery.
      await run(place('SEARCH-C', { totalFee: 300 }));
      await run(status('SEARCH-C', 'TRADE_SUCCESS', { tradeNo: 'T-SEARCH-C', totalFee: 1 }));
    });

    const keys = (page: { items: { outTradeNo: string }[] }) => page.items.map((o) => o.outTradeNo).sort();

    it('finds orders by out_trade_no, trade_no, or the buyer by id or e-mail', async () => {
      expect(keys(await orders.list({ outTradeNo: 'SEARCH-B' }))).toEqual(['SEARCH-B']);
      expect(keys(await orders.list({ tradeNo: 'T-SEARCH-A' }))).toEqual(['SEARCH-A']);
      expect(keys(await orders.list({ buyer: buyer.email }))).toEqual(['SEARCH-A', 'SEARCH-B']);
      expect(keys(await orders.list({ buyer: buyer.id, status: 'paid' }))).toEqual(['SEARCH-A', 'SEARCH-B']);
      expect(keys(await orders.list({ buyer: "alice@example.cn' OR '1'='1" }))).toEqual([]);
      await expect(orders.list({ buyer: '' })).rejects.toMatchObject({
        code: 'INVALID_FILTER',
        field: 'buyer',
      });
      await expect(orders.list({ tradeNo: 'x'.repeat(257) })).rejects.toMatchObject({ field: 'tradeNo' });
    });

    it('totals the whole selection, whatever the page size', async () => {
      await expect(orders.totals({ buyer: buyer.email })).resolves.toEqual({
        count: 2,
        totalFee: 300,
        paidFee: 300,
        refundedFee: 0,
      });
      await expect(orders.totals({ outTradeNo: 'NO-SUCH-ORDER' })).resolves.toEqual({
        count: 0,
        totalFee: 0,
        paidFee: 0,
        refundedFee: 0,
      });
      const all = await orders.totals();
      expect(all.count).toBe(((await rows()) as unknown[]).length);
    });

    it('lists an open anomaly until an operator resolves it', async () => {
      const before = await orders.needingAttention(100);
      expect(before.openAnomalies.items.map((o) => o.outTradeNo)).toContain('SEARCH-C');
      expect(before.openAnomalies.count).toBe(before.openAnomalies.items.length);
      expect(before.openAnomalies.items.map((o) => o.outTradeNo)).not.toContain('SEARCH-A');
      await run({
        type: 'ResolveAnomalies',
        outTradeNo: 'SEARCH-C',
        decision: 'confirm',
        operator: 'ops-alice',
        reason: 'the buyer paid 0.01 by mistake; refunded outside the ledger',
        resolvedAt: '2024-05-01T03:00:00.000Z',
      });
      const after = await orders.needingAttention(100);
      expect(after.openAnomalies.items.map((o) => o.outTradeNo)).not.toContain('SEARCH-C');
      expect(after.openAnomalies.count).toBe(before.openAnomalies.count - 1);
      await expect(orders.needingAttention(0)).rejects.toMatchObject({ code: 'INVALID_FILTER' });
    });
  });

  it('rebuilds from position 0 into a table equal to the live one, row for row', async () => {
    const live = await rows();
    expect(live.length).toBeGreaterThan(10);
    const outcome = await projector.rebuild(ORDER_STATUS_PROJECTION);
    expect(outcome.parked).toBe(0);
    expect(await rows()).toEqual(live);

    // The projector goes on from the rebuilt checkpoint.
    await run(status('PAGE-1', 'TRADE_SUCCESS'));
    expect(await orders.get('PAGE-1')).toMatchObject({ status: 'paid' });
  });

  it('never evolves a stored order state of another version; a rebuild folds the order again', async () => {
    await run(place('STALE-1'));
    await db.dataSource.query(`UPDATE order_status SET state_version = $1 WHERE out_trade_no = 'STALE-1'`, [
      ORDER_STATE_VERSION + 1,
    ]);
    await expect(run(status('STALE-1', 'TRADE_SUCCESS'))).rejects.toMatchObject({ code: 'EVENT_PARKED' });
    const parked = await projector.listParked(ORDER_STATUS_PROJECTION);
    expect(parked.map((event) => event.streamId)).toEqual(['order-STALE-1']);
    expect(parked[0].error).toContain(
      `order STALE-1 holds an order state of version ${ORDER_STATE_VERSION + 1}, not ${ORDER_STATE_VERSION}`,
    );
    expect(await orders.get('STALE-1')).toMatchObject({ status: 'awaiting_payment', version: 1 });

    await projector.rebuild(ORDER_STATUS_PROJECTION);
    expect(await projector.listParked(ORDER_STATUS_PROJECTION)).toEqual([]);
    expect(await orders.get('STALE-1')).toMatchObject({ status: 'paid', version: 2 });
    const [{ state_version }] = await db.dataSource.query<{ state_version: number }[]>(
      `SELECT state_version FROM order_status WHERE out_trade_no = 'STALE-1'`,
    );
    expect(state_version).toBe(ORDER_STATE_VERSION);
  });
});
