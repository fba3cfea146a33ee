import { Command } from 'commander';
import { CommandBus } from '@nestjs/cqrs';
import {
  CommandsModule,
  MAX_REPLAY_IDS,
  ReplayNotificationsCommand,
  type ReplayReport,
  type ReplaySelection,
} from '@ledger/commands';
import { withLedgerContext } from '../cli-context';
import { EXIT, usage } from '../cli-exit';
import { parseRange } from '../cli-options';
import type { CliRunner } from '../cli-run';

interface ReplayOptions {
  all?: boolean;
  from?: string;
  to?: string;
  id?: string[];
  dryRun?: boolean;
}

/** Exactly one of `--all`, `--from` with `--to`, `--id`; anything else is a usage error. */
export function replaySelection(options: ReplayOptions): ReplaySelection {
  const range = parseRange(options.from, options.to);
  const chosen = [options.all === true, range !== undefined, options.id !== undefined].filter(Boolean);
  if (chosen.length !== 1) {
    throw usage('replay: give exactly one of --all, --from with --to, or --id (one or more inbox ids)');
  }
  if (options.all === true) return { all: true };
  if (range !== undefined) return range;
  const ids = options.id!.map((id) => {
    if (!/^[1-9]\d{0,15}$/.test(id))
      throw usage(`--id ${JSON.stringify(id)}: an inbox id, a positive integer`);
    return Number(id);
  });
  if (ids.length > MAX_REPLAY_IDS) throw usage(`--id: at most ${MAX_REPLAY_IDS} inbox ids`);
  return { ids };
}

/** Skipped notifications listed by id, at most this many per reason; the counts cover them all. */
const SHOWN_SKIPS = 20;

export function describeReplay(report: ReplayReport): string {
  const verb = report.dryRun ? 'would be appended' : 'appended';
  const lines = [
    `replay${report.dryRun ? ' (dry run: nothing written)' : ''}: ${report.selected} notifications selected, ` +
      `${report.replayed} run, ${report.skipped.length} skipped; ${report.events} events ${verb}`,
  ];
  const streams = [
    ...report.orders.map((order) => ({ name: `order ${order.outTradeNo}`, events: order.events })),
    ...report.batches.map((batch) => ({ name: `refund batch ${batch.batchNo}`, events: batch.events })),
  ];
  for (const stream of streams) {
    lines.push(`  ${stream.name}:`);
    for (const event of stream.events) {
      lines.push(`    + ${event.type} (version ${event.version}, from inbox ${event.inboxId})`);
    }
  }
  const byReason = new Map<string, number[]>();
  for (const skip of report.skipped)
    byReason.set(skip.reason, [...(byReason.get(skip.reason) ?? []), skip.inboxId]);
  for (const [reason, ids] of byReason) {
    const shown = ids.slice(0, SHOWN_SKIPS).join(', ');
    lines.push(
      `  skipped, ${reason}: ${ids.length} (inbox ${shown}${ids.length > SHOWN_SKIPS ? ', …' : ''})`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `replay`: stored notifications through today's code; `--dry-run` shows the facts it would add. */
export function replayCommand(run: CliRunner): Command {
  return new Command('replay')
    .summary('run stored notifications again through today’s code (all, a range, or ids)')
    .description(
      'Runs verified stored notifications again through today’s rules (docs/operations.md, "Replay"): a ' +
        'notification already applied adds nothing, so a replay is idempotent. --dry-run decides against ' +
        'the current streams and lists the events it would append, writing nothing.',
    )
    .option('--all', 'every stored notification')
    .option('--from <instant>', 'notifications received at or after this ISO 8601 instant (with --to)')
    .option('--to <instant>', 'notifications received before this instant')
    .option('--id <ids...>', `inbox ids, 1 to ${MAX_REPLAY_IDS}`)
    .option('--dry-run', 'list the facts it would add, write nothing')
    .action((options: ReplayOptions, command: Command) =>
      run(command, (output, globals) => {
        const selection = replaySelection(options);
        return withLedgerContext(
          { verbose: globals.verbose === true, imports: [CommandsModule] },
          async (app) => {
            const progress = output.progress(options.dryRun === true ? 'replay (dry run)' : 'replay');
            try {
              const report = await app.get(CommandBus).execute(
                new ReplayNotificationsCommand(selection, {
                  dryRun: options.dryRun === true,
                  onProgress: (done, total) => progress.update(done, total),
                }),
              );
              progress.stop();
              output.result(report, describeReplay);
            } finally {
              progress.stop();
            }
            return EXIT.ok;
          },
        );
      }),
    );
}
