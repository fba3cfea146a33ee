import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { LogImporter, type LogImportReport } from '@ledger/legacy-import';
import { IMPORT_EXIT, type ImportExit } from './import-exit';
import { IMPORT_LANES, openImportContext } from './import-context';

export const IMPORT_LOG_USAGE = `  import-log [--dry-run] [--json] <files…>
                   import the notifications a PHP integration logged with logResult (log.txt),
                   verified with ALIPAY_KEY, on the inbox's import channel; run again, it adds nothing
`;

/** `import-log`: the options, or a usage error. */
export function parseImportLogOptions(
  args: string[],
): { ok: true; files: string[]; dryRun: boolean; json: boolean } | { ok: false; message: string } {
  try {
    const { values, positionals } = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
    });
    if (positionals.length === 0) return { ok: false, message: 'import-log needs at least one log file' };
    return { ok: true, files: positionals, dryRun: values['dry-run'] === true, json: values.json === true };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

export async function importLog(args: string[]): Promise<ImportExit> {
  const options = parseImportLogOptions(args);
  if (!options.ok) {
    process.stderr.write(`${options.message}\n${IMPORT_LOG_USAGE}`);
    return IMPORT_EXIT.usage;
  }
  const files: { path: string; bytes: Buffer }[] = [];
  for (const path of options.files) {
    try {
      files.push({ path, bytes: await readFile(path) });
    } catch (error) {
      process.stderr.write(`${path}: ${error instanceof Error ? error.message : String(error)}\n`);
      return IMPORT_EXIT.noInput;
    }
  }
  const context = await openImportContext();
  if (context === undefined) return IMPORT_EXIT.failure;
  try {
    const report = await context.app
      .get(LogImporter)
      .importFiles(files, { dryRun: options.dryRun, concurrency: IMPORT_LANES });
    process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : describeLogImport(report));
    return logImportExit(report);
  } finally {
    await context.close();
  }
}

/** 0 when every logged notification was (or would be) recorded or was known; 2 when some need a person. */
export function logImportExit(report: LogImportReport): ImportExit {
  const { totals } = report;
  return totals.rejected + totals.would_reject + totals.malformed + totals.failed > 0
    ? IMPORT_EXIT.attention
    : IMPORT_EXIT.ok;
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
