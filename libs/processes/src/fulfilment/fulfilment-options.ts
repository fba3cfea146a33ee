import type { BackoffPolicy } from '@ledger/platform';

export interface FulfilmentOptions {
  /** Whether this process runs the fulfilment consumer, the webhooks and the shipping confirmations. */
  enabled: boolean;
  /** The longest pause of the shipping worker when nothing is due and no hint came. */
  pollMs: number;
  /** Shipping confirmations claimed per pass. */
  batchSize: number;
  /** How long a claimed shipping confirmation is held before another instance may take it over. */
  claimMs: number;
  /** Backoff between `send_goods_confirm_by_platform` attempts, and how many attempts at most. */
  shippingRetry: BackoffPolicy & { maxAttempts: number };
}

/** Injection token of `FulfilmentOptions`. */
export const FULFILMENT_OPTIONS = Symbol('FULFILMENT_OPTIONS');

/**
 * Shipping: 2 s, 4 s, 8 s ... capped at 10 min, 20 attempts (about two hours), well inside the days an
 * escrow trade waits for its seller to ship. A claim outlives the gateway's 15 s limit.
 */
export const DEFAULT_FULFILMENT_OPTIONS: FulfilmentOptions = {
  enabled: true,
  pollMs: 5_000,
  batchSize: 50,
  claimMs: 20_000,
  shippingRetry: { baseMs: 2_000, maxMs: 600_000, maxAttempts: 20 },
};
