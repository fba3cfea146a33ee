import type { BackoffPolicy } from '@ledger/platform';

export interface FulfilmentOptions {
  /** Whether the worker runs in this process. */
  enabled: boolean;
  /**
   * The longest pause between passes over the work lists when the last one found nothing to do: the worker
   * wakes when a projection changes, so this only covers a lost hint.
   */
  pollMs: number;
  /** Orders read per work list and pass. */
  batchSize: number;
  /** How often an instance without the lease (PostgreSQL) tries to take it over. */
  leaseRetryMs: number;
  /** Backoff after the fulfilment hook failed for an order; it is retried for as long as it is due. */
  deliveryRetry: BackoffPolicy;
  /** Backoff between `send_goods_confirm_by_platform` attempts, and how many attempts at most. */
  shippingRetry: BackoffPolicy & { maxAttempts: number };
}

/** Injection token of the worker's `FulfilmentOptions`. */
export const FULFILMENT_OPTIONS = Symbol('FULFILMENT_OPTIONS');

/**
 * Shipping: 2 s, 4 s, 8 s ... capped at 10 min, 20 attempts (about two hours), well inside the days an
 * escrow trade waits for its seller to ship. The fulfilment hook: from 1 s, capped at 5 min, without end.
 */
export const DEFAULT_FULFILMENT_OPTIONS: FulfilmentOptions = {
  enabled: true,
  pollMs: 5_000,
  batchSize: 100,
  leaseRetryMs: 5_000,
  deliveryRetry: { baseMs: 1_000, maxMs: 300_000 },
  shippingRetry: { baseMs: 2_000, maxMs: 600_000, maxAttempts: 20 },
};
