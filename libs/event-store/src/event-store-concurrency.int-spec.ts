import { createTestDatabase, type TestDatabase } from '@ledger/testing';
import { withAppendRetry } from './append-retry';
import { ORIGIN, type RecordedEvent } from './event-envelope';
import { EventStore } from './event-store';
import { isEventStoreError } from './event-store-error';
import { AD_HOC_SCHEMAS } from './event-schemas.fixture';

// jest reads testTimeout only at the top level of its config, not per project.
jest.setTimeout(300_000);

describe('EventStore under concurrent writers', () => {
  let database: TestDatabase;
  let store: EventStore;
  // The embedded database runs one transaction at a time: the same races, fewer of them.
  let writers: number;
  let attempts: number;

  beforeAll(async () => {
    database = await createTestDatabase('event_store_concurrency');
    store = new EventStore(database.dataSource, AD_HOC_SCHEMAS);
    [writers, attempts] = database.kind === 'postgres' ? [16, 50] : [4, 10];
  });

  afterAll(async () => {
    await database?.close();
  });

  const range = (n: number) => Array.from({ length: n }, (_, i) => i);

  /** Everything committed, in the order consumers read it: (transaction id, position). */
  async function readAllInTransactionOrder(expected: number): Promise<RecordedEvent[]> {
    let events: RecordedEvent[] = [];
    // Only transactions below the oldest running one are returned; another session on a shared server
    // may hold one open for a moment.
    while (events.length < expected) events = await store.readAll(ORIGIN, 100_000);
    return events;
  }

  it('lets exactly one reload-decide-append win each version of one stream', async () => {
    const stream = 'order-contended';
    const wins: { version: number; writer: number; attempt: number }[] = [];
    let conflicts = 0;
    await Promise.all(
      range(writers).map(async (writer) => {
        for (let attempt = 0; attempt < attempts; attempt++) {
          const version = await store.streamVersion(stream);
          try {
            const result = await store.append(stream, version, [
              { type: 'Claimed', data: { writer, attempt } },
            ]);
            wins.push({ version: result.nextExpectedVersion, writer, attempt });
          } catch (error) {
            if (!isEventStoreError(error) || !error.retryable) throw error;
            conflicts++;
          }
        }
      }),
    );

    const final = await store.streamVersion(stream);
    expect(wins.length).toBe(final);
    expect(wins.length + conflicts).toBe(writers * attempts);
    expect(wins.map((w) => w.version).sort((a, b) => a - b)).toEqual(range(final).map((i) => i + 1));
    if (database.kind === 'postgres') expect(conflicts).toBeGreaterThan(0);

    const events = await store.readStream(stream);
    expect(events.map((e) => e.version)).toEqual(range(final).map((i) => i + 1));
    const winnerOf = new Map(wins.map((w) => [w.version, { writer: w.writer, attempt: w.attempt }]));
    for (const event of events) expect(event.data).toEqual(winnerOf.get(event.version));
    // Losers drew no position: the stream's positions are dense (nothing else was written meanwhile).
    const positions = events.map((e) => e.globalPosition).sort((a, b) => a - b);
    expect(positions).toEqual(range(final).map((i) => positions[0] + i));
  });

  it('lets exactly one of many creators create each stream, leaving no holes', async () => {
    const streams = range(attempts).map((i) => `order-created-${i}`);
    const created = new Map<string, number[]>();
    await Promise.all(
      range(writers).map(async (writer) => {
        for (const stream of streams) {
          try {
            await store.append(stream, 'no_stream', [
              { type: 'OrderPlaced', data: { writer } },
              { type: 'PaymentAwaited', data: { writer } },
            ]);
            created.set(stream, [...(created.get(stream) ?? []), writer]);
          } catch (error) {
            if (!isEventStoreError(error, 'WRONG_EXPECTED_VERSION')) throw error;
            expect(error.details.actualVersion).toBe(2);
          }
        }
      }),
    );

    const positions: number[] = [];
    for (const stream of streams) {
      expect(created.get(stream)).toHaveLength(1);
      const events = await store.readStream(stream);
      expect(events.map((e) => [e.version, e.data])).toEqual([
        [1, { writer: created.get(stream)![0] }],
        [2, { writer: created.get(stream)![0] }],
      ]);
      positions.push(...events.map((e) => e.globalPosition));
    }
    positions.sort((a, b) => a - b);
    expect(positions).toEqual(range(streams.length * 2).map((i) => positions[0] + i));
  });

  it("keeps each stream's events in version order in the consumers' transaction order", async () => {
    const streams = ['order-shared-0', 'order-shared-1', 'order-shared-2', 'order-shared-3'];
    await Promise.all(
      range(writers).map(async (writer) => {
        for (let attempt = 0; attempt < attempts; attempt++) {
          const stream = streams[(writer + attempt) % streams.length];
          // 'any' checks no version, but the stream-order guard still refuses a writer whose transaction
          // predates the stream's last writer; the retry runs in a new, younger transaction.
          await withAppendRetry(
            () => store.append(stream, 'any', [{ type: 'Noted', data: { writer, attempt } }]),
            {
              attempts: 20,
            },
          );
        }
      }),
    );

    const expected = await database.dataSource.query<{ count: string }[]>(`SELECT count(*) FROM events`);
    const everything = await readAllInTransactionOrder(Number(expected[0].count));
    for (const stream of streams) {
      const versions = everything.filter((e) => e.streamId === stream).map((e) => e.version);
      expect(versions).toEqual(range(versions.length).map((i) => i + 1));
    }
    expect(everything.filter((e) => streams.includes(e.streamId))).toHaveLength(writers * attempts);
  });
});
