import { isEventStoreError } from './event-store-error';

export interface AppendRetryOptions {
  /** How many times `fn` runs at most, the first included. Default 5. */
  attempts?: number;
  /** The backoff before the second attempt; doubles after each failure. Default 5 ms. */
  baseDelayMs?: number;
  /** The longest backoff. Default 250 ms. */
  maxDelayMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs a reload-decide-append function again when it loses an optimistic-concurrency race
 * (`WRONG_EXPECTED_VERSION`) or meets `STREAM_ORDER_CONFLICT`. `fn` must open its own
 * transaction and reload the stream on every call: a retry inside the refused transaction would keep the
 * same transaction id and be refused again. Backoff is exponential with full jitter, so writers that
 * collided spread out instead of colliding again; other errors and the last failure are rethrown.
 */
export async function withAppendRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: AppendRetryOptions = {},
): Promise<T> {
  const { attempts = 5, baseDelayMs = 5, maxDelayMs = 250 } = options;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new RangeError(`attempts must be an integer >= 1, got ${attempts}`);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= attempts || !isEventStoreError(error) || !error.retryable) throw error;
      const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      await sleep(Math.random() * ceiling);
    }
  }
}
