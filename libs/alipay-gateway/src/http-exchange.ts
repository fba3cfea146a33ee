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
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal === undefined ? timeout : AbortSignal.any([timeout, request.signal]);
  const fail = (error: unknown, stage: string): GatewayError => {
    const details = { service: request.service, latencyMs: elapsed() };
    if (timeout.aborted) {
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

  const url = new URL(request.url);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<HttpReply>((resolve, reject) => {
    let stage = 'connecting or sending';
    const outgoing = client.request(
      url,
      {
        method: request.method,
        agent: url.protocol === 'https:' ? HTTPS_AGENT : HTTP_AGENT,
        signal,
        headers: request.contentType === undefined ? {} : { 'content-type': request.contentType },
      },
      (incoming) => {
        stage = 'reading the reply';
        const chunks: Buffer[] = [];
        let size = 0;
        incoming.on('data', (chunk: Buffer) => {
          size += chunk.byteLength;
          if (size > request.maxReplyBytes) {
            // The rest of the reply is not read: the socket is dropped rather than reused.
            incoming.destroy();
            outgoing.destroy();
            reject(
              new GatewayError(
                'BAD_REPLY',
                `${request.service}: the reply is larger than ${request.maxReplyBytes} bytes`,
                {
                  service: request.service,
                  retryable: true,
                  latencyMs: elapsed(),
                  httpStatus: incoming.statusCode ?? 0,
                },
              ),
            );
            return;
          }
          chunks.push(chunk);
        });
        incoming.on('end', () => {
          const contentType = incoming.headers['content-type'];
          resolve({
            status: incoming.statusCode ?? 0,
            contentType,
            body: Buffer.concat(chunks),
            latencyMs: elapsed(),
          });
        });
        incoming.on('error', (error) => reject(fail(error, stage)));
      },
    );
    outgoing.on('error', (error) => {
      if (
        request.idempotent === true &&
        attempt === 1 &&
        stage !== 'reading the reply' &&
        staleConnection(outgoing, error)
      ) {
        resolve(exchange(request, 2));
        return;
      }
      reject(fail(error, stage));
    });
    outgoing.end(request.body);
  });
}
