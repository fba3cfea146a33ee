import { createTestDatabase, type TestDatabase } from '@ledger/testing';

jest.setTimeout(180_000);

describe("the event store's schema", () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('event_store_schema');
  });

  afterAll(async () => {
    await database?.close();
  });

  it('makes the database refuse UPDATE, DELETE and TRUNCATE on events', async () => {
    await database.dataSource.query(
      `INSERT INTO streams (stream_id, version, last_transaction_id) VALUES ('probe-1', 1, pg_current_xact_id())`,
    );
    await database.dataSource.query(
      `INSERT INTO events (stream_id, version, type, schema_version, data, metadata)
       VALUES ('probe-1', 1, 'Probed', 1, '{}', '{}')`,
    );
    for (const statement of [
      `UPDATE events SET type = 'Rewritten' WHERE stream_id = 'probe-1'`,
      `DELETE FROM events WHERE stream_id = 'probe-1'`,
      'TRUNCATE events',
      'TRUNCATE events CASCADE',
    ]) {
      await expect(database.dataSource.query(statement)).rejects.toThrow('events are immutable');
    }
    const events: Array<{ type: string }> = await database.dataSource.query(
      `SELECT type FROM events WHERE stream_id = 'probe-1'`,
    );
    expect(events).toEqual([{ type: 'Probed' }]);
  });
});
