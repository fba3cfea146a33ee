/**
 * Exponential backoff: `baseMs`, doubled at each failure in a row, at most `maxMs`. With `jitter`, each
 * delay is drawn from its upper half, so that instances failing together (a database restart) do not all
 * come back in the same instant; a jittered delay is never longer than the plain one.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  jitter?: boolean;
}

/** The pause after the `failures`-th failure in a row (1-based). `random` is in [0, 1), as Math.random. */
export function backoffDelayMs(
  policy: BackoffPolicy,
  failures: number,
  random: () => number = Math.random,
): number {
  const delay = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return policy.jitter === true ? Math.round(delay / 2 + (delay / 2) * random()) : delay;
}

/** The failures of one loop in a row, and the pause each calls for; a success starts again from the base. */
export class Backoff {
  private failuresInARow = 0;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  /** Counts one more failure; resolves the pause before the next try. */
  next(): number {
    this.failuresInARow++;
    return backoffDelayMs(this.policy, this.failuresInARow, this.random);
  }

  reset(): void {
    this.failuresInARow = 0;
  }

  get failures(): number {
    return this.failuresInARow;
  }
}
