export { DataDirInUseError } from './data-dir-lock';
export {
  type DatabaseKind,
  type DatabaseLogger,
  type LedgerDatabase,
  type OpenDatabaseOptions,
  openDatabase,
} from './open-database';
export {
  advisoryLock,
  advisoryUnlock,
  tryAdvisoryLock,
  type AdvisoryLockKey,
  type AdvisoryLockSession,
} from './advisory-lock';
export type { Database, DatabaseSession } from './database-session';
export { StatementBatcher, type BatchingOptions } from './statement-batcher';
