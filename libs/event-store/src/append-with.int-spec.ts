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
});
