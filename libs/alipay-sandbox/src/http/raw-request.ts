import type { IncomingMessage, ServerResponse } from 'node:http';
import { PayloadTooLargeException } from '@nestjs/common';
import { decodePairs, MAX_NOTIFICATION_PARAMETERS, parseForm } from '@ledger/alipay-protocol';
import { pageSecurityHeaders } from '@ledger/platform';

/** Gateway requests are small forms; a larger body is refused before it is read to the end. */
export const MAX_FORM_BYTES = 1024 * 1024;

/** A 413 wherever it is not caught: the gateway answers it with Alipay's XML instead. */
export class BodyTooLargeError extends PayloadTooLargeException {
  constructor() {
    super(`the body exceeds ${MAX_FORM_BYTES} bytes`);
  }
}

/**
 * The body as it arrived. The sandbox installs no form parser: the signature is checked over these bytes
 * (GBK merchants send GBK escapes that a parser would decode as UTF-8). A body a JSON parser already read
 * is empty here.
 */
export function readRawBody(request: IncomingMessage): Promise<Buffer> {
  if (request.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > MAX_FORM_BYTES) {
        request.removeAllListeners('data');
        request.resume();
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(Buffer.concat(chunks, length)));
    request.once('error', reject);
  });
}

/** The query string of a request (without `?`) as the bytes the client sent. */
export function rawQuery(request: IncomingMessage & { originalUrl?: string }): Buffer {
  const url = request.originalUrl ?? request.url ?? '';
  const start = url.indexOf('?');
  // Node hands the request target over as Latin-1: one character per byte received.
  return Buffer.from(start === -1 ? '' : url.slice(start + 1), 'latin1');
}

/** The fields of one of the sandbox's own UTF-8 forms. */
export async function readOwnForm(request: IncomingMessage): Promise<Record<string, string>> {
  const fields: Record<string, string> = {};
  const form = parseForm(await readRawBody(request), { maxPairs: MAX_NOTIFICATION_PARAMETERS });
  for (const { name, value } of decodePairs(form.pairs, 'utf-8')) {
    fields[name] ??= value;
  }
  return fields;
}

export function sendHtml(response: ServerResponse, status: number, html: string): void {
  const body = Buffer.from(html, 'utf8');
  // The cashier's forms post to itself and are redirected to the merchant's return_url: any form target.
  response.writeHead(status, { ...pageSecurityHeaders(), 'content-length': body.length });
  response.end(body);
}

export function sendBytes(response: ServerResponse, status: number, contentType: string, body: Buffer): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': body.length });
  response.end(body);
}

/** POST-redirect-GET: a 303 sends the browser to a page it may reload. */
export function redirect(response: ServerResponse, location: string): void {
  response.writeHead(303, { location, 'content-length': 0 });
  response.end();
}
