import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_NOTIFICATION_BYTES } from '@ledger/inbox';

/**
 * A request body exactly as it arrived, before any parser looked at it (docs/alipay-protocol.md,
 * "Raw bodies").
 */
export interface CapturedBody {
  /** At most `MAX_NOTIFICATION_BYTES` (the inbox keeps less of a refused body). */
  bytes: Buffer;
  /** Bytes read when the capture ended: more than `bytes.length` when the body was cut. */
  receivedBytes: number;
  /** The Content-Length the sender declared, when it declared one. */
  declaredBytes?: number;
  /** Refused: over the cap by its Content-Length (then unread) or by what arrived. */
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

/** A Content-Length as a number of bytes, when it is one (Node has already refused a malformed one). */
function declaredLength(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

/**
 * Express middleware for `/alipay/*`, installed ahead of the framework's body parsers: Alipay's malformed
 * Content-Type (`application/x-www-form-urlencoded; text/html; charset=UTF-8`, docs/alipay-protocol.md,
 * "Raw bodies") makes stock parsers drop the body or refuse GBK, and a parsed body is no longer the bytes
 * that were signed. It reads the body into a buffer of at most `MAX_NOTIFICATION_BYTES`. A larger body is
 * refused before it is buffered (docs/operations.md, "Bounded storage"): a Content-Length over the cap is
 * handed on at once, unread; a chunked body is handed on as soon as it passes the cap and no more of it is
 * read. The controller keeps what the inbox keeps of it and answers 413, closing the connection. The
 * body-type headers are then hidden from the parsers downstream, which therefore leave the request alone.
 */
export function captureRawBody(
  request: RequestWithRawBody,
  _response: ServerResponse,
  next: (error?: unknown) => void,
): void {
  const headers = receivedHeaders(request);
  const declaredBytes = declaredLength(request.headers['content-length']);
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
      ...(declaredBytes === undefined ? {} : { declaredBytes }),
      truncated,
      headers,
    };
    delete request.headers['content-type'];
    delete request.headers['content-length'];
    delete request.headers['transfer-encoding'];
    next();
  };

  if (declaredBytes !== undefined && declaredBytes > MAX_NOTIFICATION_BYTES) {
    handOn(true);
    return;
  }

  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received <= MAX_NOTIFICATION_BYTES) {
      chunks.push(chunk);
      kept += chunk.length;
      return;
    }
    // Over the cap: stop reading. The rest stays unread until the 413 closes the connection.
    request.off('data', onData);
    request.pause();
    handOn(true);
  };
  request.on('data', onData);
  request.once('end', () => handOn(false));
  request.once('error', (error) => {
    // The sender went away mid-body: there is no notification to keep and nobody to answer.
    if (handedOn) return;
    handedOn = true;
    next(error);
  });
}
