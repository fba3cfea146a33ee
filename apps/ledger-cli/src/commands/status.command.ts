import { Command } from 'commander';
import { LedgerStatus, LedgerStatusModule, type LedgerStatusReport } from '@ledger/processes';
import { withLedgerContext } from '../cli-context';
import { EXIT } from '../cli-exit';
import { beijing, duration, percent } from '../cli-format';
import type { CliRunner } from '../cli-run';

function projectionLine(projection: LedgerStatusReport['projections'][number]): string {
  const lag =
    projection.events === 0
      ? 'up to date'
      : `${projection.events} events behind, the oldest ${duration(projection.seconds)} old`;
  const { rebuild } = projection;
  const rebuilding =
    rebuild === null
      ? ''
      : rebuild.running
        ? `; rebuilding, ${percent(rebuild.position, rebuild.headPosition)}% (position ${rebuild.position} of ${rebuild.headPosition})`
        : `; a stopped rebuild left shadows at position ${rebuild.position}`;
  return `  ${projection.projection.padEnd(16)} ${lag}${rebuilding}`;
}

export function describeStatus(report: LedgerStatusReport): string {
  const pending = report.pendingDecisions;
  const { silence, awaitingPayment } = report;
  const oldest = awaitingPayment.oldest;
  return [
    `mode         ${report.mode}, ${report.database === 'postgres' ? 'PostgreSQL' : 'embedded database'}`,
    'projections',
    ...report.projections.map(projectionLine),
    'pending decisions',
    `  delivery ${pending.delivery}, shipping ${pending.shipping}, return ${pending.return}, ` +
      `return to review ${pending.returnReview}`,
    `  open anomalies ${pending.anomalies}, refund batches with an unknown outcome ` +
      `${pending.refundOutcomeUnknown}, dead webhooks ${pending.deadWebhooks}`,
    silence.lastNotificationAt === null
      ? 'silence      no notification received yet'
      : `silence      ${duration(silence.seconds ?? 0)} since the last notification (${beijing(silence.lastNotificationAt)})`,
    oldest === null
      ? 'awaiting     no order awaiting payment'
      : `awaiting     ${awaitingPayment.orders} orders awaiting payment; the oldest, ${oldest.outTradeNo}, ` +
        `placed ${beijing(oldest.placedAt)} (${duration(oldest.ageSeconds)} ago)`,
    '',
  ].join('\n');
}

/** `status`: the ledger at a glance. */
export function statusCommand(run: CliRunner): Command {
  return new Command('status')
    .summary('mode, projection lag, pending decisions, silence, orders awaiting payment')
    .description(
      'The ledger at a glance: the mode and the database, how far each projection is behind (and its ' +
        'rebuild, on any instance), the decisions waiting by kind, the time since Alipay last sent a ' +
        'notification, and the orders awaiting payment. Reads only.',
    )
    .action((_options: unknown, command: Command) =>
      run(command, (output, globals) =>
        withLedgerContext(
          { verbose: globals.verbose === true, imports: [LedgerStatusModule] },
          async (app) => {
            output.result(await app.get(LedgerStatus).report(), describeStatus);
            return EXIT.ok;
          },
        ),
      ),
    );
}
