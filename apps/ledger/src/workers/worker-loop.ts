import type { LedgerLogger } from '@ledger/platform';
import { type LeaseTable, type LeaseTiming, type MonotonicClock, WorkerLease } from './worker-lease';

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
  /** The pause after a pass that found nothing more to do, or that failed. */
  pollMs: number;
  logger: LedgerLogger;
  /** One pass over the work; resolves true when more work may be waiting (the next pass starts at once). */
  pass: () => Promise<boolean>;
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
 * The loop of a background worker in the ledger process: passes until stopped, a pause between them that
 * `stop` cuts short, a failed pass logged and retried after the pause, and a lease so that one instance at
 * a time works. A pass checks `holding()` (or `assertHolding()`) before each action that leaves the process
 * (a hook, a gateway call, an append) and passes `signal` to the calls it makes.
 */
export class WorkerLoop {
  private readonly stopSignal = new AbortController();
  private readonly lease?: { holder: WorkerLease; retryMs: number };
  private lastToken?: number;
  private readonly sleepers = new Set<() => void>();
  private loop?: Promise<void>;

  constructor(private readonly options: WorkerLoopOptions) {
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

  /** Stops after the pass in flight, and gives the lease back. */
  async stop(): Promise<void> {
    this.stopSignal.abort();
    this.sleepers.forEach((wake) => wake());
    await this.loop;
    await this.lease?.holder.release();
  }

  private async run(): Promise<void> {
    const { pollMs, logger, name, pass } = this.options;
    while (!this.stopping) {
      try {
        if (this.lease !== undefined && !(await this.takeLease())) {
          await this.sleep(this.lease.retryMs);
        } else if (!(await pass())) {
          await this.sleep(pollMs);
        }
      } catch (error) {
        if (error instanceof LeaseLapsedError) {
          if (!this.stopping) logger.warn(`${name}: the lease lapsed during a pass; the pass stopped`, name);
          continue;
        }
        // The database is away, or the pass's own code failed: try again after the pause.
        logger.warn({ msg: `${name} pass failed, retrying: ${errorMessage(error)}`, err: error }, name);
        await this.sleep(pollMs);
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

  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
