import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ExpireRefundBatchCommand, FlagOverdueRefundBatchCommand } from '@ledger/commands';
import { LedgerLogger, WorkerLoop } from '@ledger/platform';
import { RefundBatchQueries } from '@ledger/projections';

const CONTEXT = 'RefundOverdueCheck';

export interface RefundOverdueOptions {
  /** A batch submitted this long ago and still without a result is flagged (`refund_result_missing`). */
  timeoutMs: number;
  /** Pause between checks. */
  intervalMs: number;
  /** Batches read per query. */
  pageSize: number;
  /** A `pwd` batch unconfirmed this long after its submission expires (`REFUND_PWD_BATCH_EXPIRE_AFTER_HOURS`). */
  pwdExpireAfterMs: number;
}

/** Injection token of the check's `RefundOverdueOptions`. */
export const REFUND_OVERDUE_OPTIONS = Symbol('REFUND_OVERDUE_OPTIONS');

/**
 * The check runs a few times per timeout, at most once a minute: a batch is flagged at most a quarter of
 * the timeout (or a minute) late.
 */
export function refundOverdueOptions(
  resultTimeoutMinutes: number,
  pwdBatchExpireAfterHours: number,
): RefundOverdueOptions {
  const timeoutMs = Math.round(resultTimeoutMinutes * 60_000);
  const pwdExpireAfterMs = Math.round(pwdBatchExpireAfterHours * 3_600_000);
  const shortest = Math.min(timeoutMs, pwdExpireAfterMs);
  return {
    timeoutMs,
    intervalMs: Math.min(60_000, Math.max(200, Math.round(shortest / 4))),
    pageSize: 100,
    pwdExpireAfterMs,
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * "A record with no result after a configurable time" (docs/operations.md,
 * "Refund results that do not come"): every `intervalMs`, each refund batch submitted (or accepted) more than
 * `REFUND_RESULT_TIMEOUT_MINUTES` ago and still without a result gets `FlagOverdueRefundBatch`, which records
 * `refund_result_missing` on the batch's stream once. The batches come from the refund batch projection,
 * which may lag; the decider judges from the stream itself, so a result racing the check, or two ledgers
 * checking at once, still record the flag at most once and never after the result.
 */
@Injectable()
export class RefundOverdueCheck implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly loop: WorkerLoop;

  constructor(
    private readonly queries: RefundBatchQueries,
    private readonly bus: CommandBus,
    private readonly logger: LedgerLogger,
    @Inject(REFUND_OVERDUE_OPTIONS) private readonly options: RefundOverdueOptions,
  ) {
    // No lease: the decider makes a second instance's check harmless.
    this.loop = new WorkerLoop({
      name: CONTEXT,
      pollMs: options.intervalMs,
      logger,
      pass: async () => {
        const now = new Date();
        await this.runOnce(now);
        await this.expireOnce(now);
        return false;
      },
    });
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  /** Stops before the database closes; a check in flight finishes first. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /**
   * One check as of `now`: resolves with the batch numbers it flagged. The loop calls it; tests call it
   * to step the check (with a `now` of their choosing).
   */
  async runOnce(now: Date = new Date()): Promise<string[]> {
    const submittedBefore = new Date(now.getTime() - this.options.timeoutMs);
    const flagged: string[] = [];
    for (const state of ['submitted', 'outcome_unknown', 'accepted'] as const) {
      let cursor: string | undefined;
      do {
        const page = await this.queries.list(
          { state, to: submittedBefore, limit: this.options.pageSize },
          cursor,
        );
        for (const { batchNo, anomalies } of page.items) {
          if (anomalies.some((anomaly) => anomaly.kind === 'refund_result_missing')) continue;
          if (!this.loop.holding()) break;
          if (await this.flag(batchNo, now)) flagged.push(batchNo);
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined && this.loop.holding());
    }
    return flagged;
  }

  /**
   * Expires, as of `now`, every `pwd` batch still waiting for the merchant's confirmation
   * `REFUND_PWD_BATCH_EXPIRE_AFTER_HOURS` after its submission (docs/product-rules.md, "Operator
   * resolutions"): `RefundBatchExpired`, each reservation released. Resolves with the batch numbers it
   * expired. The decider judges from the stream: a result or a cancellation racing the check wins.
   */
  async expireOnce(now: Date = new Date()): Promise<string[]> {
    const submittedBefore = new Date(now.getTime() - this.options.pwdExpireAfterMs);
    const expired: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.queries.list(
        { state: 'submitted', mode: 'pwd', to: submittedBefore, limit: this.options.pageSize },
        cursor,
      );
      for (const { batchNo } of page.items) {
        if (!this.loop.holding()) break;
        if (await this.expire(batchNo, now)) expired.push(batchNo);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined && this.loop.holding());
    return expired;
  }

  private async expire(batchNo: string, now: Date): Promise<boolean> {
    try {
      const decision = await this.bus.execute(
        new ExpireRefundBatchCommand(
          {
            type: 'ExpireRefundBatch',
            batchNo,
            checkedAt: now.toISOString(),
            expireAfterMs: this.options.pwdExpireAfterMs,
          },
          { causationId: `refund-pwd-expiry:${now.toISOString()}` },
        ),
      );
      if (decision.events.length === 0) return false;
      this.logger.warn(
        {
          msg: `pwd refund batch ${batchNo} was never confirmed: expired, its reservations released`,
          batchNo,
        },
        CONTEXT,
      );
      return true;
    } catch (error) {
      this.logger.warn(
        { msg: `pwd refund batch ${batchNo} could not be expired: ${errorMessage(error)}`, err: error },
        CONTEXT,
      );
      return false;
    }
  }

  private async flag(batchNo: string, now: Date): Promise<boolean> {
    try {
      const decision = await this.bus.execute(
        new FlagOverdueRefundBatchCommand(
          {
            type: 'FlagOverdueRefundBatch',
            batchNo,
            checkedAt: now.toISOString(),
            overdueAfterMs: this.options.timeoutMs,
          },
          { causationId: `refund-overdue-check:${now.toISOString()}` },
        ),
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
}
