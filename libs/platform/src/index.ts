export * from './config/ledger-config';
export * from './logging/ledger-logger';
export { logDestination, readableLines, type Terminal } from './logging/terminal-logs';
export { boundedRecord, cutText, MAX_LOG_RECORD } from './logging/bounded-record';
export {
  currentRequest,
  inRequestContext,
  requestContext,
  REQUEST_ID_HEADER,
} from './logging/request-context';
export type { AccessLog, RequestContext } from './logging/request-context';
export { consoleSecurityHeaders, pageSecurityHeaders, securityHeaders } from './http/security-headers';
export * from './operator-sessions';
export {
  LedgerMetrics,
  SCRAPE_BUDGET_MS,
  type ExpectedSeries,
  type ScrapeReading,
} from './metrics/ledger-metrics';
export * from './database';
export * from './workers';
export {
  composeMigrations,
  pendingMigrations,
  runMigrations,
  WORKER_LEASE_MIGRATIONS,
  type Migration,
} from './migrations';
export * from './platform.module';
