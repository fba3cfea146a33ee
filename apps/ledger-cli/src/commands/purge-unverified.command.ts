import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { InboxPurge, type PurgeReport } from '@ledger/inbox';
import type { LedgerLogger } from '@ledger/platform';
import type { DataSource } from 'typeorm';

export const PURGE_USAGE = `  purge-unverified [--older-than-days N] [--dry-run] [--operator NAME]
                   delete unverified, finished notifications received more than N days ago
                   (default INBOX_RETENTION_DAYS); verified ones and events are never deleted
`;

/** The options of `purge-unverified`, or the reason they are not usable (a usage error). */
export type PurgeOptions =
  { ok: true; olderThanDays?: number; dryRun: boolean; operator?: string } | { ok: false; message: string };

// A name for the audit table and the log: printable, no spaces at the ends, short.
const OPERATOR = /^[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?$/;

export function parsePurgeOptions(args: string[]): PurgeOptions {
  let values: { 'older-than-days'?: string; 'dry-run'?: boolean; operator?: string };
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        'older-than-days': { type: 'string' },
        'dry-run': { type: 'boolean' },
        operator: { type: 'string' },
      },
    }));
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  const days = values['older-than-days'];
  if (days !== undefined && !/^[1-9]\d{0,4}$/.test(days)) {
    return { ok: false, message: '--older-than-days must be a whole number of days from 1 to 99999' };
  }
  if (values.operator !== undefined && !OPERATOR.test(values.operator)) {
    return { ok: false, message: '--operator must be 1 to 64 printable ASCII characters' };
  }
  return {
    ok: true,
    ...(days === undefined ? {} : { olderThanDays: Number(days) }),
    dryRun: values['dry-run'] === true,
    ...(values.operator === undefined ? {} : { operator: values.operator }),
  };
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

/** Runs the purge and prints (and logs) what it deleted. */
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
  const line = describePurge(report);
  logger.log(`${line} (operator ${options.operator})`, 'InboxPurge');
  process.stdout.write(`${line}\n`);
  return report;
}
