import { once } from 'node:events';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { Command } from 'commander';
import {
  AccountingExports,
  EXPORT_FORMATS,
  EXPORT_KINDS,
  parseExportRequest,
  ProjectionsModule,
  ProjectionsService,
  type ExportRequest,
} from '@ledger/projections';
import { withLedgerContext } from '../cli-context';
import { CliError, EXIT, usage } from '../cli-exit';
import type { CliOutput } from '../cli-output';
import type { CliRunner } from '../cli-run';

interface ExportOptions {
  from?: string;
  to?: string;
  format?: string;
  output?: string;
}

/** What `export` wrote. */
export interface ExportSummary {
  kind: string;
  format: string;
  from: string;
  to: string;
  /** The file written; null for stdout. */
  file: string | null;
  rows: number;
  bytes: number;
}

export function describeExport(summary: ExportSummary): string {
  return (
    `exported ${summary.rows} rows of ${summary.kind} (${summary.bytes} bytes, ${summary.format}) ` +
    `to ${summary.file ?? 'stdout'}\n`
  );
}

/** Where the rows go: a file written whole or not at all (`<file>.partial` renamed at the end), or stdout. */
interface Sink {
  write(chunk: string): Promise<boolean>;
  finish(): Promise<void>;
  abandon(): Promise<void>;
}

async function fileSink(path: string): Promise<Sink> {
  const partial = `${path}.partial`;
  let handle: FileHandle;
  try {
    handle = await open(partial, 'w');
  } catch (error) {
    throw new CliError(
      'CANNOT_CREATE',
      `${partial}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return {
    write: async (chunk) => {
      await handle.write(chunk);
      return true;
    },
    finish: async () => {
      await handle.close();
      await rename(partial, path);
    },
    abandon: async () => {
      await handle.close().catch(() => undefined);
      await rm(partial, { force: true });
    },
  };
}

function stdoutSink(): Sink {
  // A reader that stops early (`| head`) closes the pipe: the export stops, quietly.
  let closed = false;
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') closed = true;
    else throw error;
  };
  process.stdout.on('error', onError);
  return {
    write: async (chunk) => {
      if (closed) return false;
      if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
      return !closed;
    },
    finish: () => {
      process.stdout.off('error', onError);
      return Promise.resolve();
    },
    abandon: () => {
      process.stdout.off('error', onError);
      return Promise.resolve();
    },
  };
}

async function exportRows(
  request: ExportRequest,
  file: string | undefined,
  output: CliOutput,
  exports: AccountingExports,
): Promise<ExportSummary> {
  const total = await exports.count(request);
  const sink = file === undefined ? stdoutSink() : await fileSink(file);
  const progress = output.progress(`export ${request.kind}`);
  const summary: ExportSummary = {
    kind: request.kind,
    format: request.format,
    from: request.from.toISOString(),
    to: request.to.toISOString(),
    file: file ?? null,
    rows: 0,
    bytes: 0,
  };
  try {
    for await (const chunk of exports.stream(request, { onRows: (rows) => (summary.rows += rows) })) {
      summary.bytes += Buffer.byteLength(chunk);
      progress.update(summary.rows, total);
      if (!(await sink.write(chunk))) break;
    }
    await sink.finish();
    return summary;
  } catch (error) {
    await sink.abandon();
    throw error;
  } finally {
    progress.stop();
  }
}

/** `export <kind>`: accounting exports, streamed to stdout or a file. */
export function exportCommand(run: CliRunner): Command {
  return new Command('export')
    .summary('orders, payments, refunds or money movements of a time range, as CSV or JSON lines')
    .description(
      'Streams an export for accounting (docs/operations.md, "Exports"): orders by placement time, ' +
        'payments, refund outcomes or money movements by Alipay’s time, in [--from, --to). A date alone is ' +
        'midnight in Beijing. CSV is UTF-8 with a byte order mark, RFC 4180, CRLF; a text field starting ' +
        'with = + - @ is prefixed with an apostrophe. Amounts in yuan, times in Beijing time with +08:00. ' +
        'With --output the file appears only once complete. With --json (and --output) the summary is JSON.',
    )
    .argument('<kind>', EXPORT_KINDS.join(', '))
    .requiredOption('--from <date|instant>', 'start, inclusive: 2024-05-01 or 2024-05-01T00:00:00+08:00')
    .requiredOption('--to <date|instant>', 'end, exclusive')
    .option('--format <format>', EXPORT_FORMATS.join(' or '), 'csv')
    .option('--output <file>', 'write to this file instead of stdout')
    .action((kind: string, options: ExportOptions, command: Command) =>
      run(command, (output, globals) => {
        const request = parseExportRequest({ kind, ...options });
        if (output.json && options.output === undefined) {
          throw usage('export --json reports on stdout: give --output for the rows');
        }
        return withLedgerContext(
          { verbose: globals.verbose === true, imports: [ProjectionsModule] },
          async (app) => {
            for (const lag of await app.get(ProjectionsService).lag()) {
              if (lag.events > 0) {
                output.note(
                  `warning: ${lag.projection} is ${lag.events} events behind the event store; the export ` +
                    'shows what it has applied (start the ledger, or see `ledger status`)',
                );
              }
            }
            const summary = await exportRows(request, options.output, output, app.get(AccountingExports));
            if (options.output === undefined) output.note(describeExport(summary).trimEnd());
            else output.result(summary, describeExport);
            return EXIT.ok;
          },
        );
      }),
    );
}
