import type { LoggerService } from '@nestjs/common';
import { type DataSource, MigrationExecutor } from 'typeorm';
import { advisoryLock, advisoryUnlock, type AdvisoryLockKey } from '../database/advisory-lock';

/** The session-level advisory lock that serializes migration runs across starting instances. */
export const MIGRATION_LOCK: AdvisoryLockKey = { namespace: 'ledger.migrations', name: 'run' };

/**
 * Applies the pending migrations, each in its own transaction, and returns the names applied (none when the
 * schema is current). Instances starting together queue on an advisory lock, so each migration is applied
 * once; the lock and the migrations share one connection, so a runner that dies releases the lock with it.
 */
export async function runMigrations(
  dataSource: DataSource,
  logger?: Pick<LoggerService, 'log'>,
): Promise<string[]> {
  const queryRunner = dataSource.createQueryRunner();
  await queryRunner.connect();
  try {
    // A migration may rewrite a large table, and the lock below waits for another instance's migrations:
    // neither is bounded by the ledger's statement and lock timeouts (docs/operations.md, "Liveness under
    // faults"). RESET gives the pooled session its startup settings back.
    await queryRunner.query('SET statement_timeout = 0; SET lock_timeout = 0');
    await advisoryLock(queryRunner, MIGRATION_LOCK);
    try {
      const executor = new MigrationExecutor(dataSource, queryRunner);
      executor.transaction = 'each';
      const applied = (await executor.executePendingMigrations()).map((migration) => migration.name);
      for (const name of applied) logger?.log(`applied migration ${name}`, 'Migrations');
      return applied;
    } finally {
      await advisoryUnlock(queryRunner, MIGRATION_LOCK);
    }
  } finally {
    await queryRunner.query('RESET statement_timeout; RESET lock_timeout').catch(() => undefined);
    await queryRunner.release();
  }
}

/** Names of the migrations not yet applied, in the order they would be. */
export async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const pending = await new MigrationExecutor(dataSource).getPendingMigrations();
  return pending.map((migration) => migration.name);
}
