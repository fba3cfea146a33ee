import { createTestDatabase, describeOnPostgres, type TestDatabase } from '@ledger/testing';
import { EventStore, type AppendResult } from '../event-store';
import { createSummaryTable, summaryProjection, summaryRows } from './projection.fixture';
import { Projector } from './projector';
import { AD_HOC_SCHEMAS } from '../event-schemas.fixture';

jest.setTimeout(60_000);

describe('Projector instances', () => {
  let db: TestDatabase;
  let store: EventStore;
  const running: Projector[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('takeover');
    store = new EventStore(db.dataSource, AD_HOC_SCHEMAS);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((projector) => projector.stop()));
  });
  afterAll(async () => {
    await db.close();
  });

  const instance = async (name: string, lockRetryMs = 50) => {
    const projector = new Projector(
      db.dataSource,
      [summaryProjection({ name, table: name, handles: [name] })],
      { schemas: AD_HOC_SCHEMAS, lockRetryMs, idlePollMs: 50 },
    );
    running.push(projector);
    await projector.start();
    return projector;
  };
  const appendTo = async (name: string, count: number): Promise<AppendResult> => {
    const appended: AppendResult[] = [];
    for (let i = 0; i < count; i++)
      appended.push(await store.append(`${name}-${i % 5}`, 'any', [{ type: name, data: {} }]));
    return appended[appended.length - 1];
  };
  const active = (projector: Projector) => projector.status()[0].active;
  const until = async (condition: () => boolean, what: string) => {
    for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    if (!condition()) throw new Error(`gave up waiting until ${what}`);
  };

  it('two instances never apply an event twice, whichever of them runs', async () => {
    await createSummaryTable(db.dataSource, 'pair');
    const [first, second] = await Promise.all([instance('pair'), instance('pair')]);
    const last = await appendTo('pair', 100);

    await Promise.all([first.waitFor('pair', last, 20_000), second.waitFor('pair', last, 20_000)]);

    const rows = await summaryRows(db.dataSource, 'pair');
    expect(rows.map((row) => [row.events, row.last_version, row.out_of_order])).toEqual(
      Array.from({ length: 5 }, () => [20, 20, 0]),
    );
  });

  describeOnPostgres('on a server with real sessions', () => {
    /** The backend holding the projection's advisory lock: the active instance's control session. */
    const lockHolder = async (name: string) => {
      const rows = await db.dataSource.query<{ pid: number }[]>(
        `SELECT pid FROM pg_locks
         WHERE locktype = 'advisory' AND granted AND objsubid = 2
           AND classid = hashtext('ledger.projector')::oid AND objid = hashtext($1)::oid`,
        [name],
      );
      return rows.map((row) => row.pid);
    };

    it('a second instance waits while the first holds the lock, and takes over when its session dies', async () => {
      await createSummaryTable(db.dataSource, 'takeover');
      // Once its session is gone, the first instance waits longer than the second before competing again.
      const first = await instance('takeover', 3_000);
      await first.waitFor('takeover', await appendTo('takeover', 10), 10_000);
      expect(active(first)).toBe(true);
      const second = await instance('takeover');
      await new Promise((resolve) => setTimeout(resolve, 300)); // several of its lock attempts
      expect(active(second)).toBe(false);

      const holders = await lockHolder('takeover');
      expect(holders).toHaveLength(1);
      await db.dataSource.query(`SELECT pg_terminate_backend($1)`, [holders[0]]);
      await until(() => active(second), 'the second instance takes over');
      await until(() => !active(first), 'the first instance notices its lock is gone');

      await second.waitFor('takeover', await appendTo('takeover', 10), 10_000);
      const rows = await summaryRows(db.dataSource, 'takeover');
      expect(rows.map((row) => [row.events, row.out_of_order])).toEqual(
        Array.from({ length: 5 }, () => [4, 0]),
      );
      expect(active(first)).toBe(false);
    });

    it('stopping the active instance hands the projection over at once', async () => {
      await createSummaryTable(db.dataSource, 'handover');
      const first = await instance('handover');
      await first.waitFor('handover', await appendTo('handover', 5), 10_000);
      const second = await instance('handover');

      await first.stop();
      await until(() => active(second), 'the second instance takes over');
      await second.waitFor('handover', await appendTo('handover', 5), 10_000);

      const rows = await summaryRows(db.dataSource, 'handover');
      expect(rows.map((row) => row.events)).toEqual([2, 2, 2, 2, 2]);
    });
  });
});
