import { createTestDatabase, testDatabaseKind, type TestDatabase } from '@ledger/testing';
import { DataSource } from 'typeorm';
import { EventStore } from '../event-store';
import { isEventStoreError } from '../event-store-error';
import type { Projection } from './projection';
import { createJournalTable, cutConnection, journalProjection } from './projection.fixture';
import { Projector } from './projector';
import { isProjectorError } from './projector-error';
import { AD_HOC_SCHEMAS } from '../event-schemas.fixture';

/**
 * The consistency run: many writers with random rollbacks and random transaction lengths (some
 * held open, which holds the consumers back), while consumers fail mid-batch, lose their sessions and are
 * restarted. At the end the journal projection must hold every committed event exactly once, nothing of a
 * rolled-back transaction, and each stream in version order.
 */
const onPostgres = testDatabaseKind() === 'postgres';
const TARGET_EVENTS = onPostgres ? 200_000 : 5_000;
const WRITERS = 16;
const PROJECTION = 'consistency';

jest.setTimeout(15 * 60_000);

const random = (below: number) => Math.floor(Math.random() * below);
const chance = (probability: number) => Math.random() < probability;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(`Consistency run (${TARGET_EVENTS} events, ${WRITERS} writers)`, () => {
  let db: TestDatabase;
  let writersSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('consistency');
    // On PostgreSQL the writers get their own pool, so that 16 held-open transactions do not starve the
    // consumers of connections. The embedded database runs one transaction at a time whatever the pool.
    writersSource = onPostgres
      ? await new DataSource({ type: 'postgres', url: db.url, poolSize: WRITERS + 1 }).initialize()
      : db.dataSource;
    await createJournalTable(db.dataSource, PROJECTION);
  });
  afterAll(async () => {
    if (writersSource !== db.dataSource) await writersSource.destroy();
    await db.close();
  });

  it('consumes every committed event exactly once, nothing rolled back, each stream in order', async () => {
    const store = new EventStore(writersSource, AD_HOC_SCHEMAS);
    const chaos = {
      on: true,
      cutNext: false,
      cuts: 0,
      batchFailures: 0,
      poisoned: 0,
      sessionKills: 0,
      restarts: 0,
    };
    const journal = journalProjection({ name: PROJECTION, table: PROJECTION, handles: ['Tick'] });
    const chaotic: Projection = {
      ...journal,
      async apply(events, context) {
        // A whole batch failing sends it through the event-by-event path; an event failing there parks.
        if (chaos.on && events.length > 1 && chance(0.03)) {
          chaos.batchFailures++;
          throw new Error('chaos: the batch fails');
        }
        if (chaos.on && events.length === 1 && chance(0.0005)) {
          chaos.poisoned++;
          throw new Error('chaos: this event fails');
        }
        await journal.apply(events, context);
        if (chaos.on && chaos.cutNext) {
          chaos.cutNext = false;
          chaos.cuts++;
          await cutConnection(context.session);
        }
      },
    };
    const newProjector = () =>
      new Projector(db.dataSource, [chaotic], {
        schemas: AD_HOC_SCHEMAS,
        batchSize: 500,
        lockRetryMs: 100,
        idlePollMs: 100,
        maxBackoffMs: 200,
      });
    const projectors = [newProjector(), newProjector()];
    await Promise.all(projectors.map((projector) => projector.start()));

    const tally = { committed: 0, rolledBack: 0, conflicts: 0, inFlight: 0 };
    const writer = async (w: number) => {
      const shared = Array.from({ length: 8 }, (_, i) => `shared-${i}`);
      while (tally.committed + tally.inFlight < TARGET_EVENTS) {
        const appends = 1 + random(3);
        const streams = Array.from({ length: appends }, () =>
          chance(0.05) ? shared[random(shared.length)] : `w${w}-${random(40)}`,
        ).sort(); // one order for every writer: shared streams never deadlock
        const counts = streams.map(() => 1 + random(4));
        const events = counts.reduce((sum, count) => sum + count, 0);
        tally.inFlight += events;
        const runner = writersSource.createQueryRunner();
        try {
          await runner.connect();
          await runner.startTransaction();
          try {
            for (const [i, streamId] of streams.entries()) {
              const batch = Array.from({ length: counts[i] }, (_, n) => ({ type: 'Tick', data: { w, n } }));
              await store.append(streamId, 'any', batch, { session: runner.manager });
              if (chance(0.03)) await sleep(10 + random(90)); // a transaction held open a while
            }
          } catch (error) {
            if (!isEventStoreError(error, 'STREAM_ORDER_CONFLICT')) throw error;
            tally.conflicts++;
            await runner.rollbackTransaction();
            tally.rolledBack += events;
            continue;
          }
          if (chance(0.1)) {
            await runner.rollbackTransaction();
            tally.rolledBack += events;
          } else {
            await runner.commitTransaction();
            tally.committed += events;
          }
        } finally {
          tally.inFlight -= events;
          await runner.release();
        }
      }
    };

    let writing = true;
    const mayhem = (async () => {
      while (writing) {
        await sleep(100 + random(300));
        const action = random(onPostgres ? 3 : 2);
        if (action === 0) {
          chaos.cutNext = true;
        } else if (action === 1) {
          const victim = random(projectors.length);
          await projectors[victim].stop();
          projectors[victim] = newProjector();
          await projectors[victim].start();
          chaos.restarts++;
        } else {
          const killed = await db.dataSource.query<{ killed: boolean }[]>(
            `SELECT pg_terminate_backend(pid) AS killed FROM pg_locks
             WHERE locktype = 'advisory' AND granted AND objsubid = 2
               AND classid = hashtext('ledger.projector')::oid AND objid = hashtext($1)::oid`,
            [PROJECTION],
          );
          chaos.sessionKills += killed.filter((row) => row.killed).length;
        }
      }
    })();
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    writing = false;
    await mayhem;
    chaos.on = false;

    const [last] = await db.dataSource.query<{ transaction_id: string; position: string }[]>(
      `SELECT transaction_id::text AS transaction_id, global_position AS position FROM events
       ORDER BY events.transaction_id DESC, events.global_position DESC LIMIT 1`,
    );
    const target = { transactionId: last.transaction_id, position: Number(last.position) };
    // Its own parked events are the only ones expected; they are retried next.
    await projectors[0].waitFor(PROJECTION, target, 300_000).catch((error: unknown) => {
      if (!isProjectorError(error, 'EVENT_PARKED')) throw error;
    });
    for (const outcome of await projectors[0].retryParked(PROJECTION)) {
      expect(outcome).toMatchObject({ stillParked: 0 });
    }
    await Promise.all(projectors.map((projector) => projector.stop()));

    const [counts] = await db.dataSource.query<
      { events: number; journal: number; distinct_positions: number; foreign: number; out_of_order: number }[]
    >(
      `SELECT (SELECT count(*)::int FROM events) AS events,
              (SELECT count(*)::int FROM ${PROJECTION}) AS journal,
              (SELECT count(DISTINCT global_position)::int FROM ${PROJECTION}) AS distinct_positions,
              (SELECT count(*)::int FROM ${PROJECTION} j LEFT JOIN events e ON e.global_position = j.global_position
                WHERE e.global_position IS NULL OR e.stream_id <> j.stream_id OR e.version <> j.version
                   OR e.transaction_id <> j.transaction_id) AS foreign,
              (SELECT count(*)::int FROM (
                 SELECT version, lag(version) OVER (PARTITION BY stream_id ORDER BY seq) AS previous
                 FROM ${PROJECTION}) AS steps
               WHERE version <> COALESCE(previous, 0) + 1) AS out_of_order`,
    );
    expect(tally.committed).toBeGreaterThanOrEqual(TARGET_EVENTS);
    expect(counts.events).toBe(tally.committed); // the writers' bookkeeping agrees with the store
    expect(counts).toEqual({
      events: tally.committed,
      journal: tally.committed, // every committed event...
      distinct_positions: tally.committed, // ...exactly once
      foreign: 0, // nothing that is not a committed event (no rolled-back one)
      out_of_order: 0, // each stream from version 1, in order
    });
    expect(await projectors[0].listParked(PROJECTION)).toEqual([]);
    expect(tally.rolledBack).toBeGreaterThan(0);
    expect(chaos.cuts).toBeGreaterThan(0);
    expect(chaos.batchFailures).toBeGreaterThan(0);
    expect(chaos.restarts).toBeGreaterThan(0);
    if (onPostgres) expect(chaos.sessionKills).toBeGreaterThan(0);
  });
});
