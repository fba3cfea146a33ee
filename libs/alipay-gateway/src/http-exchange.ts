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
}

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  cause?: unknown;
}

// Duck-typed: undici's errors come from another realm under jest, where `instanceof Error` is false.
function asErrorLike(value: unknown): ErrorLike | undefined {
  return typeof value === 'object' && value !== null ? value : undefined;
}

/** The error's message, and its causes' (undici wraps socket errors in `TypeError: fetch failed`). */
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

/**
 * One HTTP exchange with the gateway: the whole of it (connection, request, complete reply) within
 * `timeoutMs`, a reply larger than `maxReplyBytes` refused, and every failure turned into a GatewayError.
 * It never retries: whether a retry is safe depends on the service.
 */
export async function exchange(request: HttpExchange): Promise<HttpReply> {
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

  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      redirect: 'manual',
      signal,
      headers: request.contentType === undefined ? {} : { 'content-type': request.contentType },
      ...(request.body === undefined ? {} : { body: request.body }),
    });
  } catch (error) {
    throw fail(error, 'connecting or sending');
  }

  const chunks: Buffer[] = [];
  let size = 0;
  try {
    if (response.body !== null) {
      for await (const chunk of response.body) {
        const bytes = chunk as Uint8Array;
        size += bytes.byteLength;
        if (size > request.maxReplyBytes) {
          // Leaving the loop cancels the stream: the rest of the reply is not read.
          throw new GatewayError(
            'BAD_REPLY',
            `${request.service}: the reply is larger than ${request.maxReplyBytes} bytes`,
            { service: request.service, retryable: true, latencyMs: elapsed(), httpStatus: response.status },
          );
        }
        chunks.push(Buffer.from(bytes));
      }
    }
  } catch (error) {
    if (error instanceof GatewayError) throw error;
    throw fail(error, 'reading the reply');
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? undefined,
    body: Buffer.concat(chunks),
    latencyMs: elapsed(),
  };
}
