import { formatYuan } from '@ledger/alipay-protocol';
import { EventStore } from '@ledger/event-store';
import { DEMO_ALIPAY, LedgerLogger, loadConfig } from '@ledger/platform';
import {
  createTestDatabase,
  startCommandPath,
  type CommandPath,
  newNotifyId,
  newTradeNo,
  signedNotification,
  tradeStatusSyncParams,
  type SignedNotification,
  type TestDatabase,
  type TradeStatusSyncFacts,
} from '@ledger/testing';
import {
  InboxError,
  InboxQueries,
  InboxRecovery,
  InboxStore,
  type IngestResult,
  type NotifyIdCheck,
  type RawNotification,
} from '@ledger/inbox';
import { PlaceOrderCommand } from './orders/order-stream-commands';
import type { NotificationPipeline } from './pipeline/notification-pipeline';
import { ReplayNotificationsCommand } from './replay/replay-notifications';
import type { ReplayOptions, ReplayReport, ReplaySelection } from './replay/replay-report';

// The ingest library against a real database: the pipeline's outcomes and evidence, the
// inbox queries, replays and the recovery of interrupted notifications. The HTTP edge is covered by
// test/alipay-notify*.e2e-spec.ts.

const FORGED_KEY = `forged-key-${'0'.repeat(21)}`;

function trade(facts: TradeStatusSyncFacts, key?: string): SignedNotification {
  return signedNotification(tradeStatusSyncParams(facts), key);
}

function raw(
  notification: SignedNotification,
  channel: RawNotification['channel'] = 'notify',
): RawNotification {
  return {
    channel,
    receivedAt: new Date(),
    remoteAddress: '127.0.0.1',
    method: channel === 'notify' ? 'POST' : 'GET',
    path: `/alipay/${channel}`,
    headers: { 'content-type': notification.contentType },
    contentType: notification.contentType,
    body: notification.body,
    receivedBytes: notification.body.length,
    truncated: false,
  };
}

describe('ingest on a real database', () => {
  let database: TestDatabase;
  let store: EventStore;
  let pipeline: NotificationPipeline;
  let queries: InboxQueries;
  let replayer: { replay(selection: ReplaySelection, options?: ReplayOptions): Promise<ReplayReport> };
  let path: CommandPath;
  const paths: CommandPath[] = [];
  const answers = new Map<string, 'true' | 'false' | 'down'>();

  const receive = (notification: SignedNotification): Promise<IngestResult> =>
    pipeline.receive(raw(notification));
  const types = async (outTradeNo: string) =>
    (await store.readStream(`order-${outTradeNo}`)).map((event) => event.type);
  const placeOrder = (outTradeNo: string, totalFee = 1234) =>
    path.bus.execute(
      new PlaceOrderCommand({
        type: 'PlaceOrder',
        outTradeNo,
        subject: `order ${outTradeNo}`,
        totalFee,
        service: 'create_direct_pay_by_user',
        sellerId: DEMO_ALIPAY.partner,
        requestParameters: { out_trade_no: outTradeNo, total_fee: formatYuan(totalFee) },
        placedAt: '2024-05-01T00:00:00.000Z',
      }),
    );

  beforeAll(async () => {
    database = await createTestDatabase('ingest');
    const config = loadConfig({ LOG_LEVEL: 'fatal' }, { envFile: false });
    const check: NotifyIdCheck = (notifyId) => {
      const answer = answers.get(notifyId) ?? 'true';
      if (answer === 'down')
        return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'UNREACHABLE' }));
      return Promise.resolve({ genuine: answer === 'true', body: answer });
    };
    path = await startCommandPath(database, { notifyIdCheck: check });
    ({ store, pipeline } = path);
    queries = new InboxQueries(database.dataSource, config);
    replayer = {
      replay: (selection, options) => path.bus.execute(new ReplayNotificationsCommand(selection, options)),
    };
  });

  afterAll(async () => {
    for (const opened of paths) await opened.close();
    await path?.close();
    await database?.close();
  });

  describe('NotificationPipeline', () => {
    it('applies a genuine payment, with a checkpoint to wait for and the order it reached', async () => {
      await placeOrder('P-1');
      const result = await receive(
        trade({ outTradeNo: 'P-1', tradeNo: newTradeNo(), tradeStatus: 'TRADE_SUCCESS', totalFee: '12.34' }),
      );
      expect(result).toMatchObject({ outcome: 'applied', reply: 'success', order: { outTradeNo: 'P-1' } });
      expect(result.order?.state.paid).toBe(true);
      const [, payment] = await store.readStream('order-P-1');
      expect(result.checkpoint).toEqual({
        transactionId: payment.transactionId,
        position: payment.globalPosition,
      });
      expect(payment.metadata).toMatchObject({
        causationId: String(result.inboxId),
        correlationId: String(result.inboxId),
      });
    });

    it('answers fail and records why for every kind of refusal, appending nothing', async () => {
      await placeOrder('P-2');
      const forged = await receive(
        trade(
          { outTradeNo: 'P-2', tradeNo: newTradeNo(), tradeStatus: 'TRADE_SUCCESS', totalFee: '12.34' },
          FORGED_KEY,
        ),
      );
      expect(forged).toMatchObject({ outcome: 'rejected', reply: 'fail', detail: { reason: 'signature' } });

      const refusedId = newNotifyId();
      answers.set(refusedId, 'false');
      const refused = await receive(
        trade({
          outTradeNo: 'P-2',
          tradeNo: newTradeNo(),
          tradeStatus: 'TRADE_SUCCESS',
          totalFee: '12.34',
          notifyId: refusedId,
        }),
      );
      expect(refused).toMatchObject({
        outcome: 'rejected',
        reply: 'fail',
        detail: { reason: 'notify_verify' },
      });

      const downId = newNotifyId();
      answers.set(downId, 'down');
      const unreachable = await receive(
        trade({
          outTradeNo: 'P-2',
          tradeNo: newTradeNo(),
          tradeStatus: 'TRADE_SUCCESS',
          totalFee: '12.34',
          notifyId: downId,
        }),
      );
      expect(unreachable).toMatchObject({
        outcome: 'failed',
        reply: 'fail',
        detail: { reason: 'notify_verify_unavailable' },
      });
      const stored = await queries.get(unreachable.inboxId!);
      expect(stored.notifyVerify).toMatchObject({ answer: null, error: { code: 'UNREACHABLE' } });
      expect(stored.verified).toBeNull();

      const refund = signedNotification({
        notify_type: 'batch_refund_notify',
        notify_id: newNotifyId(),
        notify_time: '2024-05-01 10:00:00',
        batch_no: '20240501001',
        success_num: '1',
        result_details: '2024050122001400000000000001^12.34^SUCCESS',
      });
      expect(await receive(refund)).toMatchObject({
        outcome: 'rejected',
        detail: { reason: 'unexpected_notify_type' },
      });
      expect(await types('P-2')).toEqual(['OrderPlaced']);
    });

    it('does not ask the gateway when notify_verify is disabled, and says so in the evidence', async () => {
      await placeOrder('P-4');
      // Closed with the others at the end: closing a path closes the database it runs on.
      const unaskedPath = await startCommandPath(database, {
        env: { LEDGER_MODE: 'demo', ALIPAY_VERIFY_NOTIFY_ID: 'false' },
        notifyIdCheck: () => Promise.reject(new Error('notify_verify must not be asked')),
      });
      paths.push(unaskedPath);
      const unasked = unaskedPath.pipeline;
      const result = await unasked.receive(
        raw(
          trade({
            outTradeNo: 'P-4',
            tradeNo: newTradeNo(),
            tradeStatus: 'TRADE_SUCCESS',
            totalFee: '12.34',
          }),
        ),
      );
      expect(result).toMatchObject({ outcome: 'applied', reply: 'success' });
      expect((await queries.get(result.inboxId!)).notifyVerify).toMatchObject({
        answer: null,
        skipped: 'disabled',
      });
    });

    it('refuses a cut body without verifying it', async () => {
      const notification = trade({
        outTradeNo: 'P-3',
        tradeNo: newTradeNo(),
        tradeStatus: 'TRADE_SUCCESS',
        totalFee: '1.00',
      });
      const result = await pipeline.receive({
        ...raw(notification),
        truncated: true,
        receivedBytes: 2_000_000,
      });
      expect(result).toMatchObject({
        outcome: 'rejected',
        reply: 'fail',
        detail: { reason: 'body_too_large' },
      });
      expect((await queries.get(result.inboxId!)).verification).toBeNull();
    });
  });

  describe('InboxStore.recordWithEvents', () => {
    // Types of the catalogue (the store refuses others); the stream is no order's, so nothing folds them.
    const event = (type: string) => ({ type, data: { at: type }, metadata: {} });
    const keyHolder = async (notifyId: string) =>
      (
        await database.dataSource.query<{ inbox_id: string }[]>(
          `SELECT inbox_id FROM processed_notifications WHERE notify_id = $1`,
          [notifyId],
        )
      ).map((row) => Number(row.inbox_id));

    it('writes the row, the events and the key together, or, when the stream moved, none of them', async () => {
      const inbox = new InboxStore(database.dataSource);
      const notification = trade({
        outTradeNo: 'REC-1',
        tradeNo: newTradeNo(),
        totalFee: '1.00',
        tradeStatus: 'TRADE_SUCCESS',
      });
      const notifyId = `record-${newTradeNo()}`;
      const { entry } = await inbox.reserve(raw(notification), notifyId);
      const { id } = entry;
      await store.append('record-stream-1', 'no_stream', [event('OrderPlaced')]);
      const finish = {
        outcome: 'applied' as const,
        detail: { outcome: 'applied' as const, streamId: 'record-stream-1', events: [] },
      };

      const refused = inbox.recordWithEvents(
        store,
        { streamId: 'record-stream-1', expectedVersion: 'no_stream', events: [event('PaymentAwaited')] },
        notifyId,
        entry,
        finish,
      );
      await expect(refused).rejects.toMatchObject({ code: 'WRONG_EXPECTED_VERSION', retryable: true });
      expect(await keyHolder(notifyId)).toEqual([]);
      await expect(queries.get(id)).rejects.toMatchObject({ code: 'NOTIFICATION_NOT_FOUND' });

      const appended = await inbox.recordWithEvents(
        store,
        { streamId: 'record-stream-1', expectedVersion: 1, events: [event('PaymentAwaited')] },
        notifyId,
        entry,
        finish,
      );
      expect(appended).toMatchObject({ nextExpectedVersion: 2 });
      expect(await keyHolder(notifyId)).toEqual([id]);
      const row = await queries.get(id);
      expect(row.outcome).toBe('applied');
      expect(row.outcomeDetail).toMatchObject({
        transactionId: appended?.transactionId,
        firstPosition: appended?.firstPosition,
        lastPosition: appended?.lastPosition,
      });

      // Another delivery of the same notify_id, with a row of its own: the key is taken, nothing is written.
      const { entry: another, processedBy } = await inbox.reserve(raw(notification), notifyId);
      expect(processedBy).toBe(id);
      const again = await inbox.recordWithEvents(
        store,
        { streamId: 'record-stream-1', expectedVersion: 2, events: [event('GoodsShipped')] },
        notifyId,
        another,
        finish,
      );
      expect(again).toBeUndefined();
      await expect(queries.get(another.id)).rejects.toMatchObject({ code: 'NOTIFICATION_NOT_FOUND' });
      expect(await store.streamVersion('record-stream-1')).toBe(2);
    });
  });

  describe('InboxQueries', () => {
    it('filters, pages newest first with an opaque cursor, and reads one notification whole', async () => {
      await placeOrder('Q-1');
      const tradeNo = newTradeNo();
      const ids: number[] = [];
      for (const tradeStatus of ['TRADE_SUCCESS', 'TRADE_FINISHED', 'TRADE_SUCCESS']) {
        const result = await receive(trade({ outTradeNo: 'Q-1', tradeNo, tradeStatus, totalFee: '12.34' }));
        ids.push(result.inboxId!);
      }
      const first = await queries.list({ outTradeNo: 'Q-1' }, { limit: 2 });
      expect(first.items.map((item) => item.id)).toEqual([ids[2], ids[1]]);
      expect(first.nextCursor).not.toBeNull();
      const second = await queries.list({ outTradeNo: 'Q-1' }, { limit: 2, cursor: first.nextCursor! });
      expect(second).toEqual({ items: [expect.objectContaining({ id: ids[0] })], nextCursor: null });

      expect(
        (await queries.list({ outTradeNo: 'Q-1', outcome: 'no_new_fact' })).items.map((i) => i.id),
      ).toEqual([ids[2]]);
      expect((await queries.list({ tradeNo, verified: true })).items).toHaveLength(3);
      expect((await queries.list({ outTradeNo: 'Q-1', verified: false })).items).toHaveLength(0);
      const window = await queries.list({ outTradeNo: 'Q-1', receivedFrom: new Date(Date.now() + 60_000) });
      expect(window.items).toHaveLength(0);

      const whole = await queries.get(ids[0]);
      expect(whole.body.base64).toBeDefined();
      expect(whole.body.params.find((p) => p.name === 'trade_status')?.value).toBe('TRADE_SUCCESS');
      expect(first.items[0].body.base64).toBeUndefined();
      const many = await queries.getMany([ids[0], ids[1], 999_999_999]);
      expect([...many.keys()].sort()).toEqual([ids[0], ids[1]].sort());
    });

    it('refuses bad filters and cursors by name, and an unknown id', async () => {
      await expect(queries.list({}, { cursor: 'not-a-cursor!' })).rejects.toMatchObject({
        code: 'INVALID_CURSOR',
      });
      await expect(
        queries.list({}, { cursor: Buffer.from('inbox:-3').toString('base64url') }),
      ).rejects.toBeInstanceOf(InboxError);
      await expect(queries.list({}, { limit: 0 })).rejects.toMatchObject({
        code: 'INVALID_FILTER',
        field: 'limit',
      });
      await expect(queries.list({ outcome: 'lost' as never })).rejects.toMatchObject({ field: 'outcome' });
      await expect(queries.list({ receivedFrom: new Date('nope') })).rejects.toMatchObject({
        field: 'receivedFrom',
      });
      await expect(queries.get(987_654_321)).rejects.toMatchObject({ code: 'NOTIFICATION_NOT_FOUND' });
    });

    it('reads a GBK body in GBK for the admin, never re-encoding the stored bytes', async () => {
      const gbk = signedNotification(
        tradeStatusSyncParams({
          outTradeNo: 'Q-2',
          tradeNo: newTradeNo(),
          tradeStatus: 'TRADE_SUCCESS',
          totalFee: '1.00',
          subject: '茶壶',
        }),
        undefined,
        'gbk',
      );
      const result = await receive(gbk);
      const view = await queries.get(result.inboxId!);
      expect(view.body.charset).toBe('gbk');
      expect(view.body.params.find((p) => p.name === 'subject')?.value).toBe('茶壶');
      expect(Buffer.from(view.body.base64!, 'base64').equals(gbk.body)).toBe(true);
    });
  });

  describe('NotificationReplayer', () => {
    it('applies, through today’s rules, a genuine notification that came before its order was placed', async () => {
      const tradeNo = newTradeNo();
      const early = await receive(
        trade({ outTradeNo: 'R-1', tradeNo, tradeStatus: 'TRADE_SUCCESS', totalFee: '12.34' }),
      );
      expect(early.outcome).toBe('applied');
      expect(await types('R-1')).toEqual(['AnomalyDetected']);
      await placeOrder('R-1');

      const dry = await replayer.replay({ ids: [early.inboxId!] }, { dryRun: true });
      expect(dry).toMatchObject({
        dryRun: true,
        selected: 1,
        replayed: 1,
        events: 1,
        orders: [
          { outTradeNo: 'R-1', events: [{ inboxId: early.inboxId, type: 'PaymentSucceeded', version: 3 }] },
        ],
      });
      expect(await types('R-1')).toEqual(['AnomalyDetected', 'OrderPlaced']);

      const applied = await replayer.replay({ ids: [early.inboxId!] });
      expect(applied).toMatchObject({ dryRun: false, events: 1 });
      const events = await store.readStream('order-R-1');
      expect(events.map((event) => event.type)).toEqual([
        'AnomalyDetected',
        'OrderPlaced',
        'PaymentSucceeded',
      ]);
      expect(events[2].metadata.causationId).toBe(String(early.inboxId));
      expect((await queries.get(early.inboxId!)).outcomeDetail).toMatchObject({
        outcome: 'applied',
        replayedAt: expect.any(String),
      });

      const again = await replayer.replay({ ids: [early.inboxId!] });
      expect(again).toMatchObject({ replayed: 1, events: 0, orders: [] });
    });

    it('reports in a dry run exactly the events the real replay then appends', async () => {
      const ids: number[] = [];
      for (const outTradeNo of ['R-DRY-1', 'R-DRY-2']) {
        const tradeNo = newTradeNo();
        // Two notifications of one order in one run: the second is decided after the first.
        for (const tradeStatus of ['WAIT_BUYER_PAY', 'TRADE_SUCCESS'] as const) {
          const early = await receive(trade({ outTradeNo, tradeNo, tradeStatus, totalFee: '12.34' }));
          ids.push(early.inboxId!);
        }
        await placeOrder(outTradeNo);
      }
      const dry = await replayer.replay({ ids }, { dryRun: true });
      const real = await replayer.replay({ ids });
      expect(dry.events).toBeGreaterThanOrEqual(2);
      expect({ ...real, dryRun: true, durationMs: 0 }).toEqual({ ...dry, durationMs: 0 });
    });

    it('changes nothing when everything is replayed, and says what it skipped and why', async () => {
      const before = await database.dataSource.query<{ count: string }[]>(
        `SELECT count(*) AS count FROM events`,
      );
      const progress: [number, number][] = [];
      const dry = await replayer.replay(
        { all: true },
        { dryRun: true, onProgress: (done, total) => progress.push([done, total]) },
      );
      const report = await replayer.replay({ all: true });
      expect(progress.at(-1)).toEqual([report.selected, report.selected]);
      const after = await database.dataSource.query<{ count: string }[]>(
        `SELECT count(*) AS count FROM events`,
      );
      expect(dry.events).toBe(0);
      expect(report.events).toBe(0);
      expect(after).toEqual(before);
      expect(report.selected).toBeGreaterThan(report.replayed);
      // Forged, refused, unanswered and cut notifications were never proven genuine.
      expect(new Set(report.skipped.map((skip) => skip.reason))).toEqual(new Set(['not_verified']));

      const range = await replayer.replay({
        from: new Date(Date.now() - 3_600_000),
        to: new Date(Date.now() + 1000),
      });
      expect(range.selected).toBe(report.selected);
    });

    it('refuses a selection that selects nothing sensible', async () => {
      await expect(replayer.replay({ ids: [] })).rejects.toMatchObject({ code: 'INVALID_REPLAY_SELECTION' });
      await expect(replayer.replay({ ids: [0] })).rejects.toMatchObject({ code: 'INVALID_REPLAY_SELECTION' });
      const now = new Date();
      await expect(replayer.replay({ from: now, to: now })).rejects.toMatchObject({ field: 'to' });
    });
  });

  describe('InboxRecovery', () => {
    it('gives an outcome to a notification whose processing was interrupted, and only to it', async () => {
      const inbox = new InboxStore(database.dataSource);
      const notification = trade({
        outTradeNo: 'C-1',
        tradeNo: newTradeNo(),
        tradeStatus: 'TRADE_SUCCESS',
        totalFee: '1.00',
      });
      const { id } = await inbox.store(raw(notification));
      const recovery = new InboxRecovery(new InboxStore(database.dataSource), new LedgerLogger('fatal'));
      expect(await recovery.sweep(60_000)).toEqual([]);
      expect(await recovery.sweep(0)).toEqual([id]);
      expect(await queries.get(id)).toMatchObject({
        outcome: 'failed',
        outcomeDetail: { outcome: 'failed', reason: 'interrupted' },
      });
    });

    it('sweeps the whole inbox at start, then what came since', async () => {
      const inbox = new InboxStore(database.dataSource);
      const stored = (outTradeNo: string, receivedAt: Date) =>
        inbox.store({
          ...raw(
            trade({ outTradeNo, tradeNo: newTradeNo(), tradeStatus: 'TRADE_SUCCESS', totalFee: '1.00' }),
          ),
          receivedAt,
        });
      // Left behind by a process that stopped two days ago, before this one started.
      const { id: old } = await stored('C-OLD', new Date(Date.now() - 2 * 86_400_000));
      const recovery = new InboxRecovery(new InboxStore(database.dataSource), new LedgerLogger('fatal'));
      expect(await recovery.sweep()).toEqual([old]);

      const { id: recent } = await stored('C-RECENT', new Date(Date.now() - 120_000));
      expect(await recovery.sweep()).toEqual([recent]);
      expect(await recovery.sweep()).toEqual([]);
    });

    it('keeps the raw columns immutable and the rows undeletable', async () => {
      const [{ id }] = await database.dataSource.query<{ id: string }[]>(
        `SELECT id FROM inbox_notifications ORDER BY id LIMIT 1`,
      );
      await expect(
        database.dataSource.query(`UPDATE inbox_notifications SET raw_body = 'x' WHERE id = $1`, [id]),
      ).rejects.toThrow('raw and immutable');
      await expect(
        database.dataSource.query(`DELETE FROM inbox_notifications WHERE id = $1`, [id]),
      ).rejects.toThrow('cannot delete');
    });
  });
});
