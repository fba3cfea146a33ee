import { WorkerLeases1732000000010 } from './1732000000010-worker-leases';

/** The workers' lease table, in the lib of the lease it serves (`libs/platform/src/workers`). */
export const WORKER_LEASE_MIGRATIONS = [WorkerLeases1732000000010];

export { composeMigrations, type Migration } from './compose-migrations';
export { pendingMigrations, runMigrations } from './run-migrations';
