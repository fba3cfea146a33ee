import { createTestDatabase, describeOnPostgres, type TestDatabase } from '@ledger/testing';
import { EventStore } from '../event-store';
import { createJournalTable, journalProjection, journalRows } from './projection.fixture';
import { Projector } from './projector';
import { AD_HOC_SCHEMAS } from '../event-schemas.fixture';

jest.setTimeout(60_000);

// Two transactions open at once need two sessions: the embedded database runs one transaction at a time.
describeOnPostgres('Global order that consumers can trust', () => {
  let db: TestDatabase;
  let store: EventStore;
  let projector: Projector;

  beforeAll(async () => {
    db = await createTestDatabase('global_order');
    store = new EventStore(db.dataSource, AD_HOC_SCHEMAS);
  });
  afterEach(async () => {
    await projector.stop();
  });
  afterAll(async () => {
    await db.close();
  });

  const start = async (name: string) => {
    await createJournalTable(db.dataSource, name);
    projector = new Projector(db.dataSource, [journalProjection({ name, table: name, handles: [name] })], {
      schemas: AD_HOC_SCHEMAS,
      idlePollMs: 50,
    });
    await projector.start();
  };

  /** A transaction on its own session, left open until the test commits it. */
  const openTransaction = async () => {
    const runner = db.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    return {
      manager: runner.manager,
      async commit() {
        await runner.commitTransaction();
        await runner.release();
      },
    };
  };

  it('does not pass a newer commit while an older transaction that wrote first is open, and projects both', async () => {
    await start('late_commit');
    const t1 = await openTransaction();
    const early = await store.append('late-1', 'any', [{ type: 'late_commit', data: {} }], {
      session: t1.manager,
    });
    const late = await store.append('late-2', 'any', [{ type: 'late_commit', data: {} }]);
    expect(early.lastPosition).toBeLessThan(late.lastPosition);

    // The naive consumer's bug: position `late` is visible, `early` is not yet; passing `late` skips it.
    await expect(projector.waitFor('late_commit', late, 1_000)).rejects.toMatchObject({
      code: 'WAIT_TIMEOUT',
    });
    expect(await journalRows(db.dataSource, 'late_commit')).toEqual([]);
    expect((await projector.lag('late_commit')).events).toBe(1);

    await t1.commit();
    await projector.waitFor('late_commit', late, 10_000);
    expect((await journalRows(db.dataSource, 'late_commit')).map((row) => row.stream_id)).toEqual([
      'late-1',
      'late-2',
    ]);
  });

  it('orders by transaction: an older transaction writing after a newer one committed comes first', async () => {
    await start('older_first');
    const t1 = await openTransaction();
    const [{ xid }] = await t1.manager.query<{ xid: string }[]>(`SELECT pg_current_xact_id()::text AS xid`);
    const newer = await store.append('older-2', 'any', [{ type: 'older_first', data: {} }]);
    const older = await store.append('older-1', 'any', [{ type: 'older_first', data: {} }], {
      session: t1.manager,
    });
    expect(older.transactionId).toBe(xid);
    expect(older.lastPosition).toBeGreaterThan(newer.lastPosition);

    await expect(projector.waitFor('older_first', newer, 1_000)).rejects.toMatchObject({
      code: 'WAIT_TIMEOUT',
    });
    await t1.commit();
    await projector.waitFor('older_first', newer, 10_000);

    // The older transaction's event comes first though its position is higher: consumers see transactions
    // in the order they took their ids, the order the append's stream-order guard keeps within a stream.
    const journal = await journalRows(db.dataSource, 'older_first');
    expect(journal.map((row) => [row.stream_id, row.global_position])).toEqual([
      ['older-1', String(older.lastPosition)],
      ['older-2', String(newer.lastPosition)],
    ]);
  });
});
