import { createTestDatabase, type TestDatabase } from '@ledger/testing';
import { EventStore, type AppendResult } from '../event-store';
import { AD_HOC_SCHEMAS } from '../event-schemas.fixture';
import { createSummaryTable, summaryProjection, summaryRows } from './projection.fixture';
import { Projector } from './projector';
import type { ProjectionProgress } from './shadow-tables';

jest.setTimeout(120_000);

describe('Projection verification', () => {
  let db: TestDatabase;
  let store: EventStore;
  let projector: Projector | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('verify_projection');
    store = new EventStore(db.dataSource, AD_HOC_SCHEMAS);
  });
  afterEach(async () => {
    await projector?.stop();
    projector = undefined;
  });
  afterAll(async () => {
    await db.close();
  });

  const appendSome = async (type: string, count: number, streams = 5): Promise<AppendResult> => {
    let last!: AppendResult;
    for (let i = 0; i < count; i++)
      last = await store.append(`${type}-${i % streams}`, 'any', [{ type, data: { i } }]);
    return last;
  };
  const started = async (name: string, options: { failOn?: string } = {}) => {
    await createSummaryTable(db.dataSource, name);
    projector = new Projector(
      db.dataSource,
      [
        summaryProjection({
          name,
          table: name,
          handles: [name],
          failOn: (event) => event.streamId === options.failOn,
        }),
      ],
      { schemas: AD_HOC_SCHEMAS, rebuildBatchSize: 7 },
    );
    await projector.start();
    return projector;
  };
  const shadows = async () =>
    db.dataSource.query<{ table_name: string }[]>(
      `SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%__verify'`,
    );

  it('finds a live projection equal to a fresh fold, reports progress, and leaves nothing behind', async () => {
    const running = await started('same');
    await running.waitFor('same', await appendSome('same', 30), 10_000);
    const before = await summaryRows(db.dataSource, 'same');
    const seen: ProjectionProgress[] = [];

    const verification = await running.verify('same', { onProgress: (p) => seen.push(p) });

    expect(verification).toMatchObject({
      projection: 'same',
      events: 30,
      equal: true,
      tables: [{ table: 'same', rows: 5, missing: 0, extra: 0, different: 0, samples: [] }],
      parked: { live: 0, fresh: 0, onlyLive: [], onlyFresh: [] },
    });
    expect(seen.length).toBeGreaterThanOrEqual(5);
    expect(seen.at(-1)).toMatchObject({ events: 30, position: verification.checkpoint.position });
    expect(await summaryRows(db.dataSource, 'same')).toEqual(before);
    expect(await shadows()).toEqual([]);
    expect(
      await db.dataSource.query(
        `SELECT projection FROM projection_checkpoints WHERE projection LIKE '%verify'`,
      ),
    ).toEqual([]);
  });

  it('names the rows changed, removed or added behind the projector’s back, column by column', async () => {
    const running = await started('tampered');
    await running.waitFor('tampered', await appendSome('tampered', 20, 4), 10_000);
    await db.dataSource.query(`UPDATE tampered SET events = events + 1 WHERE stream_id = 'tampered-1'`);
    await db.dataSource.query(`DELETE FROM tampered WHERE stream_id = 'tampered-2'`);
    await db.dataSource.query(
      `INSERT INTO tampered (stream_id, events, last_version, last_position, types) VALUES ('forged', 1, 1, 1, '{}')`,
    );

    const verification = await running.verify('tampered');

    expect(verification.equal).toBe(false);
    const [table] = verification.tables;
    expect(table).toMatchObject({ table: 'tampered', rows: 4, missing: 1, extra: 1, different: 1 });
    expect(table.samples).toEqual([
      { key: { stream_id: 'forged' }, kind: 'extra', columns: [] },
      {
        key: { stream_id: 'tampered-1' },
        kind: 'different',
        columns: [{ column: 'events', live: 6, fresh: 5 }],
      },
      { key: { stream_id: 'tampered-2' }, kind: 'missing', columns: [] },
    ]);
    expect(await shadows()).toEqual([]);
  });

  it('compares up to the live checkpoint: events the projector has not reached are no difference', async () => {
    const running = await started('behind');
    await running.waitFor('behind', await appendSome('behind', 10), 10_000);
    await running.stop();
    await appendSome('behind', 10);

    const verification = await running.verify('behind');

    expect(verification.equal).toBe(true);
    expect(verification.tables[0].rows).toBe(5);
  });

  it('reports the events the live projection parked and the fold did not', async () => {
    const running = await started('parking', { failOn: 'parking-0' });
    await running
      .waitFor('parking', await appendSome('parking', 10), 10_000)
      .catch((error: { code?: string }) => expect(error.code).toBe('EVENT_PARKED'));
    const parked = await running.listParked('parking');
    expect(parked.length).toBeGreaterThan(0);

    const verification = await running.verify('parking');

    // The fold parks the same stream: the same poison, the same failure.
    expect(verification.parked).toEqual({
      live: parked.length,
      fresh: parked.length,
      onlyLive: [],
      onlyFresh: [],
    });
    expect(verification.equal).toBe(true);
    await db.dataSource.query(`DELETE FROM parked_events WHERE projection = 'parking'`);
    expect((await running.verify('parking')).parked.onlyFresh).toEqual(parked.map((e) => e.globalPosition));
  });

  it('refuses while the projection is being rebuilt or verified', async () => {
    const running = await started('busy');
    await running.waitFor('busy', await appendSome('busy', 5), 10_000);
    const first = running.verify('busy');
    await expect(running.rebuild('busy')).rejects.toMatchObject({ code: 'REBUILD_IN_PROGRESS' });
    await expect(running.verify('busy')).rejects.toMatchObject({ code: 'REBUILD_IN_PROGRESS' });
    expect((await first).equal).toBe(true);
  });
});
