/** Exponential backoff: `baseMs`, doubled at each failure, at most `maxMs`. */
export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
}

/** The pause after the `failures`-th failure in a row (1-based). */
export function retryDelayMs(policy: RetryPolicy, failures: number): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
}
