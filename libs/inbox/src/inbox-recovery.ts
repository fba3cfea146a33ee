import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LedgerLogger } from '@ledger/platform';
import { InboxStore } from './inbox-store';

/**
 * A notification still `received` after this long was being processed by a process that stopped: no
 * processing takes that long (notify_verify times out well before, transactions are short).
 */
export const INTERRUPTED_AFTER_MS = 60_000;
const SWEEP_EVERY_MS = 60_000;
/**
 * After the first sweep, a sweep reads only rows received since the last cutoff, less this margin (clock
 * drift between the ledger, which dates rows, and the database, which dates the cutoff).
 */
const SWEEP_OVERLAP_MS = 10 * 60_000;

/**
 * Gives every inbox row an outcome (docs/operations.md, "What happens to a notification"): rows left
 * `received` by a process killed mid-way are marked `failed` (`interrupted`), at start (the whole inbox) and
 * then every minute (what came since). Nothing was acknowledged for them, so Alipay's retry (same notify_id)
 * completes them as new rows.
 */
@Injectable()
export class InboxRecovery implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<unknown>;
  /** Everything received before this was swept (undefined until the first full sweep). */
  private sweptBefore?: Date;

  constructor(
    private readonly inbox: InboxStore,
    private readonly logger: LedgerLogger,
  ) {}

  onApplicationBootstrap(): void {
    this.sweeping = this.sweepLogged();
    this.timer = setInterval(() => {
      this.sweeping = this.sweepLogged();
    }, SWEEP_EVERY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  /** Marks the rows left `received` for longer than `olderThanMs` as interrupted; returns their ids. */
  async sweep(olderThanMs = INTERRUPTED_AFTER_MS): Promise<number[]> {
    const since =
      this.sweptBefore === undefined ? undefined : new Date(this.sweptBefore.getTime() - SWEEP_OVERLAP_MS);
    const { ids, cutoff } = await this.inbox.markInterrupted(olderThanMs, since);
    if (this.sweptBefore === undefined || cutoff > this.sweptBefore) this.sweptBefore = cutoff;
    if (ids.length > 0) {
      this.logger.warn(`notifications ${ids.join(', ')} were interrupted; Alipay retries them`, 'Ingest');
    }
    return ids;
  }

  private sweepLogged(): Promise<unknown> {
    return this.sweep().catch((error: unknown) => {
      this.logger.warn(`the inbox sweep failed: ${String(error)}`, 'Ingest');
    });
  }
}
