import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { LedgerLogger } from '@ledger/platform';
import { RETRY_AFTER_SECONDS } from '../http/ledger-exception.filter';
import type { AlipayController } from './alipay.controller';
import type { RequestWithRawBody } from './raw-body';

/** Connect-style middleware, as Express runs it. */
export type EdgeMiddleware = (
  request: IncomingMessage,
  response: ServerResponse,
  next: (error?: unknown) => void,
) => void;

const CONTEXT = 'AlipayEdge';

/**
 * Alipay's two POST endpoints answered by the HTTP server itself, ahead of Express's router and Nest's
 * request pipeline (docs/operations.md, "Throughput"): the same middleware (request id and access line,
 * security headers, the ingest timer, the raw-body capture) and the same controller methods, without the
 * walk over every route of the application that each request otherwise pays. Only the exact paths
 * `/alipay/notify` and `/alipay/refund-notify` with POST take it; everything else, spellings Express would
 * also route included, goes to Express unchanged, where the same controller answers them.
 */
export function serveNotifyDirectly(
  server: Server,
  controller: AlipayController,
  middleware: readonly EdgeMiddleware[],
  logger: LedgerLogger,
): void {
  const [application, ...others] = server.listeners('request') as ((
    request: IncomingMessage,
    response: ServerResponse,
  ) => void)[];
  if (application === undefined || others.length > 0)
    throw new Error(`the HTTP server has ${others.length + 1} request listeners, expected Express alone`);
  const handlers: Readonly<
    Record<string, (request: RequestWithRawBody, response: ServerResponse) => Promise<void>>
  > = {
    '/alipay/notify': (request, response) => controller.notify(request, response),
    '/alipay/refund-notify': (request, response) => controller.refundNotify(request, response),
  };
  server.removeListener('request', application);
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const url = request.url ?? '';
    const query = url.indexOf('?');
    const handler =
      request.method === 'POST' ? handlers[query === -1 ? url : url.slice(0, query)] : undefined;
    if (handler === undefined) {
      application(request, response);
      return;
    }
    let at = 0;
    const next = (error?: unknown): void => {
      if (error !== undefined) {
        // The sender went away mid-body (the capture's only error): nobody is left to answer.
        response.destroy();
        return;
      }
      const step = middleware[at++];
      if (step !== undefined) {
        step(request, response, next);
        return;
      }
      handler(request as RequestWithRawBody, response).catch((failure: unknown) => {
        // The pipeline answers every input itself; this is a reply that could not be written.
        logger.error(failure, CONTEXT);
        if (response.headersSent) {
          response.destroy();
          return;
        }
        response.writeHead(503, {
          'content-type': 'text/plain; charset=utf-8',
          'cache-control': 'no-store',
          'retry-after': String(RETRY_AFTER_SECONDS),
        });
        response.end('fail');
      });
    };
    next();
  });
}
