import type { ServerResponse } from 'node:http';
import { consoleSecurityHeaders } from '@ledger/platform';

/** Sends a rendered page with the console's headers (its CSP, no caching). */
export function sendHtml(
  response: ServerResponse,
  status: number,
  document: string,
  headers: Record<string, string | string[]> = {},
): void {
  response.writeHead(status, { ...consoleSecurityHeaders(), ...headers });
  response.end(document);
}

/** 303 See Other: after a POST, the browser GETs `location` (POST-redirect-GET). */
export function redirect(
  response: ServerResponse,
  location: string,
  headers: Record<string, string | string[]> = {},
): void {
  response.writeHead(303, { location, 'cache-control': 'no-store', ...headers });
  response.end();
}
