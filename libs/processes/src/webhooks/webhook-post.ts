import http from 'node:http';
import https from 'node:https';

/** How an attempt ended without an HTTP answer. */
export type PostFailure = 'timeout' | 'unreachable' | 'aborted';

export class PostError extends Error {
  constructor(
    readonly failure: PostFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface PostReply {
  status: number;
  /** The reply body's first `REPLY_LIMIT` bytes, as UTF-8 text. */
  body: string;
  contentType?: string;
}

/** What is kept of a reply body: enough for a reference or an error message, bounded per attempt. */
export const REPLY_LIMIT = 1024;

export interface PostOptions {
  connectTimeoutMs: number;
  timeoutMs: number;
  signal: AbortSignal;
  agent?: { http: http.Agent; https: https.Agent };
}

/**
 * POSTs `body` once, with a connect timeout and a total one (docs/webhooks.md, "Delivery"): a receiver that
 * accepts the connection and never answers costs at most `timeoutMs`. Resolves with any HTTP answer;
 * rejects with a `PostError` when there is none.
 */
export function postOnce(
  url: URL,
  headers: Record<string, string>,
  body: string,
  options: PostOptions,
): Promise<PostReply> {
  return new Promise<PostReply>((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const bytes = Buffer.from(body, 'utf8');
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      outcome();
    };
    const fail = (failure: PostFailure, message: string) => {
      finish(() => reject(new PostError(failure, message)));
      request.destroy();
    };
    const onAbort = () => fail('aborted', 'the ledger is shutting down');
    const request = (secure ? https : http).request(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(bytes.length) },
      agent: secure ? options.agent?.https : options.agent?.http,
    });
    timers.push(
      setTimeout(
        () => fail('timeout', `no complete answer within ${options.timeoutMs} ms`),
        options.timeoutMs,
      ),
    );
    request.on('socket', (socket) => {
      if (!socket.connecting) return;
      const connect = setTimeout(
        () => fail('timeout', `no connection within ${options.connectTimeoutMs} ms`),
        options.connectTimeoutMs,
      );
      timers.push(connect);
      socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(connect));
    });
    request.on('error', (error) => fail('unreachable', error.message));
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      response.on('data', (chunk: Buffer) => {
        if (kept >= REPLY_LIMIT) return;
        chunks.push(chunk);
        kept += chunk.length;
      });
      response.on('error', (error) => fail('unreachable', error.message));
      response.on('end', () =>
        finish(() =>
          resolve({
            status: response.statusCode ?? 0,
            body: replyText(Buffer.concat(chunks)),
            ...(response.headers['content-type'] === undefined
              ? {}
              : { contentType: response.headers['content-type'] }),
          }),
        ),
      );
    });
    if (options.signal.aborted) {
      onAbort();
      return;
    }
    options.signal.addEventListener('abort', onAbort);
    request.end(bytes);
  });
}

/**
 * A reply body as kept: its first `REPLY_LIMIT` bytes as UTF-8, U+0000 shown as U+2400 (SYMBOL FOR NULL),
 * since PostgreSQL's text cannot hold it and the attempt's row must be written whatever the receiver said.
 */
export function replyText(bytes: Buffer): string {
  return bytes.subarray(0, REPLY_LIMIT).toString('utf8').replaceAll('\u0000', '\u2400');
}

/** The receiver's own reference, from a JSON reply `{"reference": "..."}` (or `{"id": "..."}`), if any. */
export function referenceOf(reply: PostReply): string | undefined {
  const text = reply.body.trim();
  if (!text.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const reference = parsed.reference ?? parsed.id;
    if (typeof reference === 'string' && reference.length > 0 && reference.length <= 200) return reference;
    if (typeof reference === 'number' && Number.isFinite(reference)) return String(reference);
  } catch {
    // Not JSON after all (or cut at REPLY_LIMIT): no reference, the reply is kept as text.
  }
  return undefined;
}
