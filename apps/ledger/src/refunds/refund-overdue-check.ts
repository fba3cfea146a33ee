import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { batchNoOfStream } from '@ledger/domain';
import { RefundBatchCommands } from '@ledger/ingest';
import { LedgerLogger } from '@ledger/platform';
import { DataSource } from 'typeorm';

const CONTEXT = 'RefundOverdueCheck';

export interface RefundOverdueOptions {
  /** A batch submitted this long ago and still without a result is flagged (`refund_result_missing`). */
  timeoutMs: number;
  /** Pause between checks. */
  intervalMs: number;
  /** Batches read per query. */
  pageSize: number;
}

/** Injection token of the check's `RefundOverdueOptions`. */
export const REFUND_OVERDUE_OPTIONS = Symbol('REFUND_OVERDUE_OPTIONS');

/**
 * The check runs a few times per timeout, at most once a minute: a batch is flagged at most a quarter of
 * the timeout (or a minute) late.
 */
export function refundOverdueOptions(resultTimeoutMinutes: number): RefundOverdueOptions {
  const timeoutMs = Math.round(resultTimeoutMinutes * 60_000);
  return { timeoutMs, intervalMs: Math.min(60_000, Math.max(200, Math.round(timeoutMs / 4))), pageSize: 100 };
}

/**
 * Batch streams submitted before `$1`, after the keyset `($2, $3)`, with neither a result nor a rejection
 * nor an overdue flag yet. Read from the event store itself, so the check never depends on a projection's
 * lag; the `events` lookups use the (stream_id, version) index, a batch stream holding a handful of events.
 */
const OPEN_BATCHES_SQL = `
  SELECT s.stream_id, s.created_at FROM streams s
  WHERE s.stream_id LIKE 'refund-batch-%'
    AND s.created_at <= $1
    AND (s.created_at, s.stream_id) > ($2::timestamptz, $3::text)
    AND NOT EXISTS (
      SELECT 1 FROM events e
      WHERE e.stream_id = s.stream_id
        AND (e.type IN ('RefundBatchCompleted', 'RefundBatchRejected')
             OR (e.type = 'AnomalyDetected' AND e.data->>'kind' = 'refund_result_missing')))
  ORDER BY s.created_at, s.stream_id
  LIMIT $4`;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Issue 5 §3, "a record with no result after a configurable time": every `intervalMs`, each refund batch
 * submitted (or accepted) more than `REFUND_RESULT_TIMEOUT_MINUTES` ago and still without a result gets
 * `FlagOverdueRefundBatch`, which records `refund_result_missing` on the batch's stream once. The decider
 * judges from the stream itself, so two ledgers checking at once, or a result racing the check, still
 * record the flag at most once and never after the result.
 */
@Injectable()
export class RefundOverdueCheck implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly batches: RefundBatchCommands,
    private readonly logger: LedgerLogger,
    @Inject(REFUND_OVERDUE_OPTIONS) private readonly options: RefundOverdueOptions,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  /** Stops before the database closes; a check in flight finishes first. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /**
   * One check as of `now`: resolves with the batch numbers it flagged. The timer calls it; tests call it
   * to step the check (with a `now` of their choosing).
   */
  async runOnce(now: Date = new Date()): Promise<string[]> {
    const submittedBefore = new Date(now.getTime() - this.options.timeoutMs);
    const flagged: string[] = [];
    let after: [string, string] = ['-infinity', ''];
    for (;;) {
      const rows = await this.dataSource.query<{ stream_id: string; created_at: Date | string }[]>(
        OPEN_BATCHES_SQL,
        [submittedBefore, after[0], after[1], this.options.pageSize],
      );
      for (const { stream_id: streamId } of rows) {
        const batchNo = batchNoOfStream(streamId);
        if (batchNo !== undefined && (await this.flag(batchNo, now))) flagged.push(batchNo);
      }
      if (rows.length < this.options.pageSize) break;
      const last = rows[rows.length - 1];
      after = [new Date(last.created_at).toISOString(), last.stream_id];
    }
    return flagged;
  }

  private async flag(batchNo: string, now: Date): Promise<boolean> {
    try {
      const decision = await this.batches.execute(
        {
          type: 'FlagOverdueRefundBatch',
          batchNo,
          checkedAt: now.toISOString(),
          overdueAfterMs: this.options.timeoutMs,
        },
        { causationId: `refund-overdue-check:${now.toISOString()}` },
      );
      if (decision.events.length === 0) return false;
      this.logger.warn(
        { msg: `refund batch ${batchNo} has no result after the timeout: flagged`, batchNo },
        CONTEXT,
      );
      return true;
    } catch (error) {
      // One batch that cannot be flagged now does not stop the others; the next check tries again.
      this.logger.warn(
        { msg: `refund batch ${batchNo} could not be checked: ${errorMessage(error)}`, err: error },
        CONTEXT,
      );
      return false;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .catch((error: unknown) => {
          // The database is away: the next check tries again.
          this.logger.warn(
            { msg: `refund overdue check failed: ${errorMessage(error)}`, err: error },
            CONTEXT,
          );
        })
        .finally(() => this.schedule());
    }, this.options.intervalMs);
    // A pending check never keeps a process alive on its own.
    this.timer.unref();
  }
}
