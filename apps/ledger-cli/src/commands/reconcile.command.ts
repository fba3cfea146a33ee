import { Command } from 'commander';
import { LedgerConfig } from '@ledger/platform';
import {
  ReconcileModule,
  Reconciler,
  type ReconcileReport,
  type ReconcileSelection,
} from '@ledger/processes';
import { withLedgerContext } from '../cli-context';
import { EXIT, usage } from '../cli-exit';
import { parseRange } from '../cli-options';
import type { CliRunner } from '../cli-run';

interface ReconcileOptions {
  order?: string[];
  from?: string;
  to?: string;
  dryRun?: boolean;
}

const OUT_TRADE_NO = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_ORDERS = 1_000;

/** The orders listed, or those placed in the range: one of the two, else a usage error. */
export function reconcileSelection(options: Omit<ReconcileOptions, 'dryRun'>): ReconcileSelection {
  const range = parseRange(options.from, options.to);
  if ((options.order !== undefined) === (range !== undefined)) {
    throw usage('reconcile: give --order (one or more), or --from with --to');
  }
  if (range !== undefined) return range;
  const orders = options.order!;
  const bad = orders.find((order) => !OUT_TRADE_NO.test(order));
  if (bad !== undefined) throw usage(`--order ${JSON.stringify(bad)}: 1 to 64 letters, digits, "_" or "-"`);
  if (orders.length > MAX_ORDERS) throw usage(`--order: at most ${MAX_ORDERS}`);
  return { outTradeNos: orders };
}

export function describeReconcile(report: ReconcileReport): string {
  const lines = [
    `reconcile${report.dryRun ? ' (dry run: nothing written)' : ''}: ${report.orders.length} of ` +
      `${report.selected} orders asked about${report.truncated ? ' (the oldest of a longer range)' : ''}`,
  ];
  for (const order of report.orders) {
    const status = order.tradeStatus === undefined ? '' : ` ${order.tradeStatus}`;
    const events = order.events.length === 0 ? '' : `, events ${order.events.join(' ')}`;
    const error = order.error === undefined ? '' : `: ${order.error.code} ${order.error.message}`;
    lines.push(`  ${order.outTradeNo}: ${order.answer}${status}${events}${error}`);
  }
  const t = report.totals;
  lines.push(
    `totals: ${t.paid} paid by the answer, ${t.applied} applied, ${t.noNewFact} with nothing new, ` +
      `${t.notFound} unknown to Alipay, ${t.unverified} unverified, ${t.errors} without an answer, ` +
      `${t.unknown} not this ledger's`,
  );
  return `${lines.join('\n')}\n`;
}

/**
 * `reconcile`: one reconcile on the ledger's database with its Alipay configuration (docs/operations.md,
 * "Reconciliation"), the same code as `POST /admin/reconcile`; the scheduled queries are the ledger's.
 */
export function reconcileCommand(run: CliRunner): Command {
  return new Command('reconcile')
    .summary('ask Alipay (single_trade_query) about orders listed, or placed in a range and awaiting payment')
    .description(
      'Asks Alipay with single_trade_query about the orders listed, or placed in [--from, --to) and still ' +
        'awaiting payment, and records what it answers through the ledger’s rules (docs/operations.md, ' +
        '"Reconciliation"). Needs the ledger’s configuration. Exit code 1 when an order got no answer.',
    )
    .option('--order <outTradeNo...>', `out_trade_no, 1 to ${MAX_ORDERS}`)
    .option('--from <instant>', 'orders placed at or after this ISO 8601 instant (with --to)')
    .option('--to <instant>', 'orders placed before this instant')
    .option('--dry-run', 'ask, but record nothing')
    .action((options: ReconcileOptions, command: Command) =>
      run(command, (output, globals) => {
        const selection = reconcileSelection(options);
        return withLedgerContext(
          {
            verbose: globals.verbose === true,
            imports: [ReconcileModule],
            // The scheduled queries are the ledger's; this process runs the one asked for.
            configure: (config) =>
              new LedgerConfig({ ...config, reconcile: { ...config.reconcile, enabled: false } }),
          },
          async (app) => {
            const report = await app.get(Reconciler).reconcile(selection, options.dryRun === true);
            output.result(report, describeReconcile);
            return report.totals.errors > 0 ? EXIT.failure : EXIT.ok;
          },
        );
      }),
    );
}
