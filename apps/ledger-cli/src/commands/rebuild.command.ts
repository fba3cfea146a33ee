import { Command } from 'commander';
import {
  LEDGER_PROJECTION_NAMES,
  ProjectionsModule,
  ProjectionsService,
  type RebuildReport,
} from '@ledger/projections';
import { withLedgerContext } from '../cli-context';
import { EXIT, usage } from '../cli-exit';
import type { CliRunner } from '../cli-run';

/** The projection named on the command line, or undefined for `all`. */
export function rebuildTarget(name: string): string | undefined {
  if (name === 'all') return undefined;
  if (!LEDGER_PROJECTION_NAMES.includes(name)) {
    throw usage(
      `rebuild: no projection ${JSON.stringify(name)}; one of ${LEDGER_PROJECTION_NAMES.join(', ')}, or all`,
    );
  }
  return name;
}

export function describeRebuild(report: RebuildReport): string {
  const lines = report.projections.map(
    (p) =>
      `rebuilt ${p.projection}: ${p.events} events read, ${p.parked} parked, ${p.rows} rows, ${p.durationMs} ms`,
  );
  return `${lines.join('\n')}\n`;
}

/** `rebuild <projection|all>`: fold anew and swap in, with a progress bar. */
export function rebuildCommand(run: CliRunner): Command {
  return new Command('rebuild')
    .summary('rebuild a projection (or all) from the event store, with a progress bar')
    .description(
      'Rebuilds the projection from position 0 into shadow tables and swaps them in once caught up ' +
        '(docs/operations.md, "Rebuild"); the live tables serve meanwhile, and `ledger status` or ' +
        'GET /admin/projections shows the progress from anywhere. Exit code 75 while it is being rebuilt ' +
        'or verified elsewhere.',
    )
    .argument('<projection>', `${LEDGER_PROJECTION_NAMES.join(', ')}, or all`)
    .action((name: string, _options: unknown, command: Command) =>
      run(command, (output, globals) => {
        const projection = rebuildTarget(name);
        return withLedgerContext(
          { verbose: globals.verbose === true, imports: [ProjectionsModule] },
          async (app) => {
            const bars = new Map<string, ReturnType<typeof output.progress>>();
            try {
              const report = await app.get(ProjectionsService).rebuild(projection, {
                onProgress: ({ projection: current, position, headPosition }) => {
                  for (const [other, bar] of bars) if (other !== current) bar.stop();
                  const bar = bars.get(current) ?? output.progress(current);
                  bars.set(current, bar);
                  bar.update(position, headPosition);
                },
              });
              for (const bar of bars.values()) bar.stop();
              output.result(report, describeRebuild);
            } finally {
              for (const bar of bars.values()) bar.stop();
            }
            return EXIT.ok;
          },
        );
      }),
    );
}
