import { tmpdir } from 'node:os';
import { openDatabase, type LedgerDatabase } from '@ledger/platform';
import {
  createTestDatabase,
  describeOnEmbedded,
  describeOnPostgres,
  type TestDatabase,
} from '@ledger/testing';
import { EventStore } from './event-store';
import { AD_HOC_SCHEMAS } from './event-schemas.fixture';

jest.setTimeout(120_000);

const preparedNames = async (database: LedgerDatabase) =>
  (
    await database.dataSource.query<{ statement: string }[]>(
      `SELECT statement FROM pg_prepared_statements WHERE statement LIKE '%event_store_append%' ORDER BY name`,
    )
  ).map((row) => row.statement);

/** Many single-event and batch appends at once, each its own transaction, over several pooled connections. */
async function appendConcurrently(store: EventStore, prefix: string): Promise<void> {
  await Promise.all(
    Array.from({ length: 24 }, async (_, writer) => {
      const stream = `${prefix}-${writer}`;
      await store.append(stream, 'no_stream', [{ type: 'OrderPlaced', data: { writer } }]);
      await store.append(stream, 1, [
        { type: 'PaymentAwaited', data: {} },
        { type: 'PaymentAwaited', data: {} },
      ]);
      await store.append(stream, 3, [{ type: 'TradeClosed', data: {} }]);
    }),
  );
}

describe('prepared append statements', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('prepared');
  });

  afterAll(async () => {
    await database?.close();
  });

  describeOnPostgres('on PostgreSQL, where each connection has its own session', () => {
    it('prepares the append once per connection and keeps its guarantees', async () => {
      // One connection, so that the statements it prepared are the ones this session lists.
      const single = await openDatabase({ databaseUrl: database.url, dataDir: tmpdir(), poolSize: 1 });
      try {
        const store = new EventStore(single.dataSource, AD_HOC_SCHEMAS);
        // Concurrent appends commit in groups (docs/event-store.md, "Group commit"): the same round three
        // times repeats the groups' statements often enough for them to be prepared.
        for (const round of ['a', 'b', 'c'])
          await appendConcurrently(store, `prepared-one-connection-${round}`);
        const prepared = await preparedNames(single);
        expect(prepared.some((text) => text.includes('claim_1') && text.includes('$6::jsonb, $7)'))).toBe(
          true,
        );
        const refused = await store
          .append('prepared-one-connection-a-0', 2, [{ type: 'TradeClosed', data: {} }])
          .catch((error: unknown) => error);
        expect(refused).toMatchObject({ code: 'WRONG_EXPECTED_VERSION', details: { actualVersion: 4 } });
      } finally {
        await single.close();
      }
      const store = new EventStore(database.dataSource, AD_HOC_SCHEMAS);
      await appendConcurrently(store, 'prepared-pool');
      const [{ events }] = await database.dataSource.query<{ events: string }[]>(
        `SELECT count(*) AS events FROM events WHERE stream_id LIKE 'prepared-pool-%'`,
      );
      expect(Number(events)).toBe(24 * 4);
    });
  });

  describeOnEmbedded('on the embedded database, whose connections share one session', () => {
    it('prepares nothing by name, so that connections never collide on a name', async () => {
      const store = new EventStore(database.dataSource, AD_HOC_SCHEMAS);
      await appendConcurrently(store, 'shared-session');
      const [{ events }] = await database.dataSource.query<{ events: string }[]>(
        `SELECT count(*) AS events FROM events WHERE stream_id LIKE 'shared-session-%'`,
      );
      expect(Number(events)).toBe(24 * 4);
      expect(await preparedNames(database)).toEqual([]);
    });
  });
});
