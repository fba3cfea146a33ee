import { loadConfig } from '@ledger/platform';
import {
  createTestDatabase,
  newNotifyId,
  newTradeNo,
  postNotification,
  signedNotification,
  startFakeAlipayGateway,
  tradeStatusSyncParams,
  type FakeAlipayGateway,
  type TestDatabase,
  type TradeStatusSyncFacts,
} from '@ledger/testing';
import { createLedgerApp, type LedgerApp } from '../apps/ledger/src/ledger-app';
import { adminClient } from './admin-client.fixture';

jest.setTimeout(180_000);

const TOKEN = 'admin-e2e-admin-token-0000000001';

interface OrderView {
  outTradeNo: string;
  status: string | null;
  statusCode: number | null;
  delivery: { state: string };
  version: number;
  createdAt?: string;
  [key: string]: unknown;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface HistoryEvent {
  position: number;
  version: number;
  type: string;
  data: Record<string, unknown>;
  metadata: { causationId: string; correlationId: string; recordedAt: string };
  recordedAt: string;
  notification: { id: number; notifyId: string; outcome: string; verified: boolean } | null;
}

/** The exact fields of GET /admin/orders/:outTradeNo (docs/product-rules.md, "Admin views"). */
const ORDER_FIELDS = [
  'outTradeNo',
  'tradeNo',
  'status',
  'statusCode',
  'tradeStatus',
  'refundStatus',
  'paymentType',
  'subject',
  'totalFee',
  'paidFee',
  'refundedFee',
  'buyerId',
  'buyerEmail',
  'delivery',
  'return',
  'anomalies',
  'updatedAt',
  'version',
];

describe('the admin API', () => {
  let database: TestDatabase;
  let gateway: FakeAlipayGateway;
  let ledger: LedgerApp;
  let baseUrl: string;
  const tradeNos = new Map<string, string>();

  const { call, get } = adminClient(() => baseUrl, TOKEN);
  const place = async (outTradeNo: string, service = 'create_direct_pay_by_user') => {
    const response = await call('POST', '/orders', {
      outTradeNo,
      subject: 'Annual membership',
      totalFee: '120.00',
      service,
    });
    expect(response.status).toBe(201);
  };
  /** A signed trade_status_sync, as Alipay's notifier posts it; answered `success`. */
  const notify = async (
    facts: Partial<TradeStatusSyncFacts> & { outTradeNo: string; tradeStatus: string },
  ) => {
    if (!tradeNos.has(facts.outTradeNo)) tradeNos.set(facts.outTradeNo, newTradeNo());
    const notifyId = facts.notifyId ?? newNotifyId();
    const params = tradeStatusSyncParams({
      tradeNo: tradeNos.get(facts.outTradeNo)!,
      totalFee: '120.00',
      ...facts,
      notifyId,
    });
    const reply = await postNotification(`${baseUrl}/alipay/notify`, signedNotification(params));
    expect(reply.text).toBe('success');
    return notifyId;
  };
  /** Every order, through every page of the list. */
  const allOrders = async (query = '', limit = 2): Promise<OrderView[]> => {
    const orders: OrderView[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<OrderView> = await get(
        `/admin/orders?limit=${limit}${query}${cursor === null ? '' : `&cursor=${cursor}`}`,
      );
      orders.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return orders;
  };
  /** Everything the admin API says about the orders, histories included. */
  const snapshot = async () => {
    const orders = await allOrders('', 100);
    const details = await Promise.all(
      orders.map(async (order) => ({
        view: await get<OrderView>(`/admin/orders/${order.outTradeNo}`),
        history: await get<{ events: HistoryEvent[] }>(`/admin/orders/${order.outTradeNo}/history`),
      })),
    );
    return { orders, details };
  };
  /** Waits until the delivery worker, if any, has nothing left to do: two equal snapshots in a row. */
  const settled = async () => {
    let previous = JSON.stringify(await snapshot());
    for (let i = 0; i < 40; i++) {
      await new Promise((resolve) => setTimeout(resolve, 750));
      const next = JSON.stringify(await snapshot());
      if (next === previous) return JSON.parse(next) as Awaited<ReturnType<typeof snapshot>>;
      previous = next;
    }
    throw new Error('the ledger kept changing');
  };

  beforeAll(async () => {
    gateway = await startFakeAlipayGateway();
    database = await createTestDatabase('admin');
    const config = loadConfig(
      {
        LEDGER_MODE: 'demo',
        ADMIN_TOKEN: TOKEN,
        ALIPAY_GATEWAY: gateway.url,
        LOG_LEVEL: 'warn',
        FULFILMENT_WORKER: 'false',
      },
      { envFile: false },
    );
    ledger = await createLedgerApp(config, { database });
    await ledger.app.listen(0, '127.0.0.1');
    baseUrl = await ledger.app.getUrl();

    await place('ADM-PAID');
    await notify({ outTradeNo: 'ADM-PAID', tradeStatus: 'TRADE_SUCCESS' });
    await place('ADM-FINISHED');
    await notify({ outTradeNo: 'ADM-FINISHED', tradeStatus: 'TRADE_FINISHED' });
    await place('ADM-MISMATCH');
    await notify({ outTradeNo: 'ADM-MISMATCH', tradeStatus: 'TRADE_SUCCESS', totalFee: '1.20' });
    await place('ADM-WAITING');
    await place('ADM-ESCROW', 'trade_create_by_buyer');
    await notify({
      outTradeNo: 'ADM-ESCROW',
      tradeStatus: 'WAIT_BUYER_PAY',
      service: 'trade_create_by_buyer',
    });
    await notify({
      outTradeNo: 'ADM-ESCROW',
      tradeStatus: 'WAIT_SELLER_SEND_GOODS',
      service: 'trade_create_by_buyer',
    });
    await notify({ outTradeNo: 'ADM-UNKNOWN', tradeStatus: 'TRADE_SUCCESS' });
  });
  afterAll(async () => {
    await gateway?.close();
    await ledger?.close();
    await database?.close();
  });

  describe('GET /admin/orders/:outTradeNo', () => {
    // docs/product-rules.md, "Admin views"
    it('answers exactly the documented fields, read right after the notification got success', async () => {
      await place('ADM-READ');
      await notify({ outTradeNo: 'ADM-READ', tradeStatus: 'TRADE_SUCCESS', buyerId: '2088102122520001' });
      const order = await get<OrderView>('/admin/orders/ADM-READ');
      expect(Object.keys(order).sort()).toEqual([...ORDER_FIELDS].sort());
      expect(order).toMatchObject({
        outTradeNo: 'ADM-READ',
        tradeNo: tradeNos.get('ADM-READ'),
        status: 'paid',
        statusCode: 8,
        tradeStatus: 'TRADE_SUCCESS',
        refundStatus: null,
        paymentType: 'instant',
        subject: 'Annual membership',
        totalFee: '120.00',
        paidFee: '120.00',
        refundedFee: '0.00',
        buyerId: '2088102122520001',
        return: { state: 'none' },
        anomalies: [],
        version: 2,
      });
      expect(['pending', 'delivered']).toContain(order.delivery.state);
      expect(new Date(order.updatedAt as string).toISOString()).toBe(order.updatedAt);
    });

    it('shows anomalies and blocks delivery: a wrong amount, an order never placed', async () => {
      expect(await get<OrderView>('/admin/orders/ADM-MISMATCH')).toMatchObject({
        status: 'awaiting_payment',
        paidFee: '0.00',
        delivery: { state: 'blocked' },
        anomalies: [{ kind: 'amount_mismatch', detail: expect.any(String) }],
      });
      expect(await get<OrderView>('/admin/orders/ADM-UNKNOWN')).toMatchObject({
        status: null,
        statusCode: null,
        totalFee: null,
        delivery: { state: 'blocked' },
        anomalies: [{ kind: 'unknown_order', detail: expect.any(String) }],
      });
    });

    it('is 404 for an order the ledger does not know, 400 for a number no order can have', async () => {
      const unknown = await call('GET', '/admin/orders/ADM-NOBODY');
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: expect.stringContaining('ADM-NOBODY'),
      });
      expect((await call('GET', '/admin/orders/ADM-NOBODY/history')).status).toBe(404);
      const invalid = await call('GET', `/admin/orders/${encodeURIComponent('ADM^1')}`);
      expect(invalid.status).toBe(400);
      expect(((await invalid.json()) as { message: string }).message).toContain('out_trade_no');
    });
  });

  describe('GET /admin/orders', () => {
    it('pages through every order exactly once, newest first, with a cursor', async () => {
      const everything = await allOrders('', 100);
      const paged = await allOrders('', 2);
      expect(paged.map((o) => o.outTradeNo)).toEqual(everything.map((o) => o.outTradeNo));
      expect(new Set(paged.map((o) => o.outTradeNo)).size).toBe(paged.length);
      expect(paged.map((o) => o.outTradeNo)).toEqual(
        expect.arrayContaining([
          'ADM-PAID',
          'ADM-FINISHED',
          'ADM-MISMATCH',
          'ADM-WAITING',
          'ADM-ESCROW',
          'ADM-UNKNOWN',
        ]),
      );
      const created = paged.map((o) => o.createdAt!);
      expect(created).toEqual([...created].sort().reverse());
    });

    it('filters by status and by the decisions', async () => {
      const paid = await allOrders('&status=paid');
      expect(paid.map((o) => o.outTradeNo)).toEqual(expect.arrayContaining(['ADM-PAID', 'ADM-ESCROW']));
      expect(paid.every((o) => o.status === 'paid')).toBe(true);
      expect((await allOrders('&status=finished')).map((o) => o.outTradeNo)).toEqual(['ADM-FINISHED']);
      expect((await allOrders('&status=awaiting_payment')).map((o) => o.outTradeNo).sort()).toEqual([
        'ADM-MISMATCH',
        'ADM-WAITING',
      ]);
      expect((await allOrders('&delivery=blocked')).map((o) => o.outTradeNo).sort()).toEqual([
        'ADM-MISMATCH',
        'ADM-UNKNOWN',
      ]);
    });

    it('filters by the time the order was first recorded', async () => {
      const everything = await allOrders('', 100);
      const escrow = everything.find((o) => o.outTradeNo === 'ADM-ESCROW')!;
      const after = await allOrders(`&from=${escrow.createdAt}`);
      expect(after.every((o) => o.createdAt! >= escrow.createdAt!)).toBe(true);
      expect(after.map((o) => o.outTradeNo)).toContain('ADM-ESCROW');
      expect(after.map((o) => o.outTradeNo)).not.toContain('ADM-PAID');
      const before = await allOrders(`&to=${escrow.createdAt}`);
      expect(before.map((o) => o.outTradeNo)).toContain('ADM-PAID');
      expect(before.map((o) => o.outTradeNo)).not.toContain('ADM-ESCROW');
      expect(await allOrders('&from=2000-01-01&to=2000-01-02')).toEqual([]);
    });

    it.each([
      ['an unknown status', 'status=shipping', 'status'],
      ['a page size of 0', 'limit=0', 'limit'],
      ['a page size above the maximum', 'limit=101', 'limit'],
      ['a time range whose start is after its end', 'from=2024-05-02&to=2024-05-01', 'from'],
      ['a time without a zone', 'from=2024-05-01T10:00:00', 'from'],
      ['a date that does not exist', 'to=2024-02-30', 'to'],
      ['a cursor it did not hand out', 'cursor=abc', 'cursor'],
      ['an unknown filter', 'colour=red', 'colour'],
    ])('refuses %s: 400 naming it', async (_name, query, field) => {
      const response = await call('GET', `/admin/orders?${query}`);
      expect(response.status).toBe(400);
      const error = (await response.json()) as { message: string };
      expect(error.message.startsWith(field) || error.message.includes(field)).toBe(true);
    });
  });

  describe('GET /admin/orders/:outTradeNo/history', () => {
    it("lists the order's events in order, each with the notification that caused it", async () => {
      const notifyId = await notify({ outTradeNo: 'ADM-WAITING', tradeStatus: 'TRADE_SUCCESS' });
      const { events } = await get<{ outTradeNo: string; events: HistoryEvent[] }>(
        '/admin/orders/ADM-WAITING/history',
      );
      expect(events.slice(0, 2).map((e) => e.type)).toEqual(['OrderPlaced', 'PaymentSucceeded']);
      expect(events.map((e) => e.version)).toEqual(events.map((_e, i) => i + 1));
      const positions = events.map((e) => e.position);
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
      for (const event of events) {
        expect(Object.keys(event).sort()).toEqual(
          ['position', 'version', 'type', 'data', 'metadata', 'recordedAt', 'notification'].sort(),
        );
        expect(event.recordedAt).toBe(event.metadata.recordedAt);
      }

      const [placed, paid] = events;
      expect(placed.notification).toBeNull();
      expect(placed.metadata.causationId).toMatch(/^api:/);
      expect(paid.data).toMatchObject({ outTradeNo: 'ADM-WAITING', paidFee: 12_000, paymentType: 'instant' });
      expect(paid.notification).toMatchObject({
        id: Number(paid.metadata.causationId),
        notifyId,
        outTradeNo: 'ADM-WAITING',
        channel: 'notify',
        outcome: 'applied',
        verified: true,
      });
    });

    it('keeps the anomaly of an order never placed with its notification', async () => {
      const { events } = await get<{ events: HistoryEvent[] }>('/admin/orders/ADM-UNKNOWN/history');
      expect(events.map((e) => e.type)).toEqual(['AnomalyDetected']);
      expect(events[0].notification).toMatchObject({ outTradeNo: 'ADM-UNKNOWN', outcome: 'applied' });
    });
  });

  describe('GET /admin/notifications', () => {
    it('filters the inbox by order, outcome and verification, newest first, in pages', async () => {
      const escrow = await get<
        Page<{ id: number; outTradeNo: string; verification: unknown; body: { params: unknown[] } }>
      >('/admin/notifications?outTradeNo=ADM-ESCROW');
      expect(escrow.items).toHaveLength(2);
      expect(escrow.items[0].id).toBeGreaterThan(escrow.items[1].id);
      expect(escrow.items.every((n) => n.outTradeNo === 'ADM-ESCROW' && n.verification !== null)).toBe(true);
      expect(escrow.items[0].body.params).toEqual(
        expect.arrayContaining([{ name: 'out_trade_no', value: 'ADM-ESCROW' }]),
      );

      const first = await get<Page<{ id: number }>>(
        '/admin/notifications?verified=true&outcome=applied&limit=2',
      );
      expect(first.items).toHaveLength(2);
      const second = await get<Page<{ id: number }>>(
        `/admin/notifications?verified=true&outcome=applied&limit=2&cursor=${first.nextCursor}`,
      );
      expect(second.items[0].id).toBeLessThan(first.items[1].id);

      expect((await call('GET', '/admin/notifications?verified=maybe')).status).toBe(400);
      expect((await call('GET', '/admin/notifications?outcome=lost')).status).toBe(400);
      expect((await call('GET', '/admin/notifications?cursor=zzz')).status).toBe(400);
      expect((await call('GET', `/admin/notifications?outTradeNo=${'A'.repeat(65)}`)).status).toBe(400);
      expect((await call('GET', `/admin/notifications?notifyId=${'n'.repeat(257)}`)).status).toBe(400);
      expect((await call('GET', '/admin/notifications?limit=101')).status).toBe(400);
      expect((await call('GET', '/admin/notifications?from=2024-05-02&to=2024-05-01')).status).toBe(400);
    });
  });

  describe('GET /admin/exports/:kind', () => {
    const day = () => {
      const now = Date.now();
      return `from=${new Date(now - 86_400_000).toISOString()}&to=${new Date(now + 86_400_000).toISOString()}`;
    };

    it('streams the orders as JSON lines, one per order the list shows', async () => {
      const response = await call('GET', `/admin/exports/orders?${day()}&format=jsonl`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
      expect(response.headers.get('content-disposition')).toMatch(/filename="ledger-orders-[\d-]+\.jsonl"$/);
      const rows = (await response.text())
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { out_trade_no: string; total_yuan: string });
      const placed = (await allOrders('', 100)).filter((order) => order.totalFee !== null);
      expect(rows.map((row) => row.out_trade_no).sort()).toEqual(placed.map((o) => o.outTradeNo).sort());
      expect(rows.every((row) => row.total_yuan === '120.00')).toBe(true);
    });

    it.each([
      [
        'invoices?from=2024-05-01&to=2024-06-01',
        'kind: "invoices" is not one of orders, payments, refunds, movements',
      ],
      ['orders?from=2024-05-01&to=2024-06-01&format=xlsx', 'format: "xlsx" is not one of csv, jsonl'],
      [
        'orders?to=2024-06-01',
        'from: required: a date (midnight in Beijing) or an ISO 8601 instant with its zone',
      ],
      ['orders?from=2024-06-01&to=2024-05-01', 'to: must be after from'],
      ['orders?from=2024-05-01T10:00&to=2024-06-01', 'from: "2024-05-01T10:00" is neither a date'],
      ['orders?from=2024-05-01&to=2024-06-01&limit=3', 'limit: property limit should not exist'],
    ])('refuses /admin/exports/%s with 400 and the reason', async (path, message) => {
      const response = await call('GET', `/admin/exports/${path}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { message: string }).message).toContain(message);
    });
  });

  describe('replay and rebuild change nothing', () => {
    it('replays every stored notification: nothing new, dry or not', async () => {
      const before = await settled();
      const dry = await call('POST', '/admin/replay', { all: true, dryRun: true });
      expect(dry.status).toBe(200);
      expect(await dry.json()).toMatchObject({ dryRun: true, events: 0, orders: [] });
      const real = await call('POST', '/admin/replay', { all: true });
      expect(await real.json()).toMatchObject({ dryRun: false, events: 0, orders: [] });
      expect(await snapshot()).toEqual(before);
    });

    it('refuses a replay that does not choose exactly one selection', async () => {
      for (const body of [
        {},
        { all: true, ids: [1] },
        { from: '2024-01-01' },
        { ids: [] },
        { ids: [0] },
        { all: false },
      ]) {
        const response = await call('POST', '/admin/replay', body);
        expect(response.status).toBe(400);
      }
    });

    it('rebuilds the projection from position 0: counts, duration, and every answer as before', async () => {
      const before = await settled();
      const response = await call('POST', '/admin/projections/rebuild');
      expect(response.status).toBe(200);
      const report = (await response.json()) as {
        projections: {
          projection: string;
          events: number;
          parked: number;
          rows: number;
          durationMs: number;
        }[];
        durationMs: number;
      };
      const events = before.details.reduce((sum, { history }) => sum + history.events.length, 0);
      const movements = before.details
        .flatMap(({ history }) => history.events)
        .filter((event) => ['PaymentSucceeded', 'RefundSucceeded', 'RefundFailed'].includes(event.type));
      expect(movements.length).toBeGreaterThan(0);
      expect(report.projections).toEqual([
        {
          projection: 'order_status',
          events,
          parked: 0,
          rows: before.orders.length,
          durationMs: expect.any(Number),
        },
        // Reads the same events; this file appends no refund batch.
        { projection: 'refund_batches', events, parked: 0, rows: 0, durationMs: expect.any(Number) },
        {
          projection: 'money_movements',
          events,
          parked: 0,
          rows: movements.length,
          durationMs: expect.any(Number),
        },
      ]);
      expect(report.durationMs).toBeGreaterThanOrEqual(report.projections[0].durationMs);
      expect(await snapshot()).toEqual(before);
    });

    it('rebuilds one projection by name, and refuses a name it does not know', async () => {
      const before = await settled();
      const response = await call('POST', '/admin/projections/rebuild', { projection: 'order_status' });
      expect(response.status).toBe(200);
      const report = (await response.json()) as { projections: { projection: string; rows: number }[] };
      expect(report.projections).toEqual([
        expect.objectContaining({ projection: 'order_status', rows: before.orders.length }),
      ]);
      expect(await snapshot()).toEqual(before);

      const unknown = await call('POST', '/admin/projections/rebuild', { projection: 'orders' });
      expect(unknown.status).toBe(400);
      expect(await unknown.json()).toMatchObject({
        message: 'projection: must be one of order_status, refund_batches, money_movements',
      });
    });

    it('reports how far the projections are behind, and no rebuild under way', async () => {
      const lag = await get<{ projection: string; active: boolean; events: number }[]>('/admin/projections');
      expect(lag).toEqual(
        ['order_status', 'refund_batches', 'money_movements'].map((projection) => ({
          projection,
          active: true,
          events: 0,
          seconds: 0,
          rebuild: null,
        })),
      );
    });
  });

  describe('needs the admin token', () => {
    // Three values a row: jest reads a test function with more parameters than values as taking `done`.
    const routes: [string, string, unknown][] = [
      ['GET', '/admin/orders', undefined],
      ['GET', '/admin/orders/ADM-PAID', undefined],
      ['GET', '/admin/orders/ADM-PAID/history', undefined],
      ['GET', '/admin/notifications', undefined],
      ['GET', '/admin/notifications/1', undefined],
      ['GET', '/admin/projections', undefined],
      ['POST', '/admin/replay', { all: true }],
      ['POST', '/admin/projections/rebuild', undefined],
      ['GET', '/admin/exports/orders?from=2024-05-01&to=2024-06-01', undefined],
      [
        'POST',
        '/admin/orders/ADM-MISMATCH/anomalies/resolve',
        { decision: 'accept', operator: 'o', reason: 'r' },
      ],
      ['POST', '/admin/refund-batches/20240501001/cancel', { operator: 'o', reason: 'r' }],
      ['POST', '/admin/refund-batches/20240501001/outcome', { accepted: false, operator: 'o', reason: 'r' }],
    ];
    it.each(routes)('%s %s is 401 without it or with another', async (method, path, body) => {
      for (const token of [null, 'wrong-token', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
        const response = await call(method, path, body, token);
        expect(response.status).toBe(401);
        expect(await response.json()).toEqual({
          statusCode: 401,
          error: 'Unauthorized',
          message: expect.any(String),
        });
      }
    });
  });

  it('documents every admin route in the OpenAPI description, behind the bearer token', async () => {
    const document = (await (await fetch(`${baseUrl}/docs-json`)).json()) as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    for (const [method, path] of [
      ['post', '/orders'],
      ['get', '/admin/orders'],
      ['get', '/admin/orders/{outTradeNo}'],
      ['get', '/admin/orders/{outTradeNo}/history'],
      ['get', '/admin/notifications'],
      ['post', '/admin/replay'],
      ['post', '/admin/projections/rebuild'],
      ['get', '/admin/exports/{kind}'],
      ['post', '/admin/orders/{outTradeNo}/anomalies/resolve'],
      ['post', '/admin/refund-batches/{batchNo}/cancel'],
      ['post', '/admin/refund-batches/{batchNo}/outcome'],
    ]) {
      expect(document.paths[path]?.[method]?.security).toEqual([{ bearer: [] }]);
    }
  });
});
