import { ReconcileSchedule1732000000551 } from './1732000000551-reconcile-schedule';

/** The reconciler's schedule of trade queries. */
export const RECONCILE_MIGRATIONS = [ReconcileSchedule1732000000551];
