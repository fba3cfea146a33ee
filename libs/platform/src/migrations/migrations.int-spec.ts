import { createTestDatabase, describeOnPostgres, type TestDatabase } from '@ledger/testing';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { advisoryUnlock, openDatabase, tryAdvisoryLock } from '../database';
import { LEDGER_MIGRATIONS, pendingMigrations, runMigrations } from '.';
import { MIGRATION_LOCK } from './run-migrations';

jest.setTimeout(180_000);

const ALL = LEDGER_MIGRATIONS.map((migration) => new migration().name);

describe('migrations', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('migrations', { migrated: false });
  });

  afterAll(async () => {
    await database?.close();
  });

  it('applies every migration once, in order; a second run applies none', async () => {
    expect(await pendingMigrations(database.dataSource)).toEqual(ALL);
    expect(await runMigrations(database.dataSource)).toEqual(ALL);
    expect(await runMigrations(database.dataSource)).toEqual([]);
    expect(await pendingMigrations(database.dataSource)).toEqual([]);
    const recorded: Array<{ name: string }> = await database.dataSource.query(
      'SELECT name FROM migrations ORDER BY id',
    );
    expect(recorded.map((row) => row.name)).toEqual(ALL);
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

describeOnPostgres('migrations on a shared server', () => {
  let database: TestDatabase;

  beforeEach(async () => {
    database = await createTestDatabase('migrations_pg', { migrated: false });
  });

  afterEach(async () => {
    await database?.close();
  });

  it('apply each migration once when two instances start together', async () => {
    const second = await openDatabase({ databaseUrl: database.url, dataDir: '' });
    try {
      const [first, other] = await Promise.all([
        runMigrations(database.dataSource),
        runMigrations(second.dataSource),
      ]);
      expect([first, other]).toContainEqual(ALL);
      expect([first, other]).toContainEqual([]);
      const [{ n }] = await database.dataSource.query('SELECT count(*)::int AS n FROM migrations');
      expect(n).toBe(ALL.length);
    } finally {
      await second.close();
    }
  });

  it('leave the migrations before a failing one applied, the failing one undone, and the lock free', async () => {
    class Failing1999999999999 implements MigrationInterface {
      name = 'Failing1999999999999';
      async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query('CREATE TABLE half_done (id integer)');
        await queryRunner.query('SELECT 1 / 0');
      }
      async down(): Promise<void> {}
    }
    const failing = new DataSource({
      type: 'postgres',
      url: database.url,
      migrations: [...LEDGER_MIGRATIONS, Failing1999999999999],
      logging: false,
    });
    await failing.initialize();
    try {
      await expect(runMigrations(failing)).rejects.toThrow('division by zero');
    } finally {
      await failing.destroy();
    }
    expect(await pendingMigrations(database.dataSource)).toEqual([]);
    const [{ exists }] = await database.dataSource.query(
      `SELECT to_regclass('half_done') IS NOT NULL AS exists`,
    );
    expect(exists).toBe(false);
    // The failed run let its lock go: another session takes it at once.
    const session = database.dataSource.createQueryRunner();
    try {
      expect(await tryAdvisoryLock(session, MIGRATION_LOCK)).toBe(true);
      expect(await advisoryUnlock(session, MIGRATION_LOCK)).toBe(true);
    } finally {
      await session.release();
    }
  });
});
