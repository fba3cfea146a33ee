import {
  decideRefundBatch,
  evolveRefundBatch,
  initialRefundBatchState,
  refundBatchStreamId,
  type RefundBatchCommand,
  type RefundBatchEvent,
  type RefundBatchItem,
  type RefundRecordResult,
  LEDGER_EVENT_CATALOGUE,
} from '@ledger/domain';
import { EventSchemas, EventStore, Projector, type AppendResult } from '@ledger/event-store';
import { createTestDatabase, type TestDatabase } from '@ledger/testing';
import { ProjectionsError } from './projections-error';
import { RefundBatchQueries } from './refund-batch-queries';
import { REFUND_BATCH_PROJECTION, refundBatchProjection } from './refund-batch.projection';

const schemas = new EventSchemas(LEDGER_EVENT_CATALOGUE);

jest.setTimeout(120_000);

// 10:00 in Beijing on 1 May 2024: batch numbers of that day start with 20240501 (docs/alipay-protocol.md,
// "batch_no").
const SUBMITTED_AT = '2024-05-01T02:00:00.000Z';

function item(n: number, amount: number): RefundBatchItem {
  return {
    outTradeNo: `ORDER-${n}`,
    tradeNo: `2024050122001004370000${1000 + n}`,
    amount,
    reason: `refund ${n}`,
  };
}

function submit(
  batchNo: string,
  items: RefundBatchItem[],
  mode: 'pwd' | 'nopwd' = 'nopwd',
): RefundBatchCommand {
  return { type: 'SubmitRefundBatch', batchNo, mode, items, submittedAt: SUBMITTED_AT };
}

function result(source: RefundBatchItem, code: string, amount = source.amount): RefundRecordResult {
  return { tradeNo: source.tradeNo, amount, code };
}

function complete(
  batchNo: string,
  results: RefundRecordResult[],
  successNum: number,
  notifyId = `notify-${batchNo}`,
): RefundBatchCommand {
  return {
    type: 'CompleteRefundBatch',
    batchNo,
    successNum,
    results,
    notifyId,
    notifyTime: '2024-05-01T02:30:00.000Z',
  };
}

describe('the refund batch projection', () => {
  let db: TestDatabase;
  let store: EventStore;
  let projector: Projector;
  let batches: RefundBatchQueries;

  /** Load, decide, append with the expected version: what the ledger's command handlers do. */
  async function decideAndAppend(command: RefundBatchCommand): Promise<AppendResult | undefined> {
    const streamId = refundBatchStreamId(command.batchNo);
    const history = await store.readStream(streamId);
    const state = history.reduce(
      (folded, event) =>
        evolveRefundBatch(folded, { type: event.type, data: event.data } as RefundBatchEvent),
      initialRefundBatchState(),
    );
    const events = decideRefundBatch(command, state);
    if (events.length === 0) return undefined;
    return store.append(streamId, history.length === 0 ? 'no_stream' : history.length, events);
  }

  async function run(command: RefundBatchCommand): Promise<AppendResult | undefined> {
    const appended = await decideAndAppend(command);
    if (appended !== undefined) await projector.waitFor(REFUND_BATCH_PROJECTION, appended, 20_000);
    return appended;
  }

  const rows = () => db.dataSource.query(`SELECT * FROM refund_batches ORDER BY batch_no`);
  const row = async (batchNo: string) =>
    (await db.dataSource.query(`SELECT * FROM refund_batches WHERE batch_no = $1`, [batchNo]))[0] as
      Record<string, unknown> | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('refund_batches');
    store = new EventStore(db.dataSource, schemas);
    projector = new Projector(db.dataSource, [refundBatchProjection], { schemas, rebuildBatchSize: 5 });
    await projector.start();
    batches = new RefundBatchQueries(db.dataSource);
  });
  afterAll(async () => {
    await projector?.stop();
    await db?.close();
  });

  it('follows a batch from submission through acceptance to a result reconciled per record', async () => {
    const [a, b, c] = [item(1, 3_000), item(2, 5_000), item(3, 1_000)];
    await run(submit('20240501101', [a, b, c]));
    expect(await batches.get('20240501101')).toMatchObject({
      batchNo: '20240501101',
      mode: 'nopwd',
      state: 'submitted',
      errorCode: null,
      batchNum: 3,
      totalAmount: 9_000,
      successNum: null,
      items: [
        { outTradeNo: 'ORDER-1', tradeNo: a.tradeNo, amount: 3_000, reason: 'refund 1', result: null },
        { outTradeNo: 'ORDER-2', tradeNo: b.tradeNo, amount: 5_000, reason: 'refund 2', result: null },
        { outTradeNo: 'ORDER-3', tradeNo: c.tradeNo, amount: 1_000, reason: 'refund 3', result: null },
      ],
      anomalies: [],
      version: 1,
    });

    await run({ type: 'AcceptRefundBatch', batchNo: '20240501101', reply: 'T', acceptedAt: SUBMITTED_AT });
    expect(await batches.get('20240501101')).toMatchObject({ state: 'accepted', version: 2 });

    // No result an hour later: flagged; then the result comes, one record short and one nobody submitted.
    await run({
      type: 'FlagOverdueRefundBatch',
      batchNo: '20240501101',
      checkedAt: '2024-05-01T03:00:00.000Z',
      overdueAfterMs: 3_600_000,
    });
    const stranger = { tradeNo: '2024050122001004379999', amount: 200, code: 'SUCCESS' };
    await run(
      complete('20240501101', [result(a, 'SUCCESS'), result(b, 'SELLER_BALANCE_NOT_ENOUGH'), stranger], 2),
    );

    const batch = (await batches.get('20240501101'))!;
    expect(batch).toMatchObject({ state: 'completed', successNum: 2, errorCode: null, version: 4 });
    expect(batch.items).toEqual([
      {
        outTradeNo: 'ORDER-1',
        tradeNo: a.tradeNo,
        amount: 3_000,
        reason: 'refund 1',
        result: { amount: 3_000, code: 'SUCCESS', outcome: 'refunded' },
      },
      {
        outTradeNo: 'ORDER-2',
        tradeNo: b.tradeNo,
        amount: 5_000,
        reason: 'refund 2',
        result: { amount: 5_000, code: 'SELLER_BALANCE_NOT_ENOUGH', outcome: 'failed' },
      },
      { outTradeNo: 'ORDER-3', tradeNo: c.tradeNo, amount: 1_000, reason: 'refund 3', result: null },
      {
        outTradeNo: null,
        tradeNo: stranger.tradeNo,
        amount: null,
        reason: null,
        result: { amount: 200, code: 'SUCCESS', outcome: 'refunded' },
      },
    ]);
    // In the order they were recorded: the overdue flag, then the reconciliation's findings.
    expect(batch.anomalies).toEqual([
      {
        kind: 'refund_result_missing',
        detail: expect.stringContaining('60 minutes'),
        tradeNo: null,
        notifyId: null,
        detectedAt: '2024-05-01T03:00:00.000Z',
      },
      {
        kind: 'refund_result_unmatched',
        detail: expect.stringContaining(stranger.tradeNo),
        tradeNo: stranger.tradeNo,
        notifyId: 'notify-20240501101',
        detectedAt: '2024-05-01T02:30:00.000Z',
      },
      {
        kind: 'refund_result_missing',
        detail: expect.stringContaining(c.tradeNo),
        tradeNo: c.tradeNo,
        notifyId: 'notify-20240501101',
        detectedAt: '2024-05-01T02:30:00.000Z',
      },
    ]);

    // Times are the events' recorded times, never the clock.
    const events = await store.readStream(refundBatchStreamId('20240501101'));
    expect(batch.submittedAt).toBe(events[0].metadata.recordedAt);
    expect(batch.updatedAt).toBe(events[3].metadata.recordedAt);
    expect(batch.lastPosition).toBe(events[3].globalPosition);
  });

  it('shows a batch the gateway rejected with its error code, no result and nothing refunded', async () => {
    await run(submit('20240501102', [item(4, 700)], 'nopwd'));
    await run({
      type: 'RejectRefundBatch',
      batchNo: '20240501102',
      code: 'BATCH_NUM_EXCEED_LIMIT',
      rejectedAt: SUBMITTED_AT,
    });
    expect(await batches.get('20240501102')).toMatchObject({
      state: 'rejected',
      errorCode: 'BATCH_NUM_EXCEED_LIMIT',
      successNum: null,
      items: [{ outTradeNo: 'ORDER-4', amount: 700, result: null }],
      anomalies: [],
      version: 2,
    });
  });

  it("shows a batch whose outcome is unknown, the refused resend, and the operator's mark; pwd batches cancelled or expired", async () => {
    const unsettled = await batches.unsettledCounts();
    await run(submit('20240501105', [item(10, 1_000)]));
    expect(await batches.unsettledCounts()).toEqual({ ...unsettled, submitted: unsettled.submitted + 1 });
    await run({
      type: 'MarkRefundBatchOutcomeUnknown',
      batchNo: '20240501105',
      code: 'TIMEOUT',
      detail: 'no complete reply within 10000 ms',
      at: '2024-05-01T02:00:10.000Z',
    });
    expect(await batches.get('20240501105')).toMatchObject({
      state: 'outcome_unknown',
      unanswered: { code: 'TIMEOUT', resendRejection: null },
      resolution: null,
    });
    expect(await batches.unsettledCounts()).toEqual({
      ...unsettled,
      outcome_unknown: unsettled.outcome_unknown + 1,
    });
    await run({
      type: 'RejectRefundBatch',
      batchNo: '20240501105',
      code: 'BATCH_NO_DATE_ERROR',
      rejectedAt: '2024-05-02T01:00:00.000Z',
    });
    expect(await batches.get('20240501105')).toMatchObject({
      state: 'outcome_unknown',
      errorCode: null,
      unanswered: { code: 'TIMEOUT', resendRejection: { code: 'BATCH_NO_DATE_ERROR' } },
    });
    await run({
      type: 'MarkRefundBatchOutcome',
      batchNo: '20240501105',
      accepted: false,
      operator: 'ops-alice',
      reason: 'not in the console',
      markedAt: '2024-05-02T02:00:00.000Z',
    });
    expect(await batches.get('20240501105')).toMatchObject({
      state: 'rejected',
      errorCode: 'NOT_ACCEPTED',
      resolution: { action: 'marked_not_accepted', operator: 'ops-alice', reason: 'not in the console' },
    });
    expect((await batches.list({ state: 'rejected' })).items.map((b) => b.batchNo)).toContain('20240501105');
    // Settled: no longer counted.
    expect(await batches.unsettledCounts()).toEqual(unsettled);

    await run(submit('20240501106', [item(11, 1_000)], 'pwd'));
    await run({
      type: 'CancelRefundBatch',
      batchNo: '20240501106',
      operator: 'ops-bob',
      reason: 'withdrawn',
      cancelledAt: '2024-05-01T05:00:00.000Z',
    });
    expect(await batches.get('20240501106')).toMatchObject({
      state: 'cancelled',
      unanswered: null,
      resolution: { action: 'cancelled', operator: 'ops-bob', reason: 'withdrawn' },
    });
    await run(submit('20240501107', [item(12, 1_000)], 'pwd'));
    await run({
      type: 'ExpireRefundBatch',
      batchNo: '20240501107',
      checkedAt: '2024-05-04T02:00:00.000Z',
      expireAfterMs: 72 * 3_600_000,
    });
    expect(await batches.get('20240501107')).toMatchObject({
      state: 'expired',
      resolution: { action: 'expired', operator: 'ledger', reason: expect.stringContaining('72 hours') },
    });
    expect((await batches.list({ state: 'expired' })).items.map((b) => b.batchNo)).toEqual(['20240501107']);
  });

  it('records a result for a batch this ledger never submitted, with its anomaly', async () => {
    const stray = { tradeNo: '2024050122001004378888', amount: 100, code: 'SUCCESS' };
    await run(complete('20240501103', [stray], 1));
    const batch = await batches.get('20240501103');
    expect(batch).toMatchObject({
      mode: null,
      state: 'completed',
      batchNum: null,
      totalAmount: null,
      successNum: 1,
      items: [
        {
          outTradeNo: null,
          tradeNo: stray.tradeNo,
          amount: null,
          reason: null,
          result: { amount: 100, code: 'SUCCESS', outcome: 'refunded' },
        },
      ],
    });
    expect(batch?.anomalies.map((a) => a.kind)).toEqual([
      'refund_result_unmatched',
      'refund_result_unmatched',
    ]);
    expect((await row('20240501103'))?.out_trade_nos).toEqual([]);
  });

  describe('a completion seen twice is applied once', () => {
    const d = item(5, 1_200);
    const e = item(6, 800);

    beforeAll(async () => {
      await run(submit('20240501104', [d, e]));
      // success_num 2 with one SUCCESS: one finding, which must not be listed twice.
      await run(complete('20240501104', [result(d, 'SUCCESS'), result(e, 'TRADE_HAS_CLOSED')], 2));
    });

    it('the same notification again appends nothing', async () => {
      const before = await row('20240501104');
      await expect(
        run(complete('20240501104', [result(d, 'SUCCESS'), result(e, 'TRADE_HAS_CLOSED')], 2)),
      ).resolves.toBeUndefined();
      expect(await row('20240501104')).toEqual(before);
    });

    it('a second completion appended anyway changes no result, count or anomaly', async () => {
      const before = (await batches.get('20240501104'))!;
      expect(before.anomalies.map((a) => a.kind)).toEqual(['success_num_mismatch']);
      expect(before.items.map((i) => i.result?.outcome)).toEqual(['refunded', 'already_closed']);
      const [completed] = (await store.readStream(refundBatchStreamId('20240501104'), 2)).map(
        ({ type, data }) => ({ type, data }),
      );
      expect(completed.type).toBe('RefundBatchCompleted');
      const again = await store.append(refundBatchStreamId('20240501104'), 2, [
        completed,
        {
          type: 'RefundBatchCompleted',
          data: { ...(completed.data as object), successNum: 7, notifyId: 'other', anomalies: [] },
        },
      ]);
      await projector.waitFor(REFUND_BATCH_PROJECTION, again, 20_000);
      const after = (await batches.get('20240501104'))!;
      expect(after).toEqual({
        ...before,
        version: 4,
        updatedAt: after.updatedAt,
        lastPosition: again.lastPosition,
      });
    });

    it('events handed to the projection twice are applied once', async () => {
      const before = await rows();
      // 20240501101 holds an AnomalyDetected, which a projection without the version check would list again.
      const events = [
        ...(await store.readStream(refundBatchStreamId('20240501101'))),
        ...(await store.readStream(refundBatchStreamId('20240501104'))),
      ].sort((x, y) => x.globalPosition - y.globalPosition);
      await db.dataSource.transaction(async (session) => {
        const context = { session, table: (table: string) => `"${table}"` };
        await refundBatchProjection.apply(events, context);
        await refundBatchProjection.apply([...events, ...events], context);
      });
      expect(await rows()).toEqual(before);
    });
  });

  it('ignores the events of order streams, even an AnomalyDetected naming a batch', async () => {
    const before = await rows();
    const appended = await store.append('order-ORDER-5', 'any', [
      {
        type: 'AnomalyDetected',
        data: {
          outTradeNo: 'ORDER-5',
          kind: 'over_refund',
          detail: 'x',
          detectedAt: SUBMITTED_AT,
          batchNo: '20240501104',
          tradeNo: item(5, 1).tradeNo,
        },
      },
    ]);
    await projector.waitFor(REFUND_BATCH_PROJECTION, appended, 20_000);
    expect(await rows()).toEqual(before);
    expect(await projector.listParked(REFUND_BATCH_PROJECTION)).toEqual([]);
  });

  describe('lists', () => {
    beforeAll(async () => {
      // Appended back to back and awaited once: the projector takes several streams in one batch.
      let last: AppendResult | undefined;
      for (let n = 0; n < 8; n++) {
        const batchNo = `2024050120${n}`;
        last = await decideAndAppend(
          submit(batchNo, [item(20 + n, 100), item(40, 100 + n)], n % 2 ? 'pwd' : 'nopwd'),
        );
        if (n % 3 === 0) {
          last = await decideAndAppend({
            type: 'AcceptRefundBatch',
            batchNo,
            reply: 'P',
            acceptedAt: SUBMITTED_AT,
          });
        }
      }
      await projector.waitFor(REFUND_BATCH_PROJECTION, last!, 20_000);
    });

    const everything = async (filters: Parameters<RefundBatchQueries['list']>[0] = {}, limit = 3) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await batches.list({ ...filters, limit }, cursor);
        expect(page.items.length).toBeLessThanOrEqual(limit);
        for (const listed of page.items) expect(listed).not.toHaveProperty('items');
        seen.push(...page.items.map((b) => b.batchNo));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      return seen;
    };

    it('pages through every batch exactly once, newest first', async () => {
      const all = (await rows()) as { batch_no: string; submitted_at: Date }[];
      const expected = [...all]
        .sort(
          (x, y) => y.submitted_at.getTime() - x.submitted_at.getTime() || (x.batch_no < y.batch_no ? 1 : -1),
        )
        .map((r) => r.batch_no);
      expect(await everything({}, 3)).toEqual(expected);
      expect(await everything({}, 100)).toEqual(expected);
      expect(expected.length).toBeGreaterThan(10);
    });

    it('filters by state, mode and an order of the batch, and pages within the filter', async () => {
      expect(await everything({ state: 'accepted' }, 2)).toEqual([
        '20240501206',
        '20240501203',
        '20240501200',
      ]);
      expect(await everything({ state: 'rejected' })).toEqual(['20240501105', '20240501102']);
      expect((await everything({ state: 'completed' })).sort()).toEqual([
        '20240501101',
        '20240501103',
        '20240501104',
      ]);
      expect(await everything({ mode: 'pwd', state: 'submitted' }, 1)).toEqual([
        '20240501207',
        '20240501205',
        '20240501201',
      ]);
      expect(await everything({ outTradeNo: 'ORDER-23' })).toEqual(['20240501203']);
      expect((await everything({ outTradeNo: 'ORDER-40' }, 3)).length).toBe(8);
      expect(await everything({ outTradeNo: 'ORDER-99' })).toEqual([]);
    });

    it('filters by submission time: from inclusive, to exclusive', async () => {
      // Several appends apart, so recorded at different milliseconds.
      const third = (await batches.get('20240501201'))!;
      const fifth = (await batches.get('20240501206'))!;
      expect(third.submittedAt < fifth.submittedAt).toBe(true);
      const between = await batches.list({
        from: new Date(third.submittedAt),
        to: new Date(fifth.submittedAt),
        limit: 100,
      });
      const keys = between.items.map((b) => b.batchNo);
      expect(keys).toContain('20240501201');
      expect(keys).toContain('20240501205');
      expect(keys).not.toContain('20240501206');
      expect(keys).not.toContain('20240501101');
      expect(
        between.items.every((b) => b.submittedAt >= third.submittedAt && b.submittedAt < fifth.submittedAt),
      ).toBe(true);
    });

    it('refuses a cursor it did not hand out and filters out of range, naming them', async () => {
      await expect(batches.list({}, 'not-a-cursor')).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
      const forged = Buffer.from(JSON.stringify(['2024-05-01T02:00:00.000Z', 'ORDER-1'])).toString(
        'base64url',
      );
      await expect(batches.list({}, forged)).rejects.toBeInstanceOf(ProjectionsError);
      for (const [filters, field] of [
        [{ limit: 0 }, 'limit'],
        [{ limit: 101 }, 'limit'],
        [{ state: 'lost' }, 'state'],
        [{ mode: 'card' }, 'mode'],
        [{ outTradeNo: 'A^B' }, 'outTradeNo'],
        [{ from: new Date('nope') }, 'from'],
      ] as const) {
        await expect(batches.list(filters as never)).rejects.toMatchObject({ code: 'INVALID_FILTER', field });
      }
    });
  });

  it('rebuilds from position 0 into a table equal to the live one, row for row', async () => {
    const live = await rows();
    expect(live.length).toBeGreaterThan(10);
    const outcome = await projector.rebuild(REFUND_BATCH_PROJECTION);
    expect(outcome.parked).toBe(0);
    expect(await rows()).toEqual(live);

    // The projector goes on from the rebuilt checkpoint.
    await run({ type: 'AcceptRefundBatch', batchNo: '20240501201', reply: 'T', acceptedAt: SUBMITTED_AT });
    expect(await batches.get('20240501201')).toMatchObject({ state: 'accepted', version: 2 });
  });
});
