import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_NOTIFICATION_BYTES } from '@ledger/ingest';

/** A request body exactly as it arrived, before any parser looked at it (SPEC §2 "Raw bytes first"). */
export interface CapturedBody {
  /** At most `MAX_NOTIFICATION_BYTES`. */
  bytes: Buffer;
  /** Bytes read when the capture ended: more than `bytes.length` when the body was cut. */
  receivedBytes: number;
  truncated: boolean;
  /** Headers as received (names in lower case, repeated ones with every value), Content-Type included. */
  headers: Record<string, string | string[]>;
}

/** What the capture leaves on the request for the controller. */
export type RequestWithRawBody = IncomingMessage & {
  originalUrl?: string;
  alipayRawBody?: CapturedBody;
};

/** The headers as sent: `rawHeaders` keeps repeated headers that Node would join or drop. */
export function receivedHeaders(request: IncomingMessage): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i].toLowerCase();
    const value = request.rawHeaders[i + 1];
    const seen = headers[name];
    if (seen === undefined) headers[name] = value;
    else headers[name] = Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return headers;
}

/**
 * Express middleware for `/alipay/*`, installed ahead of the framework's body parsers: Alipay's malformed
 * Content-Type (`application/x-www-form-urlencoded; text/html; charset=UTF-8`, reference §2.4) makes stock
 * parsers drop the body or refuse GBK, and a parsed body is no longer the bytes that were signed. It reads
 * the body into a buffer of at most `MAX_NOTIFICATION_BYTES`; a larger one is cut (the rest is discarded as
 * it arrives) and handed on at once, so the controller can keep what it can and answer 413. The body-type
 * headers are then hidden from the parsers downstream, which therefore leave the request alone.
 */
export function captureRawBody(
  request: RequestWithRawBody,
  _response: ServerResponse,
  next: (error?: unknown) => void,
): void {
  const headers = receivedHeaders(request);
  const chunks: Buffer[] = [];
  let kept = 0;
  let received = 0;
  let handedOn = false;

  const handOn = (truncated: boolean) => {
    if (handedOn) return;
    handedOn = true;
    request.alipayRawBody = {
      bytes: Buffer.concat(chunks, kept),
      receivedBytes: received,
      truncated,
      headers,
    };
    delete request.headers['content-type'];
    delete request.headers['content-length'];
    delete request.headers['transfer-encoding'];
    next();
  };

  request.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (kept < MAX_NOTIFICATION_BYTES) {
      const part = chunk.subarray(0, MAX_NOTIFICATION_BYTES - kept);
      chunks.push(part);
      kept += part.length;
    }
    if (received > MAX_NOTIFICATION_BYTES) handOn(true);
  });
  request.once('end', () => handOn(false));
  request.once('error', (error) => {
    // The sender went away mid-body: there is no notification to keep and nobody to answer.
    if (handedOn) return;
    handedOn = true;
    next(error);
  });
}
