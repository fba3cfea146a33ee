import { createTestDatabase, describeOnEmbedded, type TestDatabase } from '@ledger/testing';
import type { RecordedEvent } from '../event-envelope';
import { EventStore, type AppendResult } from '../event-store';
import { compareCheckpoints } from './checkpoint';
import {
  createJournalTable,
  createSummaryTable,
  cutConnection,
  journalProjection,
  journalRows,
  summaryProjection,
  summaryRows,
} from './projection.fixture';
import { Projector } from './projector';
import { isProjectorError } from './projector-error';
import { AD_HOC_SCHEMAS, AdHocEventSchemas, appendAsWritten } from '../event-schemas.fixture';

// jest's testTimeout is not applied per project: database tests set their own.
jest.setTimeout(60_000);

describe('Projector', () => {
  let db: TestDatabase;
  let store: EventStore;
  const running: Projector[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('projector');
    store = new EventStore(db.dataSource, AD_HOC_SCHEMAS);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((projector) => projector.stop()));
  });
  afterAll(async () => {
    await db.close();
  });

  const started = async (projector: Projector) => {
    running.push(projector);
    await projector.start();
    return projector;
  };
  const event = (type: string, data: unknown = {}) => ({ type, data });
  /** Appends `count` single-event batches; returns the last append. */
  const appendOneByOne = async (count: number, streamOf: (i: number) => string, type: string) => {
    const appended: AppendResult[] = [];
    for (let i = 0; i < count; i++) appended.push(await store.append(streamOf(i), 'any', [event(type)]));
    return appended[appended.length - 1];
  };

  it('projects every committed event once, each stream in version order, with the checkpoint', async () => {
    await createSummaryTable(db.dataSource, 'basic');
    for (let i = 0; i < 30; i++) {
      await store.append(`basic-${i % 3}`, 'any', [event('Counted', { i })]);
    }
    const last = await store.append('basic-0', 'any', [event('Counted'), event('Counted'), event('Counted')]);
    const projector = await started(
      new Projector(
        db.dataSource,
        [summaryProjection({ name: 'basic', table: 'basic', handles: ['Counted'] })],
        { schemas: AD_HOC_SCHEMAS, batchSize: 7 },
      ),
    );

    await projector.waitFor('basic', last, 10_000);

    const rows = await summaryRows(db.dataSource, 'basic');
    expect(rows.map((row) => [row.stream_id, row.events, row.last_version, row.out_of_order])).toEqual([
      ['basic-0', 13, 13, 0],
      ['basic-1', 10, 10, 0],
      ['basic-2', 10, 10, 0],
    ]);
    const lag = await projector.lag('basic');
    expect(lag).toMatchObject({ events: 0, seconds: 0 });
    expect(lag.checkpoint).toEqual({ transactionId: last.transactionId, position: last.lastPosition });
  });

  it('skips the types it does not handle and still moves past them', async () => {
    await createSummaryTable(db.dataSource, 'handled');
    await store.append('handled-1', 'any', [event('Wanted'), event('Unwanted')]);
    const last = await store.append('handled-2', 'any', [event('Unwanted')]);
    const projector = await started(
      new Projector(
        db.dataSource,
        [summaryProjection({ name: 'handled', table: 'handled', handles: ['Wanted'] })],
        { schemas: AD_HOC_SCHEMAS },
      ),
    );

    await projector.waitFor('handled', last, 10_000);

    const rows = await summaryRows(db.dataSource, 'handled');
    expect(rows.map((row) => [row.stream_id, row.types])).toEqual([['handled-1', ['Wanted']]]);
    expect((await projector.lag('handled')).events).toBe(0);
  });

  it('waitFor resolves once a later write is projected (read-your-writes)', async () => {
    await createSummaryTable(db.dataSource, 'ryw');
    const projector = await started(
      new Projector(
        db.dataSource,
        [summaryProjection({ name: 'ryw', table: 'ryw', handles: ['RywCounted'] })],
        { schemas: AD_HOC_SCHEMAS },
      ),
    );
    for (let i = 1; i <= 5; i++) {
      const appended = await store.append('ryw-order', 'any', [event('RywCounted')]);
      await projector.waitFor('ryw', appended, 10_000);
      const [row] = await summaryRows(db.dataSource, 'ryw');
      expect(row.events).toBe(i);
    }
  });

  it('waitFor times out with WAIT_TIMEOUT while nothing projects, and accepts a checkpoint form', async () => {
    await createSummaryTable(db.dataSource, 'idle');
    const stopped = new Projector(
      db.dataSource,
      [summaryProjection({ name: 'idle', table: 'idle', handles: ['IdleCounted'] })],
      { schemas: AD_HOC_SCHEMAS },
    );
    const appended = await store.append('idle-1', 'any', [event('IdleCounted')]);

    const waiting = stopped.waitFor(
      'idle',
      { transactionId: appended.transactionId, position: appended.lastPosition },
      300,
    );

    await expect(waiting).rejects.toMatchObject({ name: 'ProjectorError', code: 'WAIT_TIMEOUT' });
    expect(await summaryRows(db.dataSource, 'idle')).toEqual([]);
  });

  it('releases pending waits with PROJECTOR_STOPPED when it stops', async () => {
    await createSummaryTable(db.dataSource, 'stopping');
    const projector = await started(
      new Projector(
        db.dataSource,
        [summaryProjection({ name: 'stopping', table: 'stopping', handles: ['S'] })],
        { schemas: AD_HOC_SCHEMAS },
      ),
    );
    const waiting = projector
      .waitFor('stopping', { transactionId: '18446744073709551615', position: 1 }, 60_000)
      .catch((error: unknown) => error);

    await projector.stop();

    expect(await waiting).toMatchObject({ code: 'PROJECTOR_STOPPED' });
  });

  it('refuses unknown projections and malformed targets', async () => {
    const projector = new Projector(db.dataSource, [summaryProjection({ name: 'refusals', table: 'x' })], {
      schemas: AD_HOC_SCHEMAS,
    });
    expect(() => projector.waitFor('nope', { transactionId: '1', position: 1 }, 10)).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_PROJECTION' }),
    );
    expect(() => projector.waitFor('refusals', { transactionId: '1; DROP', position: 1 }, 10)).toThrow(
      expect.objectContaining({ code: 'INVALID_CHECKPOINT' }),
    );
    await expect(projector.lag('nope')).rejects.toMatchObject({ code: 'UNKNOWN_PROJECTION' });
    expect(
      () =>
        new Projector(db.dataSource, [summaryProjection({ name: 'Bad-Name', table: 'x' })], {
          schemas: AD_HOC_SCHEMAS,
        }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_PROJECTION' }));
    expect(
      () =>
        new Projector(
          db.dataSource,
          [
            summaryProjection({ name: 'twice', table: 'x' }),
            summaryProjection({ name: 'twice', table: 'y' }),
          ],
          { schemas: AD_HOC_SCHEMAS },
        ),
    ).toThrow(expect.objectContaining({ code: 'INVALID_PROJECTION' }));
  });

  it("reports lag: committed events after the checkpoint and the oldest one's age", async () => {
    await createSummaryTable(db.dataSource, 'lagging');
    const projection = summaryProjection({ name: 'lagging', table: 'lagging', handles: ['LagCounted'] });
    const first = await started(new Projector(db.dataSource, [projection], { schemas: AD_HOC_SCHEMAS }));
    await first.waitFor('lagging', await store.append('lagging-1', 'any', [event('LagCounted')]), 10_000);
    await first.stop();

    for (let i = 0; i < 4; i++) await store.append('lagging-1', 'any', [event('LagCounted')]);
    const behind = await first.lag('lagging');
    expect(behind.events).toBe(4);
    expect(behind.seconds).toBeGreaterThanOrEqual(0);

    const last = await store.append('lagging-2', 'any', [event('LagCounted')]);
    const second = await started(new Projector(db.dataSource, [projection], { schemas: AD_HOC_SCHEMAS }));
    await second.waitFor('lagging', last, 10_000);
    expect(await second.lag('lagging')).toMatchObject({ events: 0, seconds: 0 });
  });

  it('resumes after a restart from its checkpoint, applying nothing twice', async () => {
    await createSummaryTable(db.dataSource, 'restart');
    const projection = summaryProjection({ name: 'restart', table: 'restart', handles: ['RestartCounted'] });
    for (let round = 1; round <= 3; round++) {
      const projector = await started(
        new Projector(db.dataSource, [projection], { schemas: AD_HOC_SCHEMAS, batchSize: 3 }),
      );
      const last = await appendOneByOne(10, (i) => `restart-${i % 2}`, 'RestartCounted');
      await projector.waitFor('restart', last, 10_000);
      await projector.stop();
      const rows = await summaryRows(db.dataSource, 'restart');
      expect(rows.map((row) => [row.events, row.last_version, row.out_of_order])).toEqual([
        [5 * round, 5 * round, 0],
        [5 * round, 5 * round, 0],
      ]);
    }
  });

  it('a consumer killed mid-batch, after writing its rows, resumes with nothing lost or applied twice', async () => {
    await createSummaryTable(db.dataSource, 'killed');
    let kills = 0;
    const projection = summaryProjection({
      name: 'killed',
      table: 'killed',
      handles: ['KilledCounted'],
      afterWrite: async (events, session) => {
        // The first three attempts die between their rows and their checkpoint.
        if (kills < 3) {
          kills++;
          await cutConnection(session);
        }
      },
    });
    const last = await appendOneByOne(40, (i) => `killed-${i % 4}`, 'KilledCounted');
    const projector = await started(
      new Projector(db.dataSource, [projection], { schemas: AD_HOC_SCHEMAS, batchSize: 6 }),
    );

    await projector.waitFor('killed', last, 30_000);

    expect(kills).toBe(3);
    const rows = await summaryRows(db.dataSource, 'killed');
    expect(rows.map((row) => [row.events, row.last_version, row.out_of_order])).toEqual(
      Array.from({ length: 4 }, () => [10, 10, 0]),
    );
    expect(await projector.listParked('killed')).toEqual([]);
  });

  it('reports whether this instance is the one projecting', async () => {
    const projector = new Projector(
      db.dataSource,
      [summaryProjection({ name: 'status', table: 'status', handles: ['StatusCounted'] })],
      { schemas: AD_HOC_SCHEMAS },
    );
    await createSummaryTable(db.dataSource, 'status');
    expect(projector.status()).toEqual([{ projection: 'status', active: false }]);
    await started(projector);
    await projector.waitFor(
      'status',
      await store.append('status-1', 'any', [event('StatusCounted')]),
      10_000,
    );
    expect(projector.status()).toEqual([{ projection: 'status', active: true }]);
    await projector.stop();
    expect(projector.status()).toEqual([{ projection: 'status', active: false }]);
  });

  it('holds a background projection to one batch per interval while the process is busy, the others not', async () => {
    await createSummaryTable(db.dataSource, 'background');
    await createSummaryTable(db.dataSource, 'foreground');
    const background = summaryProjection({ name: 'background', table: 'background', handles: ['Paced'] });
    const batchesAt: number[] = [];
    let busy = false;
    const projector = await started(
      new Projector(
        db.dataSource,
        [
          {
            ...background,
            background: true,
            apply: (events, context) => {
              batchesAt.push(performance.now());
              return background.apply(events, context);
            },
          },
          summaryProjection({ name: 'foreground', table: 'foreground', handles: ['Paced'] }),
        ],
        { schemas: AD_HOC_SCHEMAS, batchSize: 2, busy: () => busy, backgroundIntervalMs: 1_000 },
      ),
    );
    // Not busy: both go through what the other tests wrote, as fast as they can.
    const head = await store.append('paced-start', 'any', [event('Unpaced')]);
    await projector.waitFor('background', head, 10_000);
    await projector.waitFor('foreground', head, 10_000);

    busy = true;
    batchesAt.length = 0;
    const sixPaced = () => Array.from({ length: 6 }, () => event('Paced'));
    const first = await store.append('paced', 'any', sixPaced());

    // Three batches of two, each a second after the one before began (its rows are written a little later
    // than it began, hence the margin).
    await projector.waitFor('foreground', first, 10_000);
    expect(batchesAt.length).toBeLessThan(3);
    await projector.waitFor('background', first, 10_000);
    expect(batchesAt).toHaveLength(3);
    expect(batchesAt[1] - batchesAt[0]).toBeGreaterThanOrEqual(800);
    expect(batchesAt[2] - batchesAt[1]).toBeGreaterThanOrEqual(800);

    // No longer busy: the next three go one after the other, well within the two seconds pacing would take.
    const second = await store.append('paced', 'any', sixPaced());
    busy = false;
    await projector.waitFor('background', second, 1_500);
    expect(batchesAt).toHaveLength(6);
    expect(
      (await summaryRows(db.dataSource, 'background')).map((row) => [row.stream_id, row.events]),
    ).toEqual([['paced', 12]]);
  });

  it('compares checkpoints by transaction id first, as 64-bit integers', () => {
    expect(
      compareCheckpoints({ transactionId: '10', position: 1 }, { transactionId: '9', position: 99 }),
    ).toBe(1);
    expect(
      compareCheckpoints(
        { transactionId: '18446744073709551615', position: 1 },
        { transactionId: '18446744073709551614', position: 2 },
      ),
    ).toBe(1);
    expect(compareCheckpoints({ transactionId: '7', position: 3 }, { transactionId: '7', position: 3 })).toBe(
      0,
    );
    expect(compareCheckpoints({ transactionId: '7', position: 2 }, { transactionId: '7', position: 3 })).toBe(
      -1,
    );
  });

  it('names its errors by code', async () => {
    const projector = new Projector(db.dataSource, [summaryProjection({ name: 'coded', table: 'coded' })], {
      schemas: AD_HOC_SCHEMAS,
    });
    const error = await projector
      .waitFor('coded', { transactionId: '1', position: 1 }, 1)
      .catch((e: unknown) => e);
    expect(isProjectorError(error, 'WAIT_TIMEOUT')).toBe(true);
  });
  it('hands projections upcast events, and parks an event that cannot be upcast', async () => {
    const seen: RecordedEvent[] = [];
    const renaming = new AdHocEventSchemas({
      currentVersions: { Renamed: 2 },
      upcasters: [
        {
          type: 'Renamed',
          fromSchemaVersion: 1,
          upcast: (data: { name?: string }) => {
            if (data.name === undefined) throw new Error('no name to rename');
            return { fullName: data.name };
          },
        },
      ],
    });
    const projector = await started(
      new Projector(
        db.dataSource,
        [
          {
            name: 'upcast',
            handles: ['Renamed'],
            tables: [],
            apply: (events) => Promise.resolve(void seen.push(...events)),
          },
        ],
        { schemas: renaming },
      ),
    );
    const renamingStore = new EventStore(db.dataSource, renaming);
    await appendAsWritten(db.dataSource, 'upcast-ok', [
      { type: 'Renamed', data: { name: 'Li Lei' }, schemaVersion: 1 },
    ]);
    const broken = await appendAsWritten(db.dataSource, 'upcast-broken', [
      { type: 'Renamed', data: {}, schemaVersion: 1 },
      { type: 'Renamed', data: { fullName: 'Han Meimei' }, schemaVersion: 2 },
    ]);
    const last = await renamingStore.append('upcast-ok', 'any', [
      { type: 'Renamed', data: { fullName: 'Lily' } },
    ]);

    await projector.waitFor('upcast', last, 10_000);

    expect(seen.map((e) => [e.streamId, e.schemaVersion, e.data])).toEqual([
      ['upcast-ok', 2, { fullName: 'Li Lei' }],
      ['upcast-ok', 2, { fullName: 'Lily' }],
    ]);
    expect(seen[0].metadata.recordedAt).toBe(seen[0].recordedAt.toISOString());
    const parked = await projector.listParked('upcast');
    expect(parked.map((e) => [e.globalPosition, e.error === null])).toEqual([
      [broken.firstPosition, false],
      [broken.lastPosition, true],
    ]);
    expect(parked[0].error).toContain('no name to rename');
  });
});

// PostgreSQL's transaction ids are in the tens of millions on a used server; a fresh embedded database
// starts below a thousand, so crossing from 3 to 4 digits is cheap there.
describeOnEmbedded('Projector across transaction ids of different lengths', () => {
  jest.setTimeout(120_000);

  it('reads in numeric transaction order when the ids grow a digit (999 before 1000)', async () => {
    const db = await createTestDatabase('xid_digits');
    try {
      const store = new EventStore(db.dataSource, AD_HOC_SCHEMAS);
      await createJournalTable(db.dataSource, 'digits');
      const current = async () =>
        Number(
          (await db.dataSource.query<{ xid: string }[]>(`SELECT pg_current_xact_id()::text AS xid`))[0].xid,
        );
      const boundary = 10 ** String(await current()).length;
      expect(boundary - (await current())).toBeLessThan(20_000);
      while ((await current()) < boundary - 4);
      const appended: AppendResult[] = [];
      for (let i = 0; i < 8; i++)
        appended.push(await store.append('digits-1', 'any', [{ type: 'Digit', data: { i } }]));
      expect(Number(appended[0].transactionId)).toBeLessThan(boundary);
      expect(Number(appended[7].transactionId)).toBeGreaterThanOrEqual(boundary);

      const projector = new Projector(
        db.dataSource,
        [journalProjection({ name: 'digits', table: 'digits', handles: ['Digit'] })],
        { schemas: AD_HOC_SCHEMAS, batchSize: 3 },
      );
      await projector.start();
      try {
        await projector.waitFor('digits', appended[7], 10_000);
      } finally {
        await projector.stop();
      }
      const journal = await journalRows(db.dataSource, 'digits');
      expect(journal.map((row) => row.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(journal.map((row) => row.transaction_id)).toEqual(appended.map((a) => a.transactionId));
    } finally {
      await db.close();
    }
  });
});
