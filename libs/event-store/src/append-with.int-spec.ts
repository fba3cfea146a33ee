import { createTestDatabase, type TestDatabase } from '@ledger/testing';
import { AD_HOC_SCHEMAS } from './event-schemas.fixture';
import { EventStore } from './event-store';
import type { CommitWith } from './append-statement';

jest.setTimeout(120_000);

describe('EventStore.appendWith: writes that commit with an append', () => {
  let db: TestDatabase;
  let store: EventStore;
  const noted = { type: 'Noted', data: {} };
  // A write of the caller's: a row that says where the append landed, unique per stream.
  const receipt =
    (streamId: string): CommitWith =>
    (bind) => [
      [
        'receipt',
        `INSERT INTO append_receipts (stream_id, first_position)
         SELECT ${bind(streamId)}::text, first_position FROM appended RETURNING stream_id`,
      ],
    ];
  const receipts = async () =>
    db.dataSource.query<{ stream_id: string; first_position: string }[]>(
      `SELECT stream_id, first_position FROM append_receipts ORDER BY stream_id`,
    );
  const streamVersion = (streamId: string) => store.streamVersion(streamId);

  beforeAll(async () => {
    db = await createTestDatabase('append_with');
    store = new EventStore(db.dataSource, AD_HOC_SCHEMAS);
    await db.dataSource.query(
      `CREATE TABLE append_receipts (stream_id text PRIMARY KEY, first_position bigint)`,
    );
  });
  afterAll(async () => {
    await db.close();
  });

  it('commits the events and the writes together, the writes seeing where the events landed', async () => {
    const appended = await store.appendWith('with-1', 'no_stream', [noted, noted], receipt('with-1'));
    expect(appended).toMatchObject({ streamId: 'with-1', nextExpectedVersion: 2 });
    expect(await receipts()).toEqual([
      { stream_id: 'with-1', first_position: String(appended.firstPosition) },
    ]);
  });

  it('writes nothing when the claim is refused, and says so as a retryable conflict', async () => {
    await expect(store.appendWith('with-1', 1, [noted], receipt('with-1-again'))).rejects.toMatchObject({
      code: 'WRONG_EXPECTED_VERSION',
      retryable: true,
    });
    expect(await streamVersion('with-1')).toBe(2);
    expect((await receipts()).map((row) => row.stream_id)).toEqual(['with-1']);
  });

  it('undoes the append when a write fails, and rethrows the write’s own error', async () => {
    await expect(store.appendWith('with-2', 'no_stream', [noted], receipt('with-1'))).rejects.toMatchObject({
      code: '23505',
      constraint: 'append_receipts_pkey',
    });
    expect(await streamVersion('with-2')).toBe(0);
    expect((await receipts()).map((row) => row.stream_id)).toEqual(['with-1']);
  });

  it('refuses a write that reads neither the append nor an earlier write, before touching the database', async () => {
    const unordered: CommitWith = (bind) => [
      ['receipt', `INSERT INTO append_receipts (stream_id) VALUES (${bind('with-3')}::text) RETURNING 1`],
    ];
    await expect(store.appendWith('with-3', 'no_stream', [noted], unordered)).rejects.toMatchObject({
      code: 'INVALID_APPEND',
    });
    await expect(
      store.appendWith('with-3', 'no_stream', [noted], (bind) => [
        ...receipt('with-3')(bind),
        ['claim', 'x'],
      ]),
    ).rejects.toMatchObject({ code: 'INVALID_APPEND' });
    expect(await streamVersion('with-3')).toBe(0);
    expect((await receipts()).map((row) => row.stream_id)).toEqual(['with-1']);
  });

  describe('group commit: appends asked together', () => {
    it('commits those of distinct streams in one transaction, each with its own writes and result', async () => {
      const streams = ['group-1', 'group-2', 'group-3', 'group-4'];
      const appended = await Promise.all(
        streams.map((streamId) => store.appendWith(streamId, 'no_stream', [noted], receipt(streamId))),
      );
      expect(appended.map((result) => result.streamId)).toEqual(streams);
      expect(new Set(appended.map((result) => result.transactionId)).size).toBe(1);
      expect(new Set(appended.map((result) => result.firstPosition)).size).toBe(4);
      const written = new Map((await receipts()).map((row) => [row.stream_id, row.first_position]));
      for (const result of appended) expect(written.get(result.streamId)).toBe(String(result.firstPosition));
    });

    it("refuses a refused claim's item alone", async () => {
      const [first, refused, last] = await Promise.allSettled([
        store.appendWith('group-5', 'no_stream', [noted], receipt('group-5')),
        store.appendWith('group-1', 0, [noted], receipt('group-1-again')),
        store.appendWith('group-6', 'no_stream', [noted], receipt('group-6')),
      ]);
      expect(refused).toMatchObject({ status: 'rejected', reason: { code: 'WRONG_EXPECTED_VERSION' } });
      expect(first.status === 'fulfilled' && last.status === 'fulfilled').toBe(true);
      if (first.status === 'fulfilled' && last.status === 'fulfilled')
        expect(first.value.transactionId).toBe(last.value.transactionId);
      expect(await streamVersion('group-1')).toBe(1);
      expect((await receipts()).map((row) => row.stream_id)).not.toContain('group-1-again');
    });

    it('gives a write that raises its own error and commits the others without it', async () => {
      const [clashing, other] = await Promise.allSettled([
        store.appendWith('group-7', 'no_stream', [noted], receipt('with-1')),
        store.appendWith('group-8', 'no_stream', [noted], receipt('group-8')),
      ]);
      expect(clashing).toMatchObject({
        status: 'rejected',
        reason: { code: '23505', constraint: 'append_receipts_pkey' },
      });
      expect(other).toMatchObject({ status: 'fulfilled', value: { streamId: 'group-8' } });
      expect(await streamVersion('group-7')).toBe(0);
      expect(await streamVersion('group-8')).toBe(1);
    });

    it('commits a second append of the same stream after the first, as if asked one after the other', async () => {
      const [created, followed, raced] = await Promise.allSettled([
        store.appendWith('group-9', 'no_stream', [noted], receipt('group-9')),
        store.appendWith('group-9', 1, [noted], receipt('group-9-second')),
        store.appendWith('group-9', 'no_stream', [noted], receipt('group-9-raced')),
      ]);
      expect(created).toMatchObject({ status: 'fulfilled', value: { nextExpectedVersion: 1 } });
      expect(followed).toMatchObject({ status: 'fulfilled', value: { nextExpectedVersion: 2 } });
      expect(raced).toMatchObject({ status: 'rejected', reason: { code: 'WRONG_EXPECTED_VERSION' } });
      expect(await streamVersion('group-9')).toBe(2);
      const events = await store.readStream('group-9');
      expect(events.map((event) => event.version)).toEqual([1, 2]);
    });
  });
});
