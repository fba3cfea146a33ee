import type { LedgerLogger } from '@ledger/platform';
import type { DataSource } from 'typeorm';
import { WorkerLease } from './worker-lease';

export interface WorkerLoopOptions {
  /** The worker's name: its lease on PostgreSQL, and the context of its log lines. */
  name: string;
  /**
   * Given on PostgreSQL, where instances share the database: one at a time runs the loop, and one without
   * the lease tries to take it over every `retryMs`.
   */
  lease?: { dataSource: DataSource; retryMs: number };
  /** The pause after a pass that found nothing more to do, or that failed. */
  pollMs: number;
  logger: LedgerLogger;
  /** One pass over the work; resolves true when more work may be waiting (the next pass starts at once). */
  pass: () => Promise<boolean>;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The loop of a background worker in the ledger process: passes until stopped, a pause between them that
 * `stop` cuts short, a failed pass logged and retried after the pause, and on PostgreSQL a lease so that
 * one instance at a time works (another takes over when its session ends).
 */
export class WorkerLoop {
  private readonly stopSignal = new AbortController();
  private readonly lease?: { holder: WorkerLease; retryMs: number };
  private readonly sleepers = new Set<() => void>();
  private loop?: Promise<void>;

  constructor(private readonly options: WorkerLoopOptions) {
    if (options.lease !== undefined) {
      this.lease = {
        holder: new WorkerLease(options.lease.dataSource, options.name),
        retryMs: options.lease.retryMs,
      };
    }
  }

  /** Aborts when the loop is stopping: for the calls a pass makes (hooks, the gateway). */
  get signal(): AbortSignal {
    return this.stopSignal.signal;
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
  }

  private async run(): Promise<void> {
    const { pollMs, logger, name, pass } = this.options;
    while (!this.stopping) {
      try {
        if (this.lease !== undefined && !(await this.lease.holder.acquire())) {
          await this.sleep(this.lease.retryMs);
        } else if (!(await pass())) {
          await this.sleep(pollMs);
        }
      } catch (error) {
        // The database is away, or the pass's own code failed: try again after the pause.
        logger.warn({ msg: `${name} pass failed, retrying: ${errorMessage(error)}`, err: error }, name);
        await this.sleep(pollMs);
      }
    }
    await this.lease?.holder.release().catch(() => undefined);
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
