import { userInfo } from 'node:os';
import { Command } from 'commander';
import { InboxPurge, type PurgeReport } from '@ledger/inbox';
import type { LedgerLogger } from '@ledger/platform';
import type { DataSource } from 'typeorm';
import { refusePendingMigrations, withDatabase } from '../cli-context';
import { EXIT, usage } from '../cli-exit';
import type { CliRunner } from '../cli-run';

interface PurgeCommandOptions {
  olderThanDays?: string;
  dryRun?: boolean;
  operator?: string;
}

/** What `purge-unverified` was asked for, checked. */
export interface PurgeOptions {
  olderThanDays?: number;
  dryRun: boolean;
  operator?: string;
}

// A name for the audit table and the log: printable, no spaces at the ends, short.
const OPERATOR = /^[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?$/;

/** The purge's options from the command line's, or a usage error naming the option. */
export function purgeOptions(options: PurgeCommandOptions): PurgeOptions {
  const days = options.olderThanDays;
  if (days !== undefined && !/^[1-9]\d{0,4}$/.test(days)) {
    throw usage('--older-than-days must be a whole number of days from 1 to 99999');
  }
  if (options.operator !== undefined && !OPERATOR.test(options.operator)) {
    throw usage('--operator must be 1 to 64 printable ASCII characters');
  }
  return {
    ...(days === undefined ? {} : { olderThanDays: Number(days) }),
    dryRun: options.dryRun === true,
    ...(options.operator === undefined ? {} : { operator: options.operator }),
  };
}

/** `purge-unverified`: unverified, finished notifications older than the retention, deleted with an audit row. */
export function purgeUnverifiedCommand(run: CliRunner): Command {
  return new Command('purge-unverified')
    .summary('delete unverified, finished notifications older than INBOX_RETENTION_DAYS')
    .description(
      'Deletes notifications that never verified, are finished and are older than N days (default ' +
        'INBOX_RETENTION_DAYS), with an audit row per batch (docs/operations.md, "Bounded storage"); ' +
        'verified notifications and events are never deleted. Reads only the database settings.',
    )
    .option('--older-than-days <days>', 'the age in days past which they go (default INBOX_RETENTION_DAYS)')
    .option('--dry-run', 'count what would be deleted, delete nothing')
    .option('--operator <name>', 'who runs it, for the audit row (default the operating-system user)')
    .action((options: PurgeCommandOptions, command: Command) =>
      run(command, (output, globals) => {
        const purge = purgeOptions(options);
        return withDatabase({ verbose: globals.verbose === true }, async (database, config, logger) => {
          // Before migration 1732000000009 the inbox refuses every DELETE.
          await refusePendingMigrations(database);
          const report = await purgeUnverified(database.dataSource, logger, {
            olderThanDays: purge.olderThanDays ?? config.inbox.unverifiedRetentionDays,
            dryRun: purge.dryRun,
            operator: purge.operator ?? osOperator(),
          });
          output.result(report, (r) => `${describePurge(r)}\n`);
          return EXIT.ok;
        });
      }),
    );
}

/** The operating-system user running the command, for the audit row when no `--operator` was given. */
export function osOperator(): string {
  try {
    return `os:${userInfo().username}`;
  } catch {
    // A container user without a passwd entry has no name.
    return `os:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

export function describePurge(report: PurgeReport): string {
  const verb = report.dryRun ? 'would purge' : 'purged';
  const range = report.firstId === null ? '' : `, ids ${report.firstId} to ${report.lastId}`;
  const run = report.runId === undefined ? '' : ` in ${report.batches} batch(es), audit run ${report.runId}`;
  return (
    `${verb} ${report.rows} unverified notification(s), ${report.bytes} bytes${range}, ` +
    `received before ${report.receivedBefore.toISOString()} (${report.olderThanDays} days)${run}`
  );
}

/** Runs the purge and logs what it deleted. */
export async function purgeUnverified(
  dataSource: DataSource,
  logger: LedgerLogger,
  options: { olderThanDays: number; dryRun: boolean; operator: string },
): Promise<PurgeReport> {
  logger.log(
    `purge-unverified by ${options.operator}: older than ${options.olderThanDays} days${options.dryRun ? ' (dry run)' : ''}`,
    'InboxPurge',
  );
  const report = await new InboxPurge(dataSource).purge(options);
  logger.log(`${describePurge(report)} (operator ${options.operator})`, 'InboxPurge');
  return report;
}
