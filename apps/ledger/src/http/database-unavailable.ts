/**
 * PostgreSQL's SQLSTATEs that mean "not now" rather than "wrong": a statement or lock wait cancelled by the
 * session's timeouts, a connection refused or ended by a restarting server, a full server. Anything else a
 * query raises is a defect and stays a 500.
 */
const UNAVAILABLE_SQLSTATES = new Set([
  '57014', // query_canceled: statement_timeout
  '55P03', // lock_not_available: lock_timeout
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, shutting down, in recovery
  '53300', // too_many_connections
]);

/** Socket errors of a connection that could not be made or was lost. */
const UNAVAILABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
]);

/** pg and pg-pool report these without a code: a full pool past its acquire timeout, a lost connection. */
const UNAVAILABLE_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];

function codeOf(error: object): string | undefined {
  const { code } = error as { code?: unknown };
  return typeof code === 'string' ? code : undefined;
}

/**
 * Whether `error` (or what it wraps: TypeORM's `driverError`, a `cause`) says the database cannot serve the
 * request now: the pool stayed busy past its acquire timeout, a timeout cancelled the statement, or the
 * connection failed. Such requests are answered 503 with `Retry-After` (docs/operations.md, "Liveness under
 * faults").
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  const code = codeOf(error);
  if (code !== undefined) {
    if (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_SOCKET_CODES.has(code)) {
      return true;
    }
  }
  const { message } = error as { message?: unknown };
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((known) => message.startsWith(known))) {
    return true;
  }
  const { driverError, cause } = error as { driverError?: unknown; cause?: unknown };
  return isDatabaseUnavailable(driverError, depth + 1) || isDatabaseUnavailable(cause, depth + 1);
}
