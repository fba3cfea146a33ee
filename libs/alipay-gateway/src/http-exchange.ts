import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { GatewayError } from './gateway-error';

/** A complete HTTP reply read within the time limit. */
export interface HttpReply {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Buffer;
  readonly latencyMs: number;
}

export interface HttpExchange {
  readonly service: string;
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly body?: string;
  readonly contentType?: string;
  readonly timeoutMs: number;
  readonly maxReplyBytes: number;
  readonly signal?: AbortSignal;
  /**
   * A query (notify_verify, single_trade_query) that changes nothing at Alipay: asked again, once, on a
   * fresh connection when a kept-alive one turns out closed by the server before any reply came.
   */
  readonly idempotent?: boolean;
}

/**
 * The server closed a kept-alive connection while this request was being sent on it (a keep-alive
 * timeout racing the reuse; Node's documentation's `request.reusedSocket` case): nothing was answered.
 */
function staleConnection(outgoing: http.ClientRequest, error: unknown): boolean {
  const code = asErrorLike(error)?.code;
  return outgoing.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE');
}

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  cause?: unknown;
}

// Duck-typed: errors can come from another realm under jest, where `instanceof Error` is false.
function asErrorLike(value: unknown): ErrorLike | undefined {
  return typeof value === 'object' && value !== null ? value : undefined;
}

/** The error's message and code, and its causes'. */
function describe(error: unknown): string {
  const parts: string[] = [];
  let current = asErrorLike(error);
  for (let depth = 0; current !== undefined && depth < 4; depth++) {
    if (typeof current.message === 'string' && current.message !== '') parts.push(current.message);
    if (typeof current.code === 'string' && !parts.some((part) => part.includes(current!.code as string))) {
      parts.push(current.code);
    }
    current = asErrorLike(current.cause);
  }
  return parts.length > 0 ? parts.join(': ') : String(error);
}

// Connections to the gateway are kept and reused: notify_verify is asked once per notification.
const HTTP_AGENT = new http.Agent({ keepAlive: true, maxSockets: 256 });
const HTTPS_AGENT = new https.Agent({ keepAlive: true, maxSockets: 256 });

/**
 * One HTTP exchange with the gateway: the whole of it (connection, request, complete reply) within
 * `timeoutMs`, a reply larger than `maxReplyBytes` refused, and every failure turned into a GatewayError.
 * It retries only an idempotent query cut by a stale kept-alive connection: whether a retry is safe
 * depends on the service.
 */
export async function exchange(request: HttpExchange, attempt = 1): Promise<HttpReply> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  let timedOut = false;
  const fail = (error: unknown, stage: string): GatewayError => {
    const details = { service: request.service, latencyMs: elapsed() };
    if (timedOut) {
      return new GatewayError(
        'TIMEOUT',
        `${request.service}: no complete reply within ${request.timeoutMs} ms (${stage})`,
        { ...details, retryable: true },
        { cause: error },
      );
    }
    if (request.signal?.aborted === true) {
      return new GatewayError('ABORTED', `${request.service}: the call was aborted (${stage})`, {
        ...details,
        retryable: true,
      });
    }
    return new GatewayError(
      'UNREACHABLE',
      `${request.service}: the gateway could not be reached (${stage}): ${describe(error)}`,
      { ...details, retryable: true },
      { cause: error },
    );
  };
  if (request.signal?.aborted === true) throw fail(request.signal.reason, 'before sending');

  const url = new URL(request.url);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<HttpReply>((resolve, reject) => {
    let stage = 'connecting or sending';
    let incoming: http.IncomingMessage | undefined;
    // The deadline is one timer and the caller's signal one listener, both let go when the exchange ends:
    // `AbortSignal.timeout` and `AbortSignal.any` on every call cost more CPU than the request itself
    // (docs/operations.md, "Throughput").
    const cut = (reason: Error) => {
      incoming?.destroy(reason);
      outgoing.destroy(reason);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      cut(new Error(`no complete reply within ${request.timeoutMs} ms`));
    }, request.timeoutMs);
    const onAbort = () => cut(new Error('aborted'));
    request.signal?.addEventListener('abort', onAbort, { once: true });
    const settle = () => {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
    };
    const succeed = (reply: HttpReply | Promise<HttpReply>) => {
      settle();
      resolve(reply);
    };
    const failWith = (error: GatewayError) => {
      settle();
      reject(error);
    };

    const outgoing = client.request(
      url,
      {
        method: request.method,
        agent: url.protocol === 'https:' ? HTTPS_AGENT : HTTP_AGENT,
        headers: request.contentType === undefined ? {} : { 'content-type': request.contentType },
      },
      (reply) => {
        incoming = reply;
        stage = 'reading the reply';
        const chunks: Buffer[] = [];
        let size = 0;
        reply.on('data', (chunk: Buffer) => {
          size += chunk.byteLength;
          if (size > request.maxReplyBytes) {
            // The rest of the reply is not read: the socket is dropped rather than reused.
            reply.destroy();
            outgoing.destroy();
            failWith(
              new GatewayError(
                'BAD_REPLY',
                `${request.service}: the reply is larger than ${request.maxReplyBytes} bytes`,
                {
                  service: request.service,
                  retryable: true,
                  latencyMs: elapsed(),
                  httpStatus: reply.statusCode ?? 0,
                },
              ),
            );
            return;
          }
          chunks.push(chunk);
        });
        reply.on('end', () => {
          const contentType = reply.headers['content-type'];
          succeed({
            status: reply.statusCode ?? 0,
            contentType,
            body: Buffer.concat(chunks),
            latencyMs: elapsed(),
          });
        });
        reply.on('error', (error) => failWith(fail(error, stage)));
      },
    );
    outgoing.on('error', (error) => {
      if (
        request.idempotent === true &&
        attempt === 1 &&
        !timedOut &&
        request.signal?.aborted !== true &&
        stage !== 'reading the reply' &&
        staleConnection(outgoing, error)
      ) {
        succeed(exchange(request, 2));
        return;
      }
      failWith(fail(error, stage));
    });
    outgoing.end(request.body);
  });
}
