import { createTestDatabase, type TestDatabase } from '@ledger/testing';
import { AD_HOC_SCHEMAS } from './event-schemas.fixture';
import { EventStore } from './event-store';
import { checkStreamVersions } from './stream-versions';

jest.setTimeout(60_000);

describe('checkStreamVersions', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('stream_versions');
    const store = new EventStore(db.dataSource, AD_HOC_SCHEMAS);
    for (const streamId of ['a-1', 'a-2', 'a-3']) {
      await store.append(streamId, 'no_stream', [
        { type: 'a', data: {} },
        { type: 'a', data: {} },
        { type: 'a', data: {} },
      ]);
    }
  });
  afterAll(async () => {
    await db.close();
  });

  it('finds every stream numbered 1 to its version, and reports progress', async () => {
    const progress: [number, number][] = [];
    const check = await checkStreamVersions(db.dataSource, { onProgress: (...p) => progress.push(p) });
    expect(check).toEqual({ streams: 3, events: 9, problems: [], problemCount: 0 });
    expect(progress).toEqual([[3, 3]]);
  });

  it('names a stream with a gap, one that does not start at 1, and one whose recorded version is wrong', async () => {
    // Events are immutable (a trigger refuses it): what only a hand on the database can do.
    await db.dataSource.transaction(async (session) => {
      await session.query(`ALTER TABLE events DISABLE TRIGGER events_refuse_update_delete`);
      await session.query(`UPDATE events SET version = 7 WHERE stream_id = 'a-1' AND version = 2`);
      await session.query(`DELETE FROM events WHERE stream_id = 'a-2' AND version = 1`);
      await session.query(`ALTER TABLE events ENABLE TRIGGER events_refuse_update_delete`);
    });
    await db.dataSource.query(`UPDATE streams SET version = 4 WHERE stream_id = 'a-3'`);

    const check = await checkStreamVersions(db.dataSource);

    expect(check.problemCount).toBe(3);
    expect(check.problems).toEqual([
      { streamId: 'a-1', recordedVersion: 3, events: 3, firstVersion: 1, lastVersion: 7 },
      { streamId: 'a-2', recordedVersion: 3, events: 2, firstVersion: 2, lastVersion: 3 },
      { streamId: 'a-3', recordedVersion: 4, events: 3, firstVersion: 1, lastVersion: 3 },
    ]);
  });
});
