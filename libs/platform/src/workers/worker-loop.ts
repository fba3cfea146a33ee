import type { LedgerLogger } from '../logging/ledger-logger';
import { Backoff, type BackoffPolicy } from './backoff';
import { Pauses } from './pauses';
import { WakeSignal } from './wake-signal';
import { type LeaseTable, type LeaseTiming, type MonotonicClock, WorkerLease } from './worker-lease';

/**
 * What a pass found: `true` when more work may be waiting (the next pass starts at once), `false` when
 * there was nothing more (pause for `pollMs` or until woken), or the milliseconds until work it put off is
 * due (pause for that, at most `pollMs`, or until woken).
 */
export type PassResult = boolean | number;

/** After a failed pass: 100 ms, doubling, at most 5 s, jittered (instances fail together when the database does). */
export const DEFAULT_FAILURE_BACKOFF: BackoffPolicy = { baseMs: 100, maxMs: 5_000, jitter: true };

export interface WorkerLoopOptions {
  /** The worker's name: its lease, and the context of its log lines. */
  name: string;
  /**
   * One instance at a time runs the loop, the holder of the worker's lease; one without it tries to take it
   * every `retryMs`. The same on both databases (on the embedded one there is only ever one instance).
   */
  lease?: {
    table: Pick<LeaseTable, 'take' | 'renew' | 'give'>;
    retryMs: number;
    timing?: LeaseTiming;
    clock?: MonotonicClock;
  };
  /**
   * The longest pause after a pass that found nothing more to do. `wake()` cuts it short: a loop woken by
   * the event store's hints polls only as a fallback for a lost hint.
   */
  pollMs: number;
  /** The pause before a failed pass is tried again. Default `DEFAULT_FAILURE_BACKOFF`. */
  failureBackoff?: BackoffPolicy;
  logger: LedgerLogger;
  /** One pass over the work. */
  pass: () => Promise<PassResult>;
}

/** Thrown by a pass that finds its lease lapsed before an action: the pass stops, nothing more is done. */
export class LeaseLapsedError extends Error {
  constructor(worker: string) {
    super(`${worker} no longer holds its lease`);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The loop of a background worker (docs/operations.md, "Liveness under faults"): passes until stopped, an
 * idle pause between them that `wake` and `stop` cut short, a failed pass logged and retried after a
 * backoff, and a lease so that one instance at a time works. A pass checks `holding()` (or `assertHolding()`) before each action that leaves the process
 * (a hook, a gateway call, an append) and passes `signal` to the calls it makes.
 */
export class WorkerLoop {
  private readonly stopSignal = new AbortController();
  private readonly lease?: { holder: WorkerLease; retryMs: number };
  private lastToken?: number;
  private readonly pauses = new Pauses();
  private readonly hints = new WakeSignal();
  private readonly failures: Backoff;
  private loop?: Promise<void>;

  constructor(private readonly options: WorkerLoopOptions) {
    this.failures = new Backoff(options.failureBackoff ?? DEFAULT_FAILURE_BACKOFF);
    if (options.lease !== undefined) {
      this.lease = {
        holder: new WorkerLease(options.lease.table, options.name, options.lease.timing, options.lease.clock),
        retryMs: options.lease.retryMs,
      };
    }
  }

  /** Aborts when the loop is stopping or the lease lapses: for the calls a pass makes (hooks, the gateway). */
  get signal(): AbortSignal {
    return this.lease === undefined
      ? this.stopSignal.signal
      : AbortSignal.any([this.stopSignal.signal, this.lease.holder.signal]);
  }

  /** Whether the pass may act now: not stopping, and its lease (if any) still valid by the local clock. */
  holding(): boolean {
    return !this.stopping && (this.lease === undefined || this.lease.holder.holding());
  }

  /** Throws `LeaseLapsedError` unless `holding()`: call it right before each action. */
  assertHolding(): void {
    if (!this.holding()) throw new LeaseLapsedError(this.options.name);
  }

  /** The fencing token of the lease held now, if any. */
  get fencingToken(): number | undefined {
    return this.lease?.holder.token;
  }

  get stopping(): boolean {
    return this.stopSignal.signal.aborted;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Starts the next pass now if the loop is idle, or right after the pass in flight (new work is there). */
  wake(): void {
    this.hints.notify();
  }

  /** Stops after the pass in flight, and gives the lease back. */
  async stop(): Promise<void> {
    this.stopSignal.abort();
    this.pauses.cutShort(true);
    this.hints.notify();
    await this.loop;
    await this.lease?.holder.release();
  }

  private async run(): Promise<void> {
    const { pollMs, logger, name, pass } = this.options;
    while (!this.stopping) {
      try {
        if (this.lease !== undefined && !(await this.takeLease())) {
          await this.pauses.sleep(this.lease.retryMs);
          continue;
        }
        const result = await pass();
        this.failures.reset();
        if (result !== true && !this.stopping) {
          await this.hints.wait(result === false ? pollMs : Math.max(0, Math.min(result, pollMs)));
        }
      } catch (error) {
        if (error instanceof LeaseLapsedError) {
          if (!this.stopping) logger.warn(`${name}: the lease lapsed during a pass; the pass stopped`, name);
          continue;
        }
        // The database is away, or the pass's own code failed: try again after the backoff.
        const delay = this.failures.next();
        logger.warn(
          { msg: `${name} pass failed, retrying in ${delay} ms: ${errorMessage(error)}`, err: error },
          name,
        );
        await this.pauses.sleep(delay);
      }
    }
  }

  /**
   * Holds the lease (keeps it, or takes it when free); true without a lease. The loop calls it before each
   * pass; a pass stepped by hand (tests) calls it first.
   */
  async takeLease(): Promise<boolean> {
    if (this.lease === undefined) return !this.stopping;
    const { holder } = this.lease;
    if (!(await holder.acquire())) return false;
    const token = holder.token;
    if (token !== undefined && token !== this.lastToken) {
      this.lastToken = token;
      this.options.logger.log(
        `${this.options.name} holds its lease (fencing token ${token})`,
        this.options.name,
      );
    }
    return true;
  }
}
