import type { IncomingMessage } from 'node:http';

// docs/console.md, "Sign-in, sessions and CSRF": the cookie carries the session id and nothing else.

export const SESSION_COOKIE = 'ledger_console';
/** The cookie is sent to the console's pages and nowhere else on the ledger. */
export const CONSOLE_PATH = '/console';

/** The session id of the request's cookie, when it has one. */
export function sessionCookieOf(request: IncomingMessage): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() === SESSION_COOKIE) return part.slice(separator + 1).trim();
  }
  return undefined;
}

/**
 * The `Set-Cookie` of a new session: out of scripts' reach (`HttpOnly`), never sent by another site's page or
 * form (`SameSite=Strict`), only to the console (`Path`), only over HTTPS when the ledger is served so.
 */
export function sessionCookie(id: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${id}`,
    `Path=${CONSOLE_PATH}`,
    `Max-Age=${maxAgeSeconds}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

/** The `Set-Cookie` that removes the session's cookie (sign out). */
export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie('', 0, secure);
}
