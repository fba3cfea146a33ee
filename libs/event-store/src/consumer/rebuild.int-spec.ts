import { createTestDatabase, testDatabaseKind, type TestDatabase } from '@ledger/testing';
import type { DatabaseSession } from '@ledger/platform';
import { EventStore, type AppendResult } from '../event-store';
import { readCheckpoint } from './checkpoint';
import type { Projection } from './projection';
import { createSummaryTable, cutConnection, summaryProjection, summaryRows } from './projection.fixture';
import { Projector } from './projector';
import { readRebuildStatus, type RebuildStatus } from './rebuild';
import type { ProjectionProgress } from './shadow-tables';
import { AD_HOC_SCHEMAS } from '../event-schemas.fixture';

jest.setTimeout(120_000);

describe('Projection rebuild', () => {
  let db: TestDatabase;
  let store: EventStore;
  let projector: Projector | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('rebuild');
    store = new EventStore(db.dataSource, AD_HOC_SCHEMAS);
  });
  afterEach(async () => {
    await projector?.stop();
    projector = undefined;
  });
  afterAll(async () => {
    await db.close();
  });

  const appendSome = async (type: string, count: number, streams = 12): Promise<AppendResult> => {
    const appended: AppendResult[] = [];
    for (let i = 0; i < count; i += 3) {
      const events = Array.from({ length: Math.min(3, count - i) }, () => ({ type, data: { i } }));
      appended.push(await store.append(`${type}-${appended.length % streams}`, 'any', events));
    }
    return appended[appended.length - 1];
  };
  const tablesLike = async (prefix: string) =>
    (
      await db.dataSource.query<{ table_name: string }[]>(
        `SELECT table_name FROM information_schema.tables WHERE table_name LIKE $1 ORDER BY table_name`,
        [`${prefix}%`],
      )
    ).map((row) => row.table_name);
  const indexNames = async (table: string) =>
    (
      await db.dataSource.query<{ indexname: string }[]>(
        `SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname`,
        [table],
      )
    ).map((row) => row.indexname);

  /** A projection over two tables: a summary per stream and a count per event type. */
  const twoTables = (name: string, hooks: Parameters<typeof summaryProjection>[0] = { name }): Projection => {
    const summary = summaryProjection({ ...hooks, name, table: `${name}_streams`, handles: [name] });
    return {
      name,
      handles: [name],
      tables: [`${name}_streams`, `${name}_types`],
      async apply(events, context) {
        await summary.apply(events, context);
        await context.session.query(
          `INSERT INTO ${context.table(`${name}_types`)} AS t (type, events) VALUES ($1, $2)
           ON CONFLICT (type) DO UPDATE SET events = t.events + excluded.events`,
          [name, events.length],
        );
      },
    };
  };
  const createTwoTables = async (name: string) => {
    await createSummaryTable(db.dataSource, `${name}_streams`);
    await db.dataSource.query(`CREATE TABLE ${name}_types (type text PRIMARY KEY, events integer NOT NULL)`);
  };

  it('rebuilds into fresh tables equal to the live ones, row for row, and swaps them in', async () => {
    await createTwoTables('equal');
    projector = new Projector(db.dataSource, [twoTables('equal')], {
      schemas: AD_HOC_SCHEMAS,
      rebuildBatchSize: 25,
    });
    await projector.start();
    const last = await appendSome('equal', 300);
    await projector.waitFor('equal', last, 20_000);
    const liveStreams = await summaryRows(db.dataSource, 'equal_streams');
    const liveTypes = await db.dataSource.query(`SELECT * FROM equal_types`);
    const liveCheckpoint = await readCheckpoint(db.dataSource, 'equal');
    const indexesBefore = await indexNames('equal_streams');

    const outcome = await projector.rebuild('equal');

    expect(outcome).toMatchObject({ projection: 'equal', parked: 0 });
    expect(outcome.events).toBeGreaterThanOrEqual(300);
    expect(await summaryRows(db.dataSource, 'equal_streams')).toEqual(liveStreams);
    expect(await db.dataSource.query(`SELECT * FROM equal_types`)).toEqual(liveTypes);
    expect(await readCheckpoint(db.dataSource, 'equal')).toEqual(liveCheckpoint);
    expect(await tablesLike('equal')).toEqual(['equal_streams', 'equal_types']);
    expect(await indexNames('equal_streams')).toEqual(indexesBefore);
    expect(indexesBefore).toEqual(['equal_streams_by_position', 'equal_streams_pkey']);
    // The live projector goes on with the swapped-in tables.
    const after = await store.append('equal-0', 'any', [{ type: 'equal', data: {} }]);
    await projector.waitFor('equal', after, 10_000);
    const [row] = await summaryRows(db.dataSource, 'equal_streams');
    expect([row.stream_id, row.events, row.out_of_order]).toEqual(['equal-0', 28, 0]);
  });

  it('the live projection serves and keeps projecting while the rebuild runs', async () => {
    await createTwoTables('serving');
    let rebuildBatches = 0;
    let release!: () => void;
    const midway = new Promise<void>((resolve) => (release = resolve));
    const projection = twoTables('serving', {
      name: 'serving',
      afterWrite: (_events: unknown, _session: DatabaseSession, rebuilding: boolean) => {
        if (rebuilding && ++rebuildBatches === 3) release();
        return Promise.resolve();
      },
    });
    projector = new Projector(db.dataSource, [projection], { schemas: AD_HOC_SCHEMAS, rebuildBatchSize: 20 });
    await projector.start();
    const before = await appendSome('serving', 300);
    await projector.waitFor('serving', before, 20_000);
    const liveBefore = await summaryRows(db.dataSource, 'serving_streams');

    const rebuilding = projector.rebuild('serving');
    await midway;
    expect(await summaryRows(db.dataSource, 'serving_streams')).toEqual(liveBefore);
    const during = await appendSome('serving', 60);
    await projector.waitFor('serving', during, 20_000);
    const liveDuring = await summaryRows(db.dataSource, 'serving_streams');
    expect(liveDuring.reduce((sum, row) => sum + row.events, 0)).toBe(360);
    await rebuilding;

    expect(rebuildBatches).toBeGreaterThan(3);
    expect(await summaryRows(db.dataSource, 'serving_streams')).toEqual(liveDuring);
  });

  it('a crash mid-rebuild leaves the live projection untouched, and the next rebuild succeeds', async () => {
    await createTwoTables('crash');
    let crashes = 1;
    const projection = twoTables('crash', {
      name: 'crash',
      afterWrite: async (_events: unknown, session: DatabaseSession, rebuilding: boolean) => {
        if (rebuilding && crashes > 0) {
          crashes--;
          await cutConnection(session);
        }
      },
    });
    projector = new Projector(db.dataSource, [projection], { schemas: AD_HOC_SCHEMAS, rebuildBatchSize: 30 });
    await projector.start();
    const last = await appendSome('crash', 120);
    await projector.waitFor('crash', last, 20_000);
    const live = await summaryRows(db.dataSource, 'crash_streams');
    const checkpoint = await readCheckpoint(db.dataSource, 'crash');

    await expect(projector.rebuild('crash')).rejects.toThrow();

    expect(await summaryRows(db.dataSource, 'crash_streams')).toEqual(live);
    expect(await readCheckpoint(db.dataSource, 'crash')).toEqual(checkpoint);
    const next = await store.append('crash-1', 'any', [{ type: 'crash', data: {} }]);
    await projector.waitFor('crash', next, 10_000);
    const afterCrash = await summaryRows(db.dataSource, 'crash_streams');
    await projector.rebuild('crash');
    expect(await summaryRows(db.dataSource, 'crash_streams')).toEqual(afterCrash);
    expect(await tablesLike('crash')).toEqual(['crash_streams', 'crash_types']);
  });

  it('a swap that fails half-way through its tables rolls back whole: both live tables stay', async () => {
    await createTwoTables('halfswap');
    projector = new Projector(db.dataSource, [twoTables('halfswap')], { schemas: AD_HOC_SCHEMAS });
    await projector.start();
    await projector.waitFor('halfswap', await appendSome('halfswap', 30), 10_000);
    const liveStreams = await summaryRows(db.dataSource, 'halfswap_streams');
    // The second table cannot be dropped while a view depends on it: the swap fails after the first.
    await db.dataSource.query(`CREATE VIEW halfswap_view AS SELECT * FROM halfswap_types`);

    await expect(projector.rebuild('halfswap')).rejects.toThrow(/depend/);

    expect(await summaryRows(db.dataSource, 'halfswap_streams')).toEqual(liveStreams);
    expect(await db.dataSource.query(`SELECT events FROM halfswap_view`)).toEqual([{ events: 30 }]);
    await db.dataSource.query(`DROP VIEW halfswap_view`);
    await projector.rebuild('halfswap');
    expect(await summaryRows(db.dataSource, 'halfswap_streams')).toEqual(liveStreams);
  });

  it('refuses a second rebuild of the same projection while one runs', async () => {
    await createTwoTables('twice');
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const projection = twoTables('twice', {
      name: 'twice',
      afterWrite: async (_events: unknown, _session: DatabaseSession, rebuilding: boolean) => {
        if (!rebuilding) return;
        entered();
        await hold;
      },
    });
    projector = new Projector(db.dataSource, [projection], { schemas: AD_HOC_SCHEMAS });
    await projector.start();
    await projector.waitFor('twice', await appendSome('twice', 6), 10_000);

    const calls: string[] = [];
    const first = projector.rebuild('twice', {
      onStarted: () => calls.push('first started'),
      onProgress: () => calls.push('first progress'),
    });
    await inside;
    await expect(
      projector.rebuild('twice', { onStarted: () => calls.push('second started') }),
    ).rejects.toMatchObject({ code: 'REBUILD_IN_PROGRESS' });
    release();
    await first;
    // Started once its shadows were ready, before any batch; the refused one never started.
    expect(calls[0]).toBe('first started');
    expect(calls.filter((call) => call.endsWith('started'))).toEqual(['first started']);
    expect(calls.length).toBeGreaterThan(1);
  });

  it('parked events of the rebuilt projection replace those of the live one', async () => {
    await createTwoTables('reparked');
    let poisonStream = 'reparked-0';
    const projection = twoTables('reparked', {
      name: 'reparked',
      failOn: (event) => event.streamId === poisonStream,
    });
    projector = new Projector(db.dataSource, [projection], { schemas: AD_HOC_SCHEMAS });
    await projector.start();
    await projector
      .waitFor('reparked', await appendSome('reparked', 24, 4), 10_000)
      .catch((error: { code?: string }) => expect(error.code).toBe('EVENT_PARKED'));
    expect(new Set((await projector.listParked('reparked')).map((event) => event.streamId))).toEqual(
      new Set(['reparked-0']),
    );

    poisonStream = 'reparked-1';
    const outcome = await projector.rebuild('reparked');

    expect(outcome.parked).toBeGreaterThan(0);
    expect(new Set((await projector.listParked('reparked')).map((event) => event.streamId))).toEqual(
      new Set(['reparked-1']),
    );
    const rows = await summaryRows(db.dataSource, 'reparked_streams');
    expect(rows.map((row) => row.stream_id)).toEqual(['reparked-0', 'reparked-2', 'reparked-3']);
  });

  it('reports its progress after each batch, and another session reads it from the database', async () => {
    await createTwoTables('progress');
    let statusMidway: RebuildStatus | undefined;
    let committedMidway: number | undefined;
    let rebuildBatches = 0;
    const seen: ProjectionProgress[] = [];
    const projection = twoTables('progress', {
      name: 'progress',
      afterWrite: async (_events: unknown, session: DatabaseSession, rebuilding: boolean) => {
        if (!rebuilding || ++rebuildBatches !== 2) return;
        // Another connection on PostgreSQL; the batch's own on the embedded database, where a second
        // connection would wait for this transaction.
        const reader = testDatabaseKind() === 'postgres' ? db.dataSource : session;
        committedMidway = seen.at(-1)?.position;
        statusMidway = await readRebuildStatus(reader, 'progress');
      },
    });
    projector = new Projector(db.dataSource, [projection], { schemas: AD_HOC_SCHEMAS, rebuildBatchSize: 40 });
    await projector.start();
    const last = await appendSome('progress', 100);
    await projector.waitFor('progress', last, 10_000);
    expect(await projector.rebuildStatus('progress')).toBeUndefined();

    const outcome = await projector.rebuild('progress', { onProgress: (progress) => seen.push(progress) });

    // A batch was being written: the shadows' checkpoint stood where the batch before had left it.
    expect(committedMidway).toBeGreaterThan(0);
    expect(statusMidway).toMatchObject({
      projection: 'progress',
      running: true,
      position: committedMidway,
      headPosition: last.lastPosition,
    });
    expect(seen.length).toBeGreaterThanOrEqual(3);
    const counts = seen.map((progress) => progress.events);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(seen.at(-1)).toMatchObject({
      projection: 'progress',
      events: outcome.events,
      position: outcome.checkpoint.position,
      headPosition: last.lastPosition,
    });
    expect(await projector.rebuildStatus('progress')).toBeUndefined();
  });

  it('shows the shadows a crashed rebuild left as not running', async () => {
    await createTwoTables('abandoned');
    let crashes = 1;
    const projection = twoTables('abandoned', {
      name: 'abandoned',
      afterWrite: async (_events: unknown, session: DatabaseSession, rebuilding: boolean) => {
        if (rebuilding && crashes > 0 && --crashes === 0) await cutConnection(session);
      },
    });
    projector = new Projector(db.dataSource, [projection], { schemas: AD_HOC_SCHEMAS, rebuildBatchSize: 10 });
    await projector.start();
    await projector.waitFor('abandoned', await appendSome('abandoned', 30), 10_000);

    await expect(projector.rebuild('abandoned')).rejects.toThrow();

    const abandoned = await projector.rebuildStatus('abandoned');
    expect(abandoned).toMatchObject({ projection: 'abandoned', running: false });
    expect(abandoned!.position).toBeLessThan(abandoned!.headPosition);
    await projector.rebuild('abandoned');
    expect(await projector.rebuildStatus('abandoned')).toBeUndefined();
  });
});
