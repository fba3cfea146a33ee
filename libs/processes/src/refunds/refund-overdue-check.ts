import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ExpireRefundBatchCommand, FlagOverdueRefundBatchCommand } from '@ledger/commands';
import { LedgerLogger, WorkerLoop } from '@ledger/platform';
import { ProcessConsumers } from '../consumers/process-consumers';
import { RefundBatchWork, type RefundBatchCheck } from './refund-batch-work';

const CONTEXT = 'RefundOverdueCheck';

export interface RefundOverdueOptions {
  /** A batch submitted this long ago and still without a result is flagged (`refund_result_missing`). */
  timeoutMs: number;
  /** Pause between checks. */
  intervalMs: number;
  /** Batches claimed per query. */
  pageSize: number;
  /**
   * How long a claimed batch is out of the other instances' reach; a claim that recorded nothing (a
   * failed command, a result racing it) is tried again once it lapses.
   */
  claimMs: number;
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
    claimMs: 300_000,
    pwdExpireAfterMs,
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What a check's command did for one batch. */
type Outcome = 'recorded' | 'nothing' | 'failed';

/** How long a pass waits for the work list to hold what was committed before it. */
const CATCH_UP_MS = 2_000;

/**
 * "A record with no result after a configurable time" (docs/operations.md,
 * "Refund results that do not come"): every `intervalMs`, each refund batch submitted (or accepted) more than
 * `REFUND_RESULT_TIMEOUT_MINUTES` ago and still without a result gets `FlagOverdueRefundBatch`, which records
 * `refund_result_missing` on the batch's stream once; and each `pwd` batch unconfirmed after
 * `REFUND_PWD_BATCH_EXPIRE_AFTER_HOURS` gets `ExpireRefundBatch`. The batches are claimed from the work list
 * the `refund_batch_work` consumer keeps (`RefundBatchWork`), so several instances share them; the decider
 * judges from the stream itself, so a result racing the check, or a list that lags, still records the flag
 * at most once and never after the result.
 */
@Injectable()
export class RefundOverdueCheck implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly loop: WorkerLoop;

  constructor(
    private readonly work: RefundBatchWork,
    private readonly consumers: ProcessConsumers,
    private readonly bus: CommandBus,
    private readonly logger: LedgerLogger,
    @Inject(REFUND_OVERDUE_OPTIONS) private readonly options: RefundOverdueOptions,
  ) {
    // No lease: each batch is claimed on its own (RefundBatchWork.claimDue).
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
  runOnce(now: Date = new Date()): Promise<string[]> {
    return this.pass('result', now, this.options.timeoutMs, (batchNo) => this.flag(batchNo, now));
  }

  /**
   * Expires, as of `now`, every `pwd` batch still waiting for the merchant's confirmation
   * `REFUND_PWD_BATCH_EXPIRE_AFTER_HOURS` after its submission (docs/product-rules.md, "Operator
   * resolutions"): `RefundBatchExpired`, each reservation released. Resolves with the batch numbers it
   * expired. The decider judges from the stream: a result or a cancellation racing the check wins.
   */
  expireOnce(now: Date = new Date()): Promise<string[]> {
    return this.pass('expiry', now, this.options.pwdExpireAfterMs, (batchNo) => this.expire(batchNo, now));
  }

  private async pass(
    check: RefundBatchCheck,
    now: Date,
    afterMs: number,
    act: (batchNo: string) => Promise<Outcome>,
  ): Promise<string[]> {
    await this.catchUp();
    const { pageSize, claimMs } = this.options;
    const done: string[] = [];
    const failed: string[] = [];
    let claimed: string[];
    do {
      if (!this.loop.holding()) break;
      claimed = await this.work.claimDue(check, now, afterMs, pageSize, claimMs);
      // Each claimed batch is out of reach until its claim lapses: the next page holds others.
      for (const batchNo of claimed) {
        // Stopping: the rest of the page is given back for the others.
        if (!this.loop.holding()) {
          failed.push(batchNo);
          continue;
        }
        const outcome = await act(batchNo);
        if (outcome === 'recorded') done.push(batchNo);
        if (outcome === 'failed') failed.push(batchNo);
      }
    } while (claimed.length === pageSize);
    // A failure is tried again at the next check, not in this one (nor one given back); a batch the decider had nothing to do
    // for (a result came meanwhile) leaves the list once the consumer applies that event, claimed till then.
    for (const batchNo of failed) await this.work.release(check, batchNo);
    return done;
  }

  /** The work list as of the pass's start, or as far as it got: a late consumer delays a batch, no more. */
  private async catchUp(): Promise<void> {
    try {
      await this.consumers.refundWorkCaughtUp(CATCH_UP_MS);
    } catch (error) {
      this.logger.warn(
        { msg: `the refund batch work list is behind: ${errorMessage(error)}`, err: error },
        CONTEXT,
      );
    }
  }

  private async expire(batchNo: string, now: Date): Promise<Outcome> {
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
      if (decision.events.length === 0) return 'nothing';
      this.logger.warn(
        {
          msg: `pwd refund batch ${batchNo} was never confirmed: expired, its reservations released`,
          batchNo,
        },
        CONTEXT,
      );
      return 'recorded';
    } catch (error) {
      this.logger.warn(
        { msg: `pwd refund batch ${batchNo} could not be expired: ${errorMessage(error)}`, err: error },
        CONTEXT,
      );
      return 'failed';
    }
  }

  private async flag(batchNo: string, now: Date): Promise<Outcome> {
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
      if (decision.events.length === 0) return 'nothing';
      this.logger.warn(
        { msg: `refund batch ${batchNo} has no result after the timeout: flagged`, batchNo },
        CONTEXT,
      );
      return 'recorded';
    } catch (error) {
      // One batch that cannot be flagged now does not stop the others; the next check tries again.
      this.logger.warn(
        { msg: `refund batch ${batchNo} could not be checked: ${errorMessage(error)}`, err: error },
        CONTEXT,
      );
      return 'failed';
    }
  }
}
