import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LedgerMetrics } from '@ledger/platform';

/** The Alipay edge's paths (under `/alipay`) and the inbox channel each one receives. */
const CHANNELS: Readonly<Record<string, string>> = {
  '/notify': 'notify',
  '/refund-notify': 'refund_notify',
  '/return': 'return',
};

/**
 * Middleware on `/alipay`, ahead of the raw-body capture: times each request from its arrival (its
 * headers read, its body not yet) to its reply sent, by channel (docs/operations.md, "Metrics"). A request
 * whose client left before the reply is not timed: no reply was sent.
 */
export function ingestTimer(metrics: Pick<LedgerMetrics, 'ingestAnswered'>) {
  return (request: IncomingMessage, response: ServerResponse, next: () => void): void => {
    const channel = CHANNELS[(request.url ?? '').split('?', 1)[0]];
    if (channel !== undefined) {
      const started = performance.now();
      response.once('finish', () => metrics.ingestAnswered(channel, (performance.now() - started) / 1000));
    }
    next();
  };
}
