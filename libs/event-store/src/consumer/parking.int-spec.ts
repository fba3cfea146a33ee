import { createTestDatabase, type TestDatabase } from '@ledger/testing';
import { EventStore } from '../event-store';
import { createSummaryTable, summaryProjection, summaryRows } from './projection.fixture';
import { Projector } from './projector';
import { AD_HOC_SCHEMAS } from '../event-schemas.fixture';

jest.setTimeout(60_000);

describe('Projector parking', () => {
  let db: TestDatabase;
  let store: EventStore;
  let projector: Projector | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('parking');
    store = new EventStore(db.dataSource, AD_HOC_SCHEMAS);
  });
  afterEach(async () => {
    await projector?.stop();
    projector = undefined;
  });
  afterAll(async () => {
    await db.close();
  });

  /** A projection that cannot apply events whose data says `poison`, until `fixed`. */
  const poisonable = (name: string, type: string) => {
    const state = { fixed: false, failures: 0 };
    const projection = summaryProjection({
      name,
      table: name,
      handles: [type],
      failOn: (event) => {
        const poisoned = !state.fixed && (event.data as { poison?: boolean }).poison === true;
        if (poisoned) state.failures++;
        return poisoned;
      },
    });
    return { projection, state };
  };

  it('parks the stream of a poison event only; other streams and the checkpoint move on', async () => {
    await createSummaryTable(db.dataSource, 'poison');
    const { projection } = poisonable('poison', 'P');
    const ok = { type: 'P', data: {} };
    await store.append('poison-a', 'any', [ok]);
    await store.append('poison-b', 'any', [ok]);
    const poisoned = await store.append('poison-a', 'any', [{ type: 'P', data: { poison: true } }, ok]);
    await store.append('poison-b', 'any', [ok]);
    const behind = await store.append('poison-a', 'any', [ok]);
    const last = await store.append('poison-b', 'any', [ok]);
    projector = new Projector(db.dataSource, [projection], { schemas: AD_HOC_SCHEMAS });
    await projector.start();

    await projector.waitFor('poison', last, 10_000);

    const rows = await summaryRows(db.dataSource, 'poison');
    expect(rows.map((row) => [row.stream_id, row.events, row.out_of_order])).toEqual([
      ['poison-a', 1, 0],
      ['poison-b', 3, 0],
    ]);
    const parked = await projector.listParked('poison');
    expect(parked.map((event) => [event.streamId, event.version, event.attempts])).toEqual([
      ['poison-a', 2, 1],
      ['poison-a', 3, 0],
      ['poison-a', 4, 0],
    ]);
    expect(parked[0].error).toContain(`cannot apply P at ${poisoned.firstPosition}`);
    expect(parked[1].error).toBeNull();
    expect(parked[2].globalPosition).toBe(behind.lastPosition);
    expect((await projector.lag('poison')).events).toBe(0);
    const summary = await projector.parkedSummary('poison', 2);
    expect(summary).toMatchObject({ projection: 'poison', events: 3, streams: 1 });
    expect(summary.first).toEqual(parked.slice(0, 2));
  });

  it('sums up a projection without parked events as none', async () => {
    await createSummaryTable(db.dataSource, 'clean');
    const { projection } = poisonable('clean', 'C');
    projector = new Projector(db.dataSource, [projection], { schemas: AD_HOC_SCHEMAS });
    await projector.start();
    await projector.waitFor('clean', await store.append('clean-a', 'any', [{ type: 'C', data: {} }]), 10_000);

    expect(await projector.parkedSummary('clean', 10)).toEqual({
      projection: 'clean',
      events: 0,
      streams: 0,
      first: [],
    });
    expect(() => projector!.parkedSummary('nope', 10)).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_PROJECTION' }),
    );
  });

  it('parks later events of a parked stream as they come, and waitFor names them', async () => {
    await createSummaryTable(db.dataSource, 'later');
    const { projection } = poisonable('later', 'L');
    projector = new Projector(db.dataSource, [projection], { schemas: AD_HOC_SCHEMAS });
    await projector.start();
    const poisoned = await store.append('later-a', 'any', [{ type: 'L', data: { poison: true } }]);
    await expect(projector.waitFor('later', poisoned, 10_000)).rejects.toMatchObject({
      code: 'EVENT_PARKED',
    });

    const next = await store.append('later-a', 'any', [{ type: 'L', data: {} }]);
    const error = await projector.waitFor('later', next, 10_000).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'EVENT_PARKED', details: { parkedPositions: [next.lastPosition] } });
    const other = await store.append('later-b', 'any', [{ type: 'L', data: {} }]);
    await projector.waitFor('later', other, 10_000);
    expect((await summaryRows(db.dataSource, 'later')).map((row) => row.stream_id)).toEqual(['later-b']);
  });

  it('retries a parked stream after the fix, in version order, and the stream flows again', async () => {
    await createSummaryTable(db.dataSource, 'retry');
    const { projection, state } = poisonable('retry', 'R');
    const ok = { type: 'R', data: {} };
    await store.append('retry-a', 'any', [ok, { type: 'R', data: { poison: true } }, ok, ok]);
    const last = await store.append('retry-b', 'any', [ok]);
    projector = new Projector(db.dataSource, [projection], { schemas: AD_HOC_SCHEMAS });
    await projector.start();
    await projector.waitFor('retry', last, 10_000);

    const stillBroken = await projector.retryParked('retry');
    expect(stillBroken).toEqual([
      { streamId: 'retry-a', unparked: 0, stillParked: 3, error: expect.stringContaining('cannot apply R') },
    ]);
    const [failing] = await projector.listParked('retry', { streamId: 'retry-a' });
    expect(failing.attempts).toBe(2);
    expect(failing.lastFailedAt).toBeInstanceOf(Date);

    state.fixed = true;
    expect(await projector.retryParked('retry', { streamId: 'retry-a' })).toEqual([
      { streamId: 'retry-a', unparked: 3, stillParked: 0 },
    ]);
    expect(await projector.listParked('retry')).toEqual([]);
    const after = await store.append('retry-a', 'any', [ok]);
    await projector.waitFor('retry', after, 10_000);
    const rows = await summaryRows(db.dataSource, 'retry');
    expect(rows.map((row) => [row.stream_id, row.events, row.last_version, row.out_of_order])).toEqual([
      ['retry-a', 5, 5, 0],
      ['retry-b', 1, 1, 0],
    ]);
  });

  it('a retry that fails half-way un-parks what applied and keeps the rest parked', async () => {
    await createSummaryTable(db.dataSource, 'halfway');
    let poisonVersion = 2;
    const projection = summaryProjection({
      name: 'halfway',
      table: 'halfway',
      handles: ['H'],
      failOn: (event) => event.streamId === 'halfway-a' && event.version === poisonVersion,
    });
    const h = { type: 'H', data: {} };
    const last = await store.append('halfway-a', 'any', [h, h, h, h, h]);
    projector = new Projector(db.dataSource, [projection], { schemas: AD_HOC_SCHEMAS });
    await projector.start();
    await expect(projector.waitFor('halfway', last, 10_000)).rejects.toMatchObject({ code: 'EVENT_PARKED' });
    expect(await projector.listParked('halfway')).toHaveLength(4);

    poisonVersion = 4;
    expect(await projector.retryParked('halfway')).toEqual([
      {
        streamId: 'halfway-a',
        unparked: 2,
        stillParked: 2,
        error: expect.stringContaining('cannot apply H'),
      },
    ]);
    const parked = await projector.listParked('halfway');
    expect(parked.map((event) => [event.version, event.attempts, event.error === null])).toEqual([
      [4, 1, false],
      [5, 0, true],
    ]);
    const [row] = await summaryRows(db.dataSource, 'halfway');
    expect([row.events, row.last_version, row.out_of_order]).toEqual([3, 3, 0]);
  });

  it('a failing batch is applied event by event: the good events of the batch are not lost', async () => {
    await createSummaryTable(db.dataSource, 'batch');
    const { projection, state } = poisonable('batch', 'B');
    const b = { type: 'B', data: {} };
    // All in one batch: the batch fails as a whole, then each event gets its own chance.
    await store.append('batch-a', 'any', [b, b]);
    await store.append('batch-b', 'any', [b, { type: 'B', data: { poison: true } }]);
    const last = await store.append('batch-c', 'any', [b, b, b]);
    projector = new Projector(db.dataSource, [projection], { schemas: AD_HOC_SCHEMAS, batchSize: 100 });
    await projector.start();
    await projector.waitFor('batch', last, 10_000);

    expect(state.failures).toBe(2);
    const rows = await summaryRows(db.dataSource, 'batch');
    expect(rows.map((row) => [row.stream_id, row.events])).toEqual([
      ['batch-a', 2],
      ['batch-b', 1],
      ['batch-c', 3],
    ]);
  });
});
