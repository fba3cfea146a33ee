import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What every log line written while a request is handled carries (docs/operations.md, "Logs"). */
export interface RequestContext {
  readonly requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

// A caller's id is kept when it is a plain token (a load balancer's, a tracing system's); anything else,
// which would end up in every log line of the request, is replaced.
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:-]{8,64}$/;

export const REQUEST_ID_HEADER = 'x-request-id';

/** The request being handled, if any: a log line written on its behalf names it. */
export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

/** The id of a request: the one its sender gave, when it is acceptable, else a new one. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && ACCEPTED_REQUEST_ID.test(given) ? given : randomUUID();
}

/** Runs `work` (and everything it starts) as part of handling the request `requestId`. */
export function runInRequest<T>(requestId: string, work: () => T): T {
  return storage.run({ requestId }, work);
}

export interface AccessLog {
  /** One line per request once its reply is sent (or the client went away). */
  request(line: {
    method: string;
    path: string;
    status: number;
    durationMs: number;
    finished: boolean;
  }): void;
}

/**
 * Connect-style middleware, first on every route: gives the request its id (echoed in `x-request-id`),
 * runs the rest of its handling in that context, and writes one access line when it ends.
 */
export function requestContext(accessLog: AccessLog) {
  return (request: IncomingMessage, response: ServerResponse, next: () => void): void => {
    const requestId = requestIdOf(request);
    const started = performance.now();
    response.setHeader(REQUEST_ID_HEADER, requestId);
    runInRequest(requestId, () => {
      // `close` comes after `finish` when the reply was sent, alone when the client left first.
      response.once('close', () =>
        accessLog.request({
          method: request.method ?? '',
          // Without the query: a return_url's query is the buyer's signed parameters.
          path: (request.url ?? '').split('?', 1)[0],
          status: response.statusCode,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          finished: response.writableFinished,
        }),
      );
      next();
    });
  };
}

type Middleware = (
  request: IncomingMessage,
  response: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * A middleware that goes on from a stream event (a body read to its end) leaves the request's context:
 * events run in the socket's. This one goes on in the context it was called in.
 */
export function inRequestContext(middleware: Middleware): Middleware {
  return (request, response, next) => {
    // Not `AsyncResource.bind`: on Node 20 each bound function also gets two deprecation wrappers for its
    // `asyncResource` property, about 2% of the process's CPU per notification (docs/operations.md,
    // "Where the time goes").
    const resource = new AsyncResource('LedgerRequestMiddleware');
    middleware(request, response, (error) => resource.runInAsyncScope(next, undefined, error));
  };
}
