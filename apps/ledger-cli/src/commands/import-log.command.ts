import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { LegacyImportModule, LogImporter, type LogImportReport } from '@ledger/legacy-import';
import { withLedgerContext } from '../cli-context';
import { CliError, EXIT, type ExitCode } from '../cli-exit';
import type { CliRunner } from '../cli-run';

/** Notifications of different orders imported side by side (`LogImporter.importFiles`). */
export const IMPORT_LANES = 4;

/** Reads every input file before anything is opened: one it cannot read is `NO_INPUT` (exit 66). */
export async function readInputs(paths: readonly string[]): Promise<{ path: string; bytes: Buffer }[]> {
  const files: { path: string; bytes: Buffer }[] = [];
  for (const path of paths) {
    try {
      files.push({ path, bytes: await readFile(path) });
    } catch (error) {
      throw new CliError('NO_INPUT', `${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return files;
}

/** `import-log`: the notifications a PHP integration logged, through the notification pipeline. */
export function importLogCommand(run: CliRunner): Command {
  return new Command('import-log')
    .summary('import the notifications a PHP integration logged with logResult (log.txt)')
    .description(
      'Imports the notifications a PHP integration logged with logResult, verified with ALIPAY_KEY, on the ' +
        'inbox’s import channel (docs/operations.md, "Importing a PHP integration’s history"); run again, it ' +
        'adds nothing. Exit code 2 when some notifications need a person (rejected, malformed, failed).',
    )
    .argument('<files...>', 'the log files, oldest first')
    .option('--dry-run', 'report what would be recorded, write nothing')
    .action((paths: string[], options: { dryRun?: boolean }, command: Command) =>
      run(command, async (output, globals) => {
        const files = await readInputs(paths);
        return withLedgerContext(
          // One connection per lane, and one to spare.
          { verbose: globals.verbose === true, imports: [LegacyImportModule], poolSize: IMPORT_LANES + 1 },
          async (app) => {
            const report = await app
              .get(LogImporter)
              .importFiles(files, { dryRun: options.dryRun === true, concurrency: IMPORT_LANES });
            output.result(report, describeLogImport);
            return logImportExit(report);
          },
        );
      }),
    );
}

/** 0 when every logged notification was (or would be) recorded or was known; 2 when some need a person. */
export function logImportExit(report: LogImportReport): ExitCode {
  const { totals } = report;
  return totals.rejected + totals.would_reject + totals.malformed + totals.failed > 0
    ? EXIT.attention
    : EXIT.ok;
}

export function describeLogImport(report: LogImportReport): string {
  const lines: string[] = [];
  lines.push(report.dryRun ? 'import-log (dry run: nothing written)' : 'import-log');
  for (const file of report.files) {
    lines.push(
      `  ${file.path}: ${file.charset}, ${file.entries} entries` +
        (file.leadingLines > 0 ? `, ${file.leadingLines} lines before the first date line ignored` : ''),
    );
  }
  lines.push('', 'orders:');
  for (const order of report.orders) {
    const status = order.lastTradeStatus === undefined ? '' : ` last ${order.lastTradeStatus}`;
    const refund = order.lastRefundStatus === undefined ? '' : `/${order.lastRefundStatus}`;
    const fees = order.totalFees.length > 1 ? `, total_fee differs: ${order.totalFees.join(', ')} fen` : '';
    const events = order.events.length > 0 ? `, events ${order.events.join(' ')}` : '';
    lines.push(
      `  ${order.outTradeNo}: ${order.verified} verified, ${order.rejected} rejected${status}${refund}${fees}${events}`,
    );
  }
  const attention = report.notifications.filter((n) =>
    ['rejected', 'would_reject', 'malformed', 'failed'].includes(n.result),
  );
  if (attention.length > 0) {
    lines.push('', 'to look at:');
    for (const n of attention) {
      const id = n.inboxId === undefined ? '' : ` (inbox ${n.inboxId})`;
      lines.push(`  ${n.file}:${n.line} ${n.result}${id} ${n.outTradeNo ?? ''}: ${n.message ?? ''}`);
    }
  }
  const t = report.totals;
  lines.push(
    '',
    `totals: ${t.entries} entries; ${report.dryRun ? `${t.would_apply} to record, ${t.would_reject} to reject` : `${t.applied} applied, ${t.no_new_fact} with nothing new, ${t.rejected} rejected`}, ` +
      `${t.duplicate} duplicates, ${t.already_imported} imported before, ${t.skipped} not notifications, ` +
      `${t.malformed} malformed, ${t.failed} failed; ${t.events} events`,
  );
  return `${lines.join('\n')}\n`;
}
