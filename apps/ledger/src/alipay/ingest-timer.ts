import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LedgerMetrics } from '@ledger/platform';

/** The Alipay edge's paths and the inbox channel each one receives. */
const CHANNELS: Readonly<Record<string, string>> = {
  '/alipay/notify': 'notify',
  '/alipay/refund-notify': 'refund_notify',
  '/alipay/return': 'return',
};

/**
 * Middleware on `/alipay`, ahead of the raw-body capture: times each request from its arrival (its
 * headers read, its body not yet) to its reply sent, by channel (docs/operations.md, "Metrics"). A request
 * whose client left before the reply is not timed: no reply was sent.
 */
export function ingestTimer(metrics: Pick<LedgerMetrics, 'ingestAnswered'>) {
  return (
    request: IncomingMessage & { originalUrl?: string },
    response: ServerResponse,
    next: () => void,
  ): void => {
    // Under Express's mount on `/alipay`, `url` has lost the prefix; `originalUrl` keeps the whole path.
    // Ahead of the router (notify-fast-path.ts), `url` is the whole path.
    const channel = CHANNELS[(request.originalUrl ?? request.url ?? '').split('?', 1)[0]];
    if (channel !== undefined) {
      const started = performance.now();
      response.once('finish', () => metrics.ingestAnswered(channel, (performance.now() - started) / 1000));
    }
    next();
  };
}
