import {
  createTestDatabase,
  describeOnEmbedded,
  describeOnPostgres,
  type TestDatabase,
} from '@ledger/testing';
import type { PoolClient } from 'pg';
import type { DatabaseSession } from '@ledger/platform';
import { EVENTS_NOTIFY_CHANNEL } from './append-statement';
import { ORIGIN, type NewEvent, type RecordedEvent } from './event-envelope';
import { EventStore } from './event-store';
import { EventStoreError } from './event-store-error';
import type { EventUpcaster } from './upcasting';
import { AD_HOC_SCHEMAS, AdHocEventSchemas, appendAsWritten } from './event-schemas.fixture';

// jest reads testTimeout only at the top level of its config, not per project: createTestDatabase and
// the concurrency runs need more than the 5 s default on a busy machine.
jest.setTimeout(120_000);

const placed = (outTradeNo: string, totalFee = 1234): NewEvent => ({
  type: 'OrderPlaced',
  data: { outTradeNo, totalFee },
});

async function refusal(promise: Promise<unknown>): Promise<EventStoreError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EventStoreError) return error;
    throw error;
  }
  throw new Error('expected the event store to refuse');
}

describe('EventStore (SQL)', () => {
  let database: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    database = await createTestDatabase('event_store');
    store = new EventStore(database.dataSource, AD_HOC_SCHEMAS);
  });

  afterAll(async () => {
    await database?.close();
  });

  const eventsTable = () =>
    database.dataSource.query<{ stream_id: string; version: number }[]>(
      `SELECT stream_id, version FROM events ORDER BY global_position`,
    );

  describe('append and read', () => {
    it('round-trips a batch with positions, versions, schema versions and data', async () => {
      const result = await store.append('order-rt', 'no_stream', [
        placed('rt', 100),
        { type: 'PaymentAwaited', data: { since: '2024-01-01 12:00:00' } },
        { type: 'Note', data: ['a', null, 1.5, { nested: true }] },
      ]);
      expect(result).toEqual({
        streamId: 'order-rt',
        nextExpectedVersion: 3,
        firstPosition: expect.any(Number),
        lastPosition: result.firstPosition + 2,
        transactionId: expect.stringMatching(/^\d+$/),
      });

      const events = await store.readStream('order-rt');
      expect(events.map((e) => [e.version, e.globalPosition, e.type, e.schemaVersion, e.data])).toEqual([
        [1, result.firstPosition, 'OrderPlaced', 1, { outTradeNo: 'rt', totalFee: 100 }],
        [2, result.firstPosition + 1, 'PaymentAwaited', 1, { since: '2024-01-01 12:00:00' }],
        [3, result.firstPosition + 2, 'Note', 1, ['a', null, 1.5, { nested: true }]],
      ]);
      expect(events.every((e) => e.streamId === 'order-rt' && e.transactionId === result.transactionId)).toBe(
        true,
      );
      expect(await store.streamVersion('order-rt')).toBe(3);
      expect(await store.streamVersion('order-never')).toBe(0);
    });

    it('reads a stream from a version, and at most maxCount events', async () => {
      await store.append('order-slice', 'no_stream', [placed('a'), placed('b'), placed('c'), placed('d')]);
      expect((await store.readStream('order-slice', 3)).map((e) => e.version)).toEqual([3, 4]);
      expect((await store.readStream('order-slice', 2, { maxCount: 2 })).map((e) => e.version)).toEqual([
        2, 3,
      ]);
      expect(await store.readStream('order-slice', 5)).toEqual([]);
      expect(await store.readStream('order-unknown')).toEqual([]);
      expect((await refusal(store.readStream('order-slice', 0))).code).toBe('INVALID_READ');
    });

    it('records causation, correlation and recorded-at on every event', async () => {
      const before = await database.dataSource.query<{ now: Date }[]>(`SELECT now() AS now`);
      await store.append('order-meta', 'no_stream', [
        { ...placed('m'), metadata: { causationId: 'inbox-41', correlationId: 'corr-7', actor: 'notify' } },
        { type: 'PaymentAwaited', data: {} },
        { type: 'PaymentAwaited', data: {}, metadata: { causationId: 'inbox-42' } },
      ]);
      await store.append('order-meta', 3, [{ type: 'TradeClosed', data: {} }]);
      const [first, second, third, fourth] = await store.readStream('order-meta');

      expect(first.metadata).toEqual({
        causationId: 'inbox-41',
        correlationId: 'corr-7',
        actor: 'notify',
        recordedAt: first.recordedAt.toISOString(),
      });
      // No correlation given: one fresh id for the whole batch, also the causation when none was given.
      expect(second.metadata.correlationId).toMatch(/^[0-9a-f-]{36}$/);
      expect(third.metadata.correlationId).toBe(second.metadata.correlationId);
      expect(second.metadata.causationId).toBe(second.metadata.correlationId);
      expect(third.metadata.causationId).toBe('inbox-42');
      expect(fourth.metadata.correlationId).not.toBe(second.metadata.correlationId);
      expect(first.recordedAt.getTime()).toBeGreaterThanOrEqual(before[0].now.getTime());
      expect(fourth.recordedAt.getTime()).toBeGreaterThanOrEqual(first.recordedAt.getTime());
    });

    it('refuses an invalid append before touching the database', async () => {
      const before = await eventsTable();
      expect((await refusal(store.append('order-x', 'no_stream', []))).code).toBe('INVALID_APPEND');
      expect((await refusal(store.append('', 'no_stream', [placed('x')]))).code).toBe('INVALID_APPEND');
      expect((await refusal(store.append('order-x', -1, [placed('x')]))).code).toBe('INVALID_APPEND');
      expect((await refusal(store.append('order-x', 1.5, [placed('x')]))).code).toBe('INVALID_APPEND');
      expect(await eventsTable()).toEqual(before);
    });
  });

  describe('expected versions', () => {
    it('no_stream (or 0) creates a stream once and refuses when it exists', async () => {
      await store.append('order-ns', 'no_stream', [placed('ns')]);
      const error = await refusal(store.append('order-ns', 'no_stream', [placed('ns')]));
      expect(error.code).toBe('WRONG_EXPECTED_VERSION');
      expect(error.message).toBe('stream order-ns was expected not to exist but it is at version 1');
      expect(error.details).toEqual({ streamId: 'order-ns', expectedVersion: 'no_stream', actualVersion: 1 });
      expect(error.retryable).toBe(true);
      expect((await refusal(store.append('order-ns', 0, [placed('ns')]))).details.actualVersion).toBe(1);
      expect((await store.append('order-ns-zero', 0, [placed('z')])).nextExpectedVersion).toBe(1);
      expect(await store.streamVersion('order-ns')).toBe(1);
    });

    it('a version appends only when the stream is exactly there, naming expected and actual', async () => {
      await store.append('order-v', 'no_stream', [placed('v'), placed('v')]);
      expect((await store.append('order-v', 2, [placed('v')])).nextExpectedVersion).toBe(3);

      const behind = await refusal(store.append('order-v', 2, [placed('v')]));
      expect(behind.code).toBe('WRONG_EXPECTED_VERSION');
      expect(behind.message).toBe('stream order-v was expected at version 2 but it is at version 3');
      const ahead = await refusal(store.append('order-v', 4, [placed('v')]));
      expect(ahead.details).toEqual({ streamId: 'order-v', expectedVersion: 4, actualVersion: 3 });
      const missing = await refusal(store.append('order-missing', 1, [placed('v')]));
      expect(missing.message).toBe('stream order-missing was expected at version 1 but it does not exist');

      expect(await store.streamVersion('order-v')).toBe(3);
      expect(await store.streamVersion('order-missing')).toBe(0);
    });

    it('any appends to a new or an existing stream without a check', async () => {
      expect((await store.append('order-any', 'any', [placed('a')])).nextExpectedVersion).toBe(1);
      expect((await store.append('order-any', 'any', [placed('a'), placed('a')])).nextExpectedVersion).toBe(
        3,
      );
      expect((await store.readStream('order-any')).map((e) => e.version)).toEqual([1, 2, 3]);
    });

    it('a refused append draws no global position', async () => {
      const first = await store.append('order-holes', 'no_stream', [placed('h')]);
      for (let i = 0; i < 5; i++) {
        await refusal(store.append('order-holes', 'no_stream', [placed('h'), placed('h')]));
        await refusal(store.append('order-holes', 7, [placed('h')]));
      }
      const next = await store.append('order-holes', 1, [placed('h')]);
      expect(next.firstPosition).toBe(first.lastPosition + 1);
    });
  });

  describe('atomicity', () => {
    it('a batch that fails on its third event writes nothing and leaves the version unclaimed', async () => {
      await store.append('order-atomic', 'no_stream', [placed('a')]);
      await database.dataSource.query(`
        CREATE FUNCTION fail_marked_event() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.data->>'failHere' IS NOT NULL THEN RAISE EXCEPTION 'refused by the test'; END IF;
          RETURN NEW;
        END $$`);
      await database.dataSource.query(
        `CREATE TRIGGER fail_marked_event BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION fail_marked_event()`,
      );
      try {
        await expect(
          store.append('order-atomic', 1, [
            placed('b'),
            placed('c'),
            { type: 'Boom', data: { failHere: true } },
          ]),
        ).rejects.toThrow('refused by the test');
      } finally {
        await database.dataSource.query(`DROP TRIGGER fail_marked_event ON events`);
        await database.dataSource.query(`DROP FUNCTION fail_marked_event()`);
      }
      expect((await store.readStream('order-atomic')).map((e) => e.version)).toEqual([1]);
      expect(await store.streamVersion('order-atomic')).toBe(1);
      expect((await store.append('order-atomic', 1, [placed('b')])).nextExpectedVersion).toBe(2);
    });

    it('data PostgreSQL cannot store (a \\u0000) refuses the whole batch as INVALID_APPEND', async () => {
      const error = await refusal(
        store.append('order-nul', 'no_stream', [placed('ok'), { type: 'Note', data: { text: 'a\u0000b' } }]),
      );
      expect(error.code).toBe('INVALID_APPEND');
      expect(error.message).toContain('PostgreSQL refused the batch for order-nul');
      expect(await store.streamVersion('order-nul')).toBe(0);
      expect(await store.readStream('order-nul')).toEqual([]);
    });

    it('refuses a single event with a \\u0000 as a batch would, and keeps a literal backslash-u0000', async () => {
      const error = await refusal(
        store.append('order-nul-one', 'no_stream', [{ type: 'Note', data: { text: 'a\u0000b' } }]),
      );
      expect(error.code).toBe('INVALID_APPEND');
      expect(error.message).toContain('PostgreSQL refused the batch for order-nul-one');
      expect(await store.streamVersion('order-nul-one')).toBe(0);
      const literal = { text: 'a\\u0000b', more: '\\\\u0000' };
      await store.append('order-nul-one', 'no_stream', [{ type: 'Note', data: literal }]);
      expect((await store.readStream('order-nul-one'))[0].data).toEqual(literal);
    });

    it('keeps data exactly as written: key order, nesting and non-ASCII text', async () => {
      const data = { z: 1, a: '支付宝 \u{1F600}', nested: { b: [1, 2.5], a: null, '': 'empty key' } };
      await store.append('order-exact', 'no_stream', [{ type: 'Note', data }]);
      const [{ text }] = await database.dataSource.query<{ text: string }[]>(
        `SELECT data::text AS text FROM events WHERE stream_id = 'order-exact'`,
      );
      expect(text).toBe(JSON.stringify(data));
      expect((await store.readStream('order-exact'))[0].data).toEqual(data);
    });
  });

  describe("in the caller's transaction", () => {
    beforeAll(async () => {
      await database.dataSource.query(`CREATE TABLE test_inbox (id text PRIMARY KEY)`);
    });

    const inboxIds = async () =>
      (await database.dataSource.query<{ id: string }[]>(`SELECT id FROM test_inbox ORDER BY id`)).map(
        (row) => row.id,
      );

    it("commits the events with the caller's rows", async () => {
      const result = await database.dataSource.transaction(async (manager) => {
        await manager.query(`INSERT INTO test_inbox (id) VALUES ('n-1')`);
        const appended = await store.append('order-tx', 'no_stream', [placed('t')], { session: manager });
        expect((await store.readStream('order-tx', 1, { session: manager })).length).toBe(1);
        const [{ xid }] = await manager.query<{ xid: string }[]>(`SELECT pg_current_xact_id()::text AS xid`);
        expect(appended.transactionId).toBe(xid);
        return store.append('order-tx', 1, [placed('t')], { session: manager });
      });
      expect(result.nextExpectedVersion).toBe(2);
      expect(await inboxIds()).toContain('n-1');
      expect((await store.readStream('order-tx')).map((e) => e.transactionId)).toEqual([
        result.transactionId,
        result.transactionId,
      ]);
    });

    it('leaves nothing when the caller rolls back', async () => {
      const before = await eventsTable();
      await expect(
        database.dataSource.transaction(async (manager) => {
          await manager.query(`INSERT INTO test_inbox (id) VALUES ('n-2')`);
          await store.append('order-rollback', 'no_stream', [placed('r'), placed('r')], { session: manager });
          throw new Error('the caller changed its mind');
        }),
      ).rejects.toThrow('the caller changed its mind');
      expect(await eventsTable()).toEqual(before);
      expect(await store.streamVersion('order-rollback')).toBe(0);
      expect(await inboxIds()).not.toContain('n-2');
    });

    it('a refused append leaves the transaction usable, so the caller decides', async () => {
      await store.append('order-keep', 'no_stream', [placed('k')]);
      await database.dataSource.transaction(async (session: DatabaseSession) => {
        const error = await refusal(store.append('order-keep', 'no_stream', [placed('k')], { session }));
        expect(error.code).toBe('WRONG_EXPECTED_VERSION');
        await session.query(`INSERT INTO test_inbox (id) VALUES ('n-3')`);
      });
      expect(await inboxIds()).toContain('n-3');
    });
  });

  describe('immutability', () => {
    it.each([
      ['UPDATE', `UPDATE events SET type = 'Rewritten'`],
      ['DELETE', `DELETE FROM events`],
      ['TRUNCATE', `TRUNCATE events CASCADE`],
    ])('refuses %s on events', async (operation, sql) => {
      await store.append(`order-immutable-${operation}`, 'no_stream', [placed('i')]);
      const before = await eventsTable();
      await expect(database.dataSource.query(sql)).rejects.toThrow(
        `events are immutable: ${operation} refused on event store table events`,
      );
      expect(await eventsTable()).toEqual(before);
    });
  });

  describe('readAll', () => {
    it('reads by position in global order, page after page', async () => {
      const a = await store.append('order-all-a', 'no_stream', [placed('a'), placed('a')]);
      const b = await store.append('order-all-b', 'no_stream', [placed('b')]);
      const page1 = await store.readAll(a.firstPosition - 1, 2);
      const page2 = await store.readAll(page1[1].globalPosition, 2);
      expect([...page1, ...page2].map((e) => [e.streamId, e.version])).toEqual([
        ['order-all-a', 1],
        ['order-all-a', 2],
        ['order-all-b', 1],
      ]);
      expect(page2[0].globalPosition).toBe(b.firstPosition);
      expect((await refusal(store.readAll(0, 0))).code).toBe('INVALID_READ');
      expect((await refusal(store.readAll(-1, 10))).code).toBe('INVALID_READ');
    });

    it('reads from a checkpoint in (transaction id, position) order', async () => {
      const c = await store.append('order-all-c', 'no_stream', [placed('c'), placed('c')]);
      const from = { transactionId: c.transactionId, position: c.firstPosition };
      let page: RecordedEvent[] = [];
      // Every transaction below the oldest running one, cluster-wide, is readable: wait for one that
      // another session may hold open on a shared server.
      while (page.length === 0) page = await store.readAll(from, 1);
      expect(page.map((e) => [e.streamId, e.version, e.transactionId])).toEqual([
        ['order-all-c', 2, c.transactionId],
      ]);
      const everything = await store.readAll(ORIGIN, 100_000);
      const keys = everything.map((e) => [BigInt(e.transactionId), e.globalPosition] as const);
      const sorted = [...keys].sort(([t1, p1], [t2, p2]) => (t1 === t2 ? p1 - p2 : t1 < t2 ? -1 : 1));
      expect(keys).toEqual(sorted);
      expect((await refusal(store.readAll({ transactionId: 'x', position: 0 }, 10))).code).toBe(
        'INVALID_READ',
      );
    });
  });

  describe('upcasting at read time', () => {
    interface PlacedV1 {
      amount: string;
    }
    interface PlacedV2 {
      amountFen: number;
    }
    const v1ToV2: EventUpcaster<PlacedV1, PlacedV2> = {
      type: 'LegacyPlaced',
      fromSchemaVersion: 1,
      upcast: (data) => ({ amountFen: Number(data.amount.replace('.', '')) }),
    };
    const v2ToV3: EventUpcaster<PlacedV2, PlacedV2 & { currency: 'CNY' }> = {
      type: 'LegacyPlaced',
      fromSchemaVersion: 2,
      upcast: (data) => ({ ...data, currency: 'CNY' }),
    };
    const upcasters: EventUpcaster[] = [v1ToV2, v2ToV3];

    it('brings v1 and v2 events to v3 and leaves v3 and unknown types untouched', async () => {
      await appendAsWritten(database.dataSource, 'order-legacy', [
        { type: 'LegacyPlaced', schemaVersion: 1, data: { amount: '12.34' } },
        { type: 'LegacyPlaced', schemaVersion: 2, data: { amountFen: 99 } },
        { type: 'LegacyPlaced', schemaVersion: 3, data: { amountFen: 7, currency: 'CNY' } },
        { type: 'SomethingFromTheFuture', schemaVersion: 5, data: { whatever: [1, 2] } },
      ]);
      const upcasting = new EventStore(
        database.dataSource,
        new AdHocEventSchemas({ currentVersions: { LegacyPlaced: 3 }, upcasters }),
      );
      const events = await upcasting.readStream('order-legacy');
      expect(events.map((e) => [e.type, e.schemaVersion, e.data])).toEqual([
        ['LegacyPlaced', 3, { amountFen: 1234, currency: 'CNY' }],
        ['LegacyPlaced', 3, { amountFen: 99, currency: 'CNY' }],
        ['LegacyPlaced', 3, { amountFen: 7, currency: 'CNY' }],
        ['SomethingFromTheFuture', 5, { whatever: [1, 2] }],
      ]);
      // Stored rows are never rewritten: a store without upcasters reads them as written.
      expect((await store.readStream('order-legacy')).map((e) => e.schemaVersion)).toEqual([1, 2, 3, 5]);
      const all = await upcasting.readAll(events[0].globalPosition - 1, 1);
      expect(all[0].data).toEqual({ amountFen: 1234, currency: 'CNY' });
    });

    it('fails clearly on an event older than the chain', async () => {
      await appendAsWritten(database.dataSource, 'order-ancient', [
        { type: 'LegacyPlaced', schemaVersion: 1, data: {} },
      ]);
      const partial = new EventStore(
        database.dataSource,
        new AdHocEventSchemas({ currentVersions: { LegacyPlaced: 3 }, upcasters: [v2ToV3] }),
      );
      const error = await refusal(partial.readStream('order-ancient'));
      expect(error.code).toBe('UPCASTER_MISSING');
      expect(error.message).toMatch(
        /^no upcaster for LegacyPlaced from schema version 1 at global position \d+; the chain starts at version 2$/,
      );
    });
  });

  describe('wake-up notifications', () => {
    let listener: PoolClient;
    let release: () => Promise<void>;
    const received: string[] = [];
    let arrived: (() => void) | undefined;

    beforeAll(async () => {
      const runner = database.dataSource.createQueryRunner();
      listener = (await runner.connect()) as PoolClient;
      release = () => runner.release();
      listener.on('notification', (message) => {
        if (message.channel !== EVENTS_NOTIFY_CHANNEL) return;
        received.push(message.payload ?? '');
        arrived?.();
      });
      await listener.query(`LISTEN ${EVENTS_NOTIFY_CHANNEL}`);
    });

    afterAll(async () => {
      await listener.query(`UNLISTEN ${EVENTS_NOTIFY_CHANNEL}`);
      await release();
    });

    const notification = (payload: string) =>
      new Promise<void>((resolve) => {
        arrived = () => {
          if (received.includes(payload)) resolve();
        };
        arrived();
      });

    it('announces an append that is its own transaction with its transaction id', async () => {
      const result = await store.append('order-notify', 'no_stream', [placed('n')]);
      await notification(result.transactionId);
    });

    it("announces an append in the caller's transaction when it commits, and the event is then readable", async () => {
      const result = await database.dataSource.transaction((manager) =>
        store.append('order-notify-tx', 'no_stream', [placed('n')], { session: manager }),
      );
      await notification(result.transactionId);
      expect(await store.streamVersion('order-notify-tx')).toBe(1);
    });
  });
});

describeOnPostgres('EventStore ordering across transactions', () => {
  let database: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    database = await createTestDatabase('event_store_order');
    store = new EventStore(database.dataSource, AD_HOC_SCHEMAS);
  });

  afterAll(async () => {
    await database?.close();
  });

  async function openTransaction() {
    const runner = database.dataSource.createQueryRunner();
    await runner.startTransaction();
    const [{ xid }] = await runner.manager.query<{ xid: string }[]>(
      `SELECT pg_current_xact_id()::text AS xid`,
    );
    return { runner, manager: runner.manager, xid: BigInt(xid) };
  }

  it('refuses an older transaction appending after a newer one committed to the stream', async () => {
    await store.append('order-guard', 'no_stream', [placed('g')]);
    const older = await openTransaction();
    const newer = await openTransaction();
    try {
      expect(older.xid < newer.xid).toBe(true);
      await store.append('order-guard', 1, [placed('newer')], { session: newer.manager });
      await newer.runner.commitTransaction();

      // The version is right (2), but consumers read in transaction order and would see this event first.
      const error = await refusal(
        store.append('order-guard', 2, [placed('older')], { session: older.manager }),
      );
      expect(error.code).toBe('STREAM_ORDER_CONFLICT');
      expect(error.retryable).toBe(true);
      expect(error.message).toBe(
        'stream order-guard was last written by a transaction newer than this one; retry the append in a new transaction',
      );
      expect(error.details).toEqual({ streamId: 'order-guard', expectedVersion: 2, actualVersion: 2 });
      expect(
        (await refusal(store.append('order-guard', 'any', [placed('o')], { session: older.manager }))).code,
      ).toBe('STREAM_ORDER_CONFLICT');
      await older.runner.rollbackTransaction();
    } finally {
      await older.runner.release();
      await newer.runner.release();
    }
    // The retry runs in a new transaction, with a larger id.
    expect((await store.append('order-guard', 2, [placed('retry')])).nextExpectedVersion).toBe(3);
    expect(
      (await store.readStream('order-guard')).map((e) => (e.data as { outTradeNo: string }).outTradeNo),
    ).toEqual(['g', 'newer', 'retry']);
  });

  it('lets an older transaction write a stream that no newer one touched', async () => {
    const older = await openTransaction();
    const newer = await openTransaction();
    try {
      await store.append('order-other', 'no_stream', [placed('n')], { session: newer.manager });
      await newer.runner.commitTransaction();
      await store.append('order-mine', 'no_stream', [placed('o')], { session: older.manager });
      await store.append('order-mine', 1, [placed('o')], { session: older.manager });
      await older.runner.commitTransaction();
    } finally {
      await older.runner.release();
      await newer.runner.release();
    }
    expect(await store.streamVersion('order-mine')).toBe(2);
  });

  it('a checkpoint read waits for an open transaction instead of skipping past it', async () => {
    const older = await openTransaction();
    let late: RecordedEvent[];
    try {
      const early = await store.append('order-early', 'no_stream', [placed('e')], { session: older.manager });
      const committed = await store.append('order-later', 'no_stream', [placed('l')]);
      const start = { transactionId: early.transactionId, position: early.firstPosition - 1 };

      // By position the later commit is visible and the open transaction's position is a gap...
      const byPosition = await store.readAll(early.firstPosition - 1, 10);
      expect(byPosition.map((e) => e.streamId)).toEqual(['order-later']);
      // ...by checkpoint nothing at or after the open transaction is returned yet.
      expect(await store.readAll(start, 10)).toEqual([]);
      expect(BigInt(committed.transactionId) > BigInt(early.transactionId)).toBe(true);

      await older.runner.commitTransaction();
      late = [];
      while (late.length < 2) late = await store.readAll(start, 10);
    } finally {
      await older.runner.release();
    }
    expect(late.map((e) => e.streamId)).toEqual(['order-early', 'order-later']);
  });
});

// A fresh embedded database starts its transaction ids below a thousand, so crossing from 3 to 4 digits is
// cheap there. Sorting the ids as text would put 1000 before 999 and make a checkpointed read skip events.
describeOnEmbedded('EventStore.readAll across transaction ids of different lengths', () => {
  it('pages in numeric transaction order when the ids grow a digit (999 before 1000)', async () => {
    const db = await createTestDatabase('read_all_digits');
    try {
      const store = new EventStore(db.dataSource, AD_HOC_SCHEMAS);
      const current = async () =>
        Number(
          (await db.dataSource.query<{ xid: string }[]>(`SELECT pg_current_xact_id()::text AS xid`))[0].xid,
        );
      const boundary = 10 ** String(await current()).length;
      expect(boundary - (await current())).toBeLessThan(20_000);
      while ((await current()) < boundary - 4);
      const appended = [];
      for (let i = 0; i < 8; i++)
        appended.push(await store.append('digits-1', 'any', [{ type: 'Digit', data: { i } }]));
      expect(Number(appended[0].transactionId)).toBeLessThan(boundary);
      expect(Number(appended[7].transactionId)).toBeGreaterThanOrEqual(boundary);

      const seen: RecordedEvent[] = [];
      let checkpoint = ORIGIN;
      for (;;) {
        const page = await store.readAll(checkpoint, 3);
        if (page.length === 0) break;
        seen.push(...page);
        const last = page[page.length - 1];
        checkpoint = { transactionId: last.transactionId, position: last.globalPosition };
      }
      expect(seen.map((event) => event.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    } finally {
      await db.close();
    }
  });
});
