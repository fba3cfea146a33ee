import { createTestDatabase, describeOnPostgres, TEST_MIGRATIONS, type TestDatabase } from '@ledger/testing';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { advisoryUnlock, openDatabase, tryAdvisoryLock } from '../database';
import { pendingMigrations, runMigrations } from '.';
import { MIGRATION_LOCK } from './run-migrations';

jest.setTimeout(180_000);

const ALL = TEST_MIGRATIONS.map((migration) => new migration().name);

describe('migrations', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('migrations', { migrated: false });
  });

  afterAll(async () => {
    await database?.close();
  });

  it('applies every migration once, in order; a second run applies none', async () => {
    expect(await pendingMigrations(database.dataSource, TEST_MIGRATIONS)).toEqual(ALL);
    expect(await runMigrations(database.dataSource, TEST_MIGRATIONS)).toEqual(ALL);
    expect(await runMigrations(database.dataSource, TEST_MIGRATIONS)).toEqual([]);
    expect(await pendingMigrations(database.dataSource, TEST_MIGRATIONS)).toEqual([]);
    const recorded: Array<{ name: string }> = await database.dataSource.query(
      'SELECT name FROM migrations ORDER BY id',
    );
    expect(recorded.map((row) => row.name)).toEqual(ALL);
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
        runMigrations(database.dataSource, TEST_MIGRATIONS),
        runMigrations(second.dataSource, TEST_MIGRATIONS),
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
    // The failure reaches the ledger's logger, not the console.
    const warnings: unknown[] = [];
    const logged = await openDatabase({
      databaseUrl: database.url,
      dataDir: '',
      logger: { log: () => undefined, warn: (message: unknown) => warnings.push(message) },
    });
    try {
      await expect(
        runMigrations(logged.dataSource, [...TEST_MIGRATIONS, Failing1999999999999]),
      ).rejects.toThrow('division by zero');
    } finally {
      await logged.close();
    }
    expect(warnings).toEqual(['Migration "Failing1999999999999" failed, error: division by zero']);
    expect(await pendingMigrations(database.dataSource, TEST_MIGRATIONS)).toEqual([]);
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
