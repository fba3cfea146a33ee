import type { BackoffPolicy } from '@ledger/platform';

/** How nopwd batches are sent: in `POST /refunds`, then by the resender until the gateway answers. */
export interface RefundsOptions {
  /** Gateway calls in `POST /refunds`, the first one included. */
  attempts: number;
  /** One call's limit; past it the call is abandoned as a timeout and retried under the same batch_no. */
  attemptTimeoutMs: number;
  /** The pause before each further call of the request (the last value repeats). */
  retryDelaysMs: readonly number[];
  resender: {
    /** Whether the resender runs in this process. */
    enabled: boolean;
    /** Pause between passes. */
    pollMs: number;
    /** A batch is resent only this long after its submission: `POST /refunds` is done with it by then. */
    minAgeMs: number;
    /** Backoff between resends of one batch while the gateway gives no answer. */
    retry: BackoffPolicy;
  };
}

/** Injection token of `RefundsOptions`. */
export const REFUNDS_OPTIONS = Symbol('REFUNDS_OPTIONS');

/**
 * Three calls of at most 10 s in the request (about 31 s at worst; Alipay answers in about a second); then a
 * resend from 2 min after the submission, 1 min, 2 min, 4 min ... capped at 30 min, until Alipay answers.
 */
export const DEFAULT_REFUNDS_OPTIONS: RefundsOptions = {
  attempts: 3,
  attemptTimeoutMs: 10_000,
  retryDelaysMs: [250, 1_000],
  resender: {
    enabled: true,
    pollMs: 30_000,
    minAgeMs: 120_000,
    retry: { baseMs: 60_000, maxMs: 1_800_000 },
  },
};
