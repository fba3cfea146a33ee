import { WorkerLeases1732000000010 } from './1732000000010-worker-leases';

/**
 * The workers' lease table. It stays here until the lease code it serves lives in a lib of its own, and then
 * moves beside it.
 */
export const WORKER_LEASE_MIGRATIONS = [WorkerLeases1732000000010];

export { composeMigrations, type Migration } from './compose-migrations';
export { pendingMigrations, runMigrations } from './run-migrations';
