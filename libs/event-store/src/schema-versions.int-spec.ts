import { createTestDatabase, type TestDatabase } from '@ledger/testing';
import type { Projection } from './consumer/projection';
import { Projector } from './consumer/projector';
import { EventSchemas } from './event-schemas';
import { appendAsWritten } from './event-schemas.fixture';
import { EventStore } from './event-store';
import { EventStoreError } from './event-store-error';
import type { EventUpcaster } from './upcasting';

jest.setTimeout(120_000);

interface PricedV1 {
  yuan: string;
}
interface PricedV2 {
  fen: number;
}

async function refusal(promise: Promise<unknown>): Promise<EventStoreError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EventStoreError) return error;
    throw error;
  }
  throw new Error('expected an EventStoreError');
}

describe('Schema versions: stamped at append, upcast once at read', () => {
  let db: TestDatabase;
  let upcasts = 0;
  // Not idempotent on purpose: a v2 payload run through it again throws, so a second upcast cannot pass.
  const pricedV1ToV2: EventUpcaster<PricedV1, PricedV2> = {
    type: 'Priced',
    fromSchemaVersion: 1,
    upcast: (data) => {
      upcasts++;
      if (typeof data.yuan !== 'string') throw new Error('not a v1 Priced');
      return { fen: Math.round(Number(data.yuan) * 100) };
    },
  };
  const schemas = new EventSchemas({
    currentVersions: { Priced: 2, Noted: 1 },
    upcasters: [pricedV1ToV2],
  });
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase('schema_versions');
    store = new EventStore(db.dataSource, schemas);
  });
  afterAll(async () => {
    await db.close();
  });

  const storedVersions = async (streamId: string) =>
    (
      await db.dataSource.query<{ schema_version: number }[]>(
        `SELECT schema_version FROM events WHERE stream_id = $1 ORDER BY version`,
        [streamId],
      )
    ).map((row) => row.schema_version);
  const eventCount = async () =>
    Number((await db.dataSource.query<{ n: string }[]>(`SELECT count(*) AS n FROM events`))[0].n);

  it("stamps every appended event with its type's current version from the catalogue", async () => {
    await store.append('stamped', 'no_stream', [
      { type: 'Priced', data: { fen: 1 } },
      { type: 'Noted', data: {} },
    ]);
    await store.appendWith(
      'stamped-in-statement',
      'no_stream',
      [{ type: 'Priced', data: { fen: 2 } }],
      () => [],
    );
    expect(await storedVersions('stamped')).toEqual([2, 1]);
    expect(await storedVersions('stamped-in-statement')).toEqual([2]);
  });

  it('refuses a type the catalogue does not list, and a version chosen by the writer, writing nothing', async () => {
    const before = await eventCount();
    const unknown = await refusal(store.append('refused', 'any', [{ type: 'Unlisted', data: {} }]));
    expect(unknown.code).toBe('UNKNOWN_EVENT_TYPE');
    expect(unknown.message).toContain('"Unlisted" is not in the event catalogue');
    const byHand = await refusal(
      store.append('refused', 'any', [{ type: 'Priced', data: { yuan: '1' }, schemaVersion: 1 } as never]),
    );
    expect(byHand.code).toBe('INVALID_APPEND');
    expect(byHand.message).toContain('the store stamps it from the catalogue');
    expect(await eventCount()).toBe(before);
  });

  it('refuses, in SQL, an event that reaches event_store_append without a schema version', async () => {
    const before = await eventCount();
    await expect(
      db.dataSource.query(`SELECT * FROM event_store_append('unversioned', NULL, $1::json, NULL)`, [
        JSON.stringify([{ type: 'Priced', data: { fen: 1 }, metadata: {} }]),
      ]),
    ).rejects.toThrow(/schema_version/);
    expect(await eventCount()).toBe(before);
  });

  describe('an event written at the previous version, next to one written today', () => {
    let projector: Projector;
    const table = 'priced_journal';
    const journal: Projection = {
      name: 'priced_journal',
      handles: ['Priced'],
      tables: [table],
      async apply(events, { session, table: resolve }) {
        for (const event of events) {
          await session.query(
            `INSERT INTO ${resolve(table)} (global_position, stream_id, schema_version, fen) VALUES ($1, $2, $3, $4)`,
            [event.globalPosition, event.streamId, event.schemaVersion, (event.data as PricedV2).fen],
          );
        }
      },
    };
    const journalRows = () =>
      db.dataSource.query<{ schema_version: number; fen: number }[]>(
        `SELECT schema_version, fen FROM ${table} WHERE stream_id = 'priced' ORDER BY global_position`,
      );

    beforeAll(async () => {
      await db.dataSource.query(
        `CREATE TABLE ${table} (global_position bigint PRIMARY KEY, stream_id text, schema_version integer, fen integer)`,
      );
      await appendAsWritten(db.dataSource, 'priced', [
        { type: 'Priced', schemaVersion: 1, data: { yuan: '12.34' } },
      ]);
      await store.append('priced', 1, [{ type: 'Priced', data: { fen: 500 } }]);
      projector = new Projector(db.dataSource, [journal], { schemas, idlePollMs: 20 });
    });
    afterAll(async () => {
      await projector.stop();
    });

    it('reads it upcast once by stream and by global position, and leaves the new one alone', async () => {
      expect(await storedVersions('priced')).toEqual([1, 2]);
      upcasts = 0;
      const byStream = await store.readStream('priced');
      expect(byStream.map((e) => [e.schemaVersion, e.data])).toEqual([
        [2, { fen: 1234 }],
        [2, { fen: 500 }],
      ]);
      expect(upcasts).toBe(1);
      const byPosition = await store.readAll(byStream[0].globalPosition - 1, 2);
      const byCheckpoint = await store.readAll({ transactionId: '0', position: 0 }, 100);
      expect(byPosition.map((e) => e.data)).toEqual([{ fen: 1234 }, { fen: 500 }]);
      expect(byCheckpoint.filter((e) => e.streamId === 'priced').map((e) => e.data)).toEqual([
        { fen: 1234 },
        { fen: 500 },
      ]);
      expect(upcasts).toBe(3);
    });

    it("hands it to the projector's batches upcast once, and again after a rebuild", async () => {
      upcasts = 0;
      await projector.start();
      const last = await store.append('priced', 2, [{ type: 'Noted', data: {} }]);
      await projector.waitFor('priced_journal', last, 10_000);
      const expected = [
        { schema_version: 2, fen: 1234 },
        { schema_version: 2, fen: 500 },
      ];
      expect(await journalRows()).toEqual(expected);
      expect(upcasts).toBe(1);
      expect(await projector.listParked('priced_journal')).toEqual([]);

      upcasts = 0;
      const rebuilt = await projector.rebuild('priced_journal');
      expect(rebuilt.parked).toBe(0);
      expect(await journalRows()).toEqual(expected);
      expect(upcasts).toBe(1);
    });
  });
});
