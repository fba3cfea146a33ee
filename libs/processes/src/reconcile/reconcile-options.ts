import type { BackoffPolicy, LedgerConfig } from '@ledger/platform';

/** How the reconciler works (docs/operations.md, "Reconciliation"). */
export interface ReconcileOptions {
  /** Whether the scheduled queries run in this process (`RECONCILE_WORKER`); on demand they always can. */
  enabled: boolean;
  /** An order awaiting payment this long is asked about (`RECONCILE_AWAITING_AFTER_MINUTES`). */
  awaitingAfterMs: number;
  /** An order is asked about until this long after it was placed or its notification failed. */
  horizonMs: number;
  /** Pause between passes over the schedule. */
  pollMs: number;
  /** Rows claimed per round of a pass. */
  batchSize: number;
  /** How long a claimed row is held for its query; a query never lasts longer (the gateway's timeout). */
  holdMs: number;
  /** The pause between two queries of one order: 5 min, doubling, at most 6 h. */
  backoff: BackoffPolicy;
  /** The most orders one on-demand run queries. */
  maxOnDemand: number;
}

/** Injection token of `ReconcileOptions`. */
export const RECONCILE_OPTIONS = Symbol('RECONCILE_OPTIONS');

export function reconcileOptions(config: Pick<LedgerConfig, 'reconcile'>): ReconcileOptions {
  const { enabled, awaitingAfterMinutes, horizonDays } = config.reconcile;
  return {
    enabled,
    awaitingAfterMs: awaitingAfterMinutes * 60_000,
    horizonMs: horizonDays * 86_400_000,
    pollMs: 60_000,
    batchSize: 20,
    holdMs: 120_000,
    backoff: { baseMs: 300_000, maxMs: 21_600_000 },
    maxOnDemand: 1_000,
  };
}
