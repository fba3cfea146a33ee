import {
  decideRefundBatch,
  evolveRefundBatch,
  initialRefundBatchState,
  refundBatchStreamId,
  type RefundBatchCommand,
  type RefundBatchEvent,
  type RefundBatchItem,
} from '@ledger/domain';
import { EventStore } from '@ledger/event-store';
import { loadConfig } from '@ledger/platform';
import { ProjectionsService } from '@ledger/projections';
import { RefundOverdueCheck } from '@ledger/processes';
import {
  createTestDatabase,
  startFakeAlipayGateway,
  type FakeAlipayGateway,
  type TestDatabase,
} from '@ledger/testing';
import { createLedgerApp, type LedgerApp } from '../apps/ledger/src/ledger-app';

jest.setTimeout(180_000);

const TOKEN = 'refund-batches-e2e-admin-token-1';
// 10:00 in Beijing on 1 May 2024: that day's batch numbers start with 20240501 (docs/alipay-protocol.md,
// "batch_no").
const AT = '2024-05-01T02:00:00.000Z';

/** The exact fields of GET /admin/refund-batches/:batchNo (docs/product-rules.md, "Admin views"). */
const BATCH_FIELDS = [
  'batchNo',
  'mode',
  'state',
  'error',
  'batchNum',
  'totalAmount',
  'successNum',
  'items',
  'anomalies',
  'unanswered',
  'resolution',
  'submittedAt',
  'updatedAt',
  'version',
];

interface BatchView {
  batchNo: string;
  mode: string | null;
  state: string | null;
  error: string | null;
  submittedAt: string;
  items?: unknown[];
  [key: string]: unknown;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

function item(outTradeNo: string, n: number, amount: number): RefundBatchItem {
  return { outTradeNo, tradeNo: `2024050122001004370000${1000 + n}`, amount, reason: `refund ${outTradeNo}` };
}

describe('the refund batch admin API', () => {
  let database: TestDatabase;
  let gateway: FakeAlipayGateway;
  let ledger: LedgerApp;
  let baseUrl: string;

  const call = (path: string, token: string | null = TOKEN) =>
    fetch(`${baseUrl}${path}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  const get = async <T>(path: string): Promise<T> => {
    const response = await call(path);
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  };
  /** Every batch, through every page of the list. */
  const allBatches = async (query = '', limit = 2): Promise<BatchView[]> => {
    const batches: BatchView[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<BatchView> = await get(
        `/admin/refund-batches?limit=${limit}${query}${cursor === null ? '' : `&cursor=${cursor}`}`,
      );
      expect(page.items.length).toBeLessThanOrEqual(limit);
      batches.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return batches;
  };
  const batchNos = async (query = '', limit = 2) => (await allBatches(query, limit)).map((b) => b.batchNo);

  /**
   * What the refund commands do (load, decide, append with the expected version), then the read-your-writes
   * wait they answer after.
   */
  async function run(command: RefundBatchCommand): Promise<void> {
    const store = ledger.app.get(EventStore);
    const streamId = refundBatchStreamId(command.batchNo);
    const history = await store.readStream(streamId);
    const state = history.reduce(
      (folded, event) =>
        evolveRefundBatch(folded, { type: event.type, data: event.data } as RefundBatchEvent),
      initialRefundBatchState(),
    );
    const events = decideRefundBatch(command, state);
    expect(events.length).toBeGreaterThan(0);
    const appended = await store.append(
      streamId,
      history.length === 0 ? 'no_stream' : history.length,
      events,
    );
    await ledger.app.get(ProjectionsService).waitForProjections(appended, 5_000);
  }
  const submit = (batchNo: string, mode: 'pwd' | 'nopwd', items: RefundBatchItem[]) =>
    run({ type: 'SubmitRefundBatch', batchNo, mode, items, submittedAt: AT });
  const accept = (batchNo: string) => run({ type: 'AcceptRefundBatch', batchNo, reply: 'T', acceptedAt: AT });

  const a = item('ORD-A', 1, 3_000);
  const b = item('ORD-B', 2, 5_000);

  beforeAll(async () => {
    gateway = await startFakeAlipayGateway();
    database = await createTestDatabase('admin_refund_batches');
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
    // The batches below are dated 2024, long overdue by today's clock: the overdue check would flag them
    // while they are written (docs/operations.md, "Refund results that do not come"). Its own tests step it.
    await ledger.app.get(RefundOverdueCheck).beforeApplicationShutdown();
    await ledger.app.listen(0, '127.0.0.1');
    baseUrl = await ledger.app.getUrl();

    await submit('20240501301', 'nopwd', [a, b]);
    await accept('20240501301');
    await run({
      type: 'CompleteRefundBatch',
      batchNo: '20240501301',
      successNum: 1,
      results: [
        { tradeNo: a.tradeNo, amount: 3_000, code: 'SUCCESS' },
        { tradeNo: b.tradeNo, amount: 4_000, code: 'SELLER_BALANCE_NOT_ENOUGH' },
      ],
      notifyId: 'batch-notify-301',
      notifyTime: '2024-05-01T02:10:00.000Z',
    });
    await submit('20240501302', 'nopwd', [item('ORD-C', 3, 1_234)]);
    await run({
      type: 'RejectRefundBatch',
      batchNo: '20240501302',
      code: 'BATCH_NUM_NOT_EQUAL_TOTAL',
      rejectedAt: AT,
    });
    await submit('20240501303', 'pwd', [item('ORD-A', 1, 1_000)]);
    await submit('20240501304', 'pwd', [item('ORD-D', 4, 100)]);
    await submit('20240501305', 'nopwd', [item('ORD-E', 5, 200)]);
    await accept('20240501305');
  });
  afterAll(async () => {
    await gateway?.close();
    await ledger?.close();
    await database?.close();
  });

  describe('GET /admin/refund-batches/:batchNo', () => {
    it('answers a completed batch: each record with its result, amounts in yuan, the anomalies', async () => {
      const batch = await get<BatchView>('/admin/refund-batches/20240501301');
      expect(Object.keys(batch).sort()).toEqual([...BATCH_FIELDS].sort());
      expect(batch).toEqual({
        batchNo: '20240501301',
        mode: 'nopwd',
        state: 'completed',
        unanswered: null,
        resolution: null,
        error: null,
        batchNum: 2,
        totalAmount: '80.00',
        successNum: 1,
        items: [
          {
            outTradeNo: 'ORD-A',
            tradeNo: a.tradeNo,
            amount: '30.00',
            reason: 'refund ORD-A',
            result: { amount: '30.00', code: 'SUCCESS', outcome: 'refunded' },
          },
          {
            outTradeNo: 'ORD-B',
            tradeNo: b.tradeNo,
            amount: '50.00',
            reason: 'refund ORD-B',
            result: { amount: '40.00', code: 'SELLER_BALANCE_NOT_ENOUGH', outcome: 'failed' },
          },
        ],
        anomalies: [
          {
            kind: 'refund_amount_mismatch',
            detail: expect.stringContaining('40.00'),
            tradeNo: b.tradeNo,
            notifyId: 'batch-notify-301',
            detectedAt: '2024-05-01T02:10:00.000Z',
          },
        ],
        submittedAt: expect.any(String),
        updatedAt: expect.any(String),
        version: 3,
      });
      expect(new Date(batch.submittedAt).toISOString()).toBe(batch.submittedAt);
      expect((batch.updatedAt as string) >= batch.submittedAt).toBe(true);
    });

    it('answers a rejected batch with the gateway error, and a submitted one without results', async () => {
      expect(await get<BatchView>('/admin/refund-batches/20240501302')).toMatchObject({
        mode: 'nopwd',
        state: 'rejected',
        error: 'BATCH_NUM_NOT_EQUAL_TOTAL',
        successNum: null,
        items: [{ outTradeNo: 'ORD-C', amount: '12.34', result: null }],
        anomalies: [],
        version: 2,
      });
      expect(await get<BatchView>('/admin/refund-batches/20240501304')).toMatchObject({
        mode: 'pwd',
        state: 'submitted',
        error: null,
        totalAmount: '1.00',
        items: [{ outTradeNo: 'ORD-D', amount: '1.00', result: null }],
        version: 1,
      });
    });

    it('is 404 for a batch the ledger does not know, 400 for text no batch_no can be', async () => {
      const unknown = await call('/admin/refund-batches/20240501399');
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: expect.stringContaining('20240501399'),
      });
      for (const malformed of [
        '2024-05-01',
        '20240231001',
        '20240501000',
        'ORD-A',
        `20240501${'1'.repeat(25)}`,
      ]) {
        const response = await call(`/admin/refund-batches/${encodeURIComponent(malformed)}`);
        expect(response.status).toBe(400);
        const error = (await response.json()) as { statusCode: number; message: string };
        expect(error).toMatchObject({ statusCode: 400, error: 'Bad Request' });
        expect(error.message.startsWith('batchNo')).toBe(true);
      }
    });
  });

  describe('GET /admin/refund-batches', () => {
    it('pages through every batch exactly once, newest first, without their records', async () => {
      const everything = await allBatches('', 100);
      expect(everything.map((batch) => batch.batchNo)).toEqual([
        '20240501305',
        '20240501304',
        '20240501303',
        '20240501302',
        '20240501301',
      ]);
      expect(await batchNos('', 2)).toEqual(everything.map((batch) => batch.batchNo));
      expect(await batchNos('', 1)).toEqual(everything.map((batch) => batch.batchNo));
      for (const batch of everything) {
        expect(Object.keys(batch).sort()).toEqual(BATCH_FIELDS.filter((f) => f !== 'items').sort());
      }
      const submitted = everything.map((batch) => batch.submittedAt);
      expect(submitted).toEqual([...submitted].sort().reverse());
    });

    it('filters by state, by mode, and by an order in the batch', async () => {
      expect(await batchNos('&state=submitted')).toEqual(['20240501304', '20240501303']);
      expect(await batchNos('&state=accepted')).toEqual(['20240501305']);
      expect(await batchNos('&state=rejected')).toEqual(['20240501302']);
      expect(await batchNos('&state=completed')).toEqual(['20240501301']);
      expect(await batchNos('&mode=pwd')).toEqual(['20240501304', '20240501303']);
      expect(await batchNos('&mode=nopwd', 1)).toEqual(['20240501305', '20240501302', '20240501301']);
      expect(await batchNos('&outTradeNo=ORD-A', 1)).toEqual(['20240501303', '20240501301']);
      expect(await batchNos('&outTradeNo=ORD-B&state=completed')).toEqual(['20240501301']);
      expect(await batchNos('&outTradeNo=ORD-NOBODY')).toEqual([]);
    });

    it('filters by submission time: from inclusive, to exclusive', async () => {
      const third = await get<BatchView>('/admin/refund-batches/20240501303');
      const after = await allBatches(`&from=${third.submittedAt}`);
      expect(after.every((batch) => batch.submittedAt >= third.submittedAt)).toBe(true);
      expect(after.map((batch) => batch.batchNo)).toContain('20240501303');
      expect(after.map((batch) => batch.batchNo)).not.toContain('20240501301');
      const before = await allBatches(`&to=${third.submittedAt}`);
      expect(before.map((batch) => batch.batchNo)).toContain('20240501301');
      expect(before.map((batch) => batch.batchNo)).not.toContain('20240501303');
      expect(await allBatches('&from=2000-01-01&to=2000-01-02')).toEqual([]);
    });

    it.each([
      ['an unknown state', 'state=lost', 'state'],
      ['an unknown mode', 'mode=card', 'mode'],
      ['an order number no order can have', `outTradeNo=${encodeURIComponent('A^B')}`, 'outTradeNo'],
      ['a page size of 0', 'limit=0', 'limit'],
      ['a page size above the maximum', 'limit=101', 'limit'],
      ['a time range whose start is after its end', 'from=2024-05-02&to=2024-05-01', 'from'],
      ['a time without a zone', 'from=2024-05-01T10:00:00', 'from'],
      ['a date that does not exist', 'to=2024-02-30', 'to'],
      ['a cursor it did not hand out', 'cursor=abc', 'cursor'],
      ['an unknown filter', 'colour=red', 'colour'],
    ])('refuses %s: 400 naming it', async (_name, query, field) => {
      const response = await call(`/admin/refund-batches?${query}`);
      expect(response.status).toBe(400);
      const error = (await response.json()) as { message: string };
      expect(error.message.startsWith(field) || error.message.includes(field)).toBe(true);
    });
  });

  it('answers the same after a rebuild of every projection', async () => {
    const snapshot = async () => {
      const list = await allBatches('', 100);
      return {
        list,
        details: await Promise.all(
          list.map((batch) => get<BatchView>(`/admin/refund-batches/${batch.batchNo}`)),
        ),
      };
    };
    const before = await snapshot();
    const response = await fetch(`${baseUrl}/admin/projections/rebuild`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(200);
    const report = (await response.json()) as { projections: { projection: string; rows: number }[] };
    expect(report.projections).toContainEqual(
      expect.objectContaining({ projection: 'refund_batches', rows: 5 }),
    );
    expect(await snapshot()).toEqual(before);
  });

  it.each([['/admin/refund-batches'], ['/admin/refund-batches/20240501301']])(
    'GET %s is 401 without the admin token or with another',
    async (path) => {
      for (const token of [null, 'wrong-token', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
        const response = await call(path, token);
        expect(response.status).toBe(401);
        expect(await response.json()).toEqual({
          statusCode: 401,
          error: 'Unauthorized',
          message: expect.any(String),
        });
      }
    },
  );

  it('documents both routes in the OpenAPI description, behind the bearer token', async () => {
    const document = (await (await fetch(`${baseUrl}/docs-json`)).json()) as {
      paths: Record<string, Record<string, { security?: unknown[]; parameters?: { name: string }[] }>>;
    };
    expect(document.paths['/admin/refund-batches']?.get?.security).toEqual([{ bearer: [] }]);
    expect(document.paths['/admin/refund-batches/{batchNo}']?.get?.security).toEqual([{ bearer: [] }]);
    expect(document.paths['/admin/refund-batches']?.get?.parameters?.map((p) => p.name).sort()).toEqual([
      'cursor',
      'from',
      'limit',
      'mode',
      'outTradeNo',
      'state',
      'to',
    ]);
  });
});
