import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { AlipayGateway, GatewayError } from '@ledger/alipay-gateway';
import {
  AnswerRefundBatchCommand,
  MarkRefundBatchOutcomeUnknownCommand,
  StreamReads,
  type CommandContext,
  type RefundBatchDecision,
  type RefundBatchView,
} from '@ledger/commands';
import { randomUUID } from 'node:crypto';
import { LedgerLogger, Pauses, backoffDelayMs } from '@ledger/platform';
import { nopwdAttemptOutcome, nopwdCommand, type NopwdAttemptOutcome } from './nopwd-outcome';
import { RefundBatchSends, type SendClaim } from './refund-batch-sends';
import { RefundRequests } from './refund-requests';
import { REFUNDS_OPTIONS, type RefundsOptions } from './refunds-options';

const CONTEXT = 'RefundSender';

/** What a background sender holds while it sends: its lease (docs/operations.md, "Liveness under faults"). */
export interface SendGuard {
  holding(): boolean;
  readonly signal: AbortSignal;
}

/**
 * Whether the gateway's answer is still awaited: `submitted`, or `outcome_unknown` until a resend is
 * refused (a refusal then is final for that batch_no, docs/product-rules.md, "Refund batches whose outcome
 * is unknown").
 */
function awaitsAnswer(batch: RefundBatchView): boolean {
  if (batch.submitted.mode !== 'nopwd') return false;
  return (
    batch.status === 'submitted' ||
    (batch.status === 'outcome_unknown' && batch.resendRejection === undefined)
  );
}

/** Where a send left the batch. */
export interface NopwdSendResult {
  batch: RefundBatchView;
  /** What the last call told; absent when no call was made (the batch was no longer waiting for one). */
  outcome?: NopwdAttemptOutcome;
  /** Calls made. */
  calls: number;
  /** The write of the gateway's answer, when one was recorded: what to wait for, for read-your-writes. */
  recorded?: RefundBatchDecision;
}

/**
 * Sends nopwd batches that are on record and still waiting for the gateway's answer (docs/operations.md,
 * "Submitting a batch"), never inside a transaction: up to `calls` times, always under the batch's own
 * batch_no and refund_date, pausing between calls; the first answer that says something about the batch is
 * recorded (`RefundBatchAccepted` or `RefundBatchRejected`, the rejection releasing the reservations), and
 * sending stops. Each call is claimed and written down in `refund_batch_sends` before it is made: one
 * instance at a time sends a batch, and once a call may have reached Alipay unanswered (a timeout, a reset,
 * a crash during it) a later `F` releases nothing and a run that ends without an answer records
 * `RefundBatchOutcomeUnknown`. Sends of one batch in this process share one run.
 */
@Injectable()
export class NopwdSender implements BeforeApplicationShutdown {
  private readonly inFlight = new Map<string, Promise<NopwdSendResult>>();
  private readonly stopSignal = new AbortController();
  private readonly pauses = new Pauses();
  /** This process, as the holder of its claims in `refund_batch_sends`. */
  readonly holder = `sender:${randomUUID()}`;

  constructor(
    private readonly gateway: AlipayGateway,
    private readonly sends: RefundBatchSends,
    private readonly reads: StreamReads,
    private readonly bus: CommandBus,
    private readonly requests: RefundRequests,
    private readonly logger: LedgerLogger,
    @Inject(REFUNDS_OPTIONS) private readonly options: RefundsOptions,
  ) {}

  /** Calls in flight give up (`stop`): their batches stay submitted, for the resender after the restart. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopSignal.abort();
    this.pauses.cutShort(true);
    await Promise.allSettled(this.inFlight.values());
  }

  /**
   * Sends the batch (see the class); joins the run already sending it, if any. `fresh`: the batch was
   * submitted by the caller a moment ago, so no call of it can have reached Alipay before this run.
   * `guard`: the caller's lease; no call is made and no answer recorded once it is no longer held.
   */
  send(
    batchNo: string,
    calls: number,
    context: CommandContext = {},
    fresh = false,
    guard?: SendGuard,
  ): Promise<NopwdSendResult> {
    const running = this.inFlight.get(batchNo);
    if (running !== undefined) return running;
    const run = this.run(batchNo, calls, context, fresh, guard).finally(() => this.inFlight.delete(batchNo));
    this.inFlight.set(batchNo, run);
    return run;
  }

  private get stopping(): boolean {
    return this.stopSignal.signal.aborted;
  }

  /** How long a claim lasts: every call of a run fits, with room for recording the answer. */
  private get claimMs(): number {
    return this.options.attemptTimeoutMs + 60_000;
  }

  private async run(
    batchNo: string,
    calls: number,
    context: CommandContext,
    fresh: boolean,
    guard: SendGuard | undefined,
  ): Promise<NopwdSendResult> {
    let batch = await this.reads.refundBatchView(batchNo);
    if (batch === undefined) throw new Error(`batch ${batchNo} was never submitted`);
    let outcome: NopwdAttemptOutcome | undefined;
    let call = 0;
    let claim: SendClaim | undefined;
    // A call of this batch that may have reached Alipay unanswered, in this run or (from the claim) before.
    let unanswered: { code: string; detail: string } | undefined;
    while (call < calls && awaitsAnswer(batch)) {
      if (call > 0) await this.pause(call);
      if (this.stopping || guard?.holding() === false) break;
      // Written before the call: a crash during it leaves the batch in doubt, not forgotten.
      const begun = await this.sends.beginCall(batchNo, this.holder, this.claimMs);
      if (begun === undefined) {
        this.logger.log({ msg: `batch ${batchNo} is being sent by another instance`, batchNo }, CONTEXT);
        break;
      }
      claim = begun;
      if (claim.inDoubt && unanswered === undefined) {
        unanswered = {
          code: claim.doubtCode ?? 'INTERRUPTED',
          detail: claim.doubtDetail ?? 'an earlier call',
        };
      }
      call++;
      outcome = await this.call(batch, guard?.signal);
      // Shutting down: the call's start stays on record, so the next one knows it may have got through.
      if (outcome.kind === 'stop') return { batch, outcome, calls: call };
      if (outcome.kind === 'retry') {
        await this.sends.endCall(batchNo, this.holder, {
          reached: outcome.reached,
          code: outcome.code,
          detail: outcome.message,
        });
        if (outcome.reached) unanswered = { code: outcome.code, detail: outcome.message };
        const message =
          `refund_fastpay_by_platform_nopwd for batch ${batchNo} gave no answer (call ${call}): ` +
          outcome.message;
        // A request that cannot be signed is the configuration's fault, not the gateway's.
        if (outcome.code === 'INVALID_REQUEST') this.logger.error({ msg: message, batchNo }, CONTEXT);
        else this.logger.warn({ msg: message, batchNo, code: outcome.code }, CONTEXT);
        continue;
      }
      if (outcome.kind === 'reject') {
        this.logger.warn(
          {
            msg:
              unanswered === undefined
                ? `Alipay rejected batch ${batchNo} (${outcome.code})`
                : `Alipay refused a resend of batch ${batchNo} (${outcome.code}) after an unanswered call: ` +
                  'its outcome is unknown, the reservations are held until an operator checks Alipay',
            batchNo,
          },
          CONTEXT,
        );
      } else if (outcome.reply === 'DUPLICATE_BATCH_NO' && fresh && call === 1 && !claim.inDoubt) {
        // Still taken as accepted (the batch is held, not released), but Alipay knew this batch_no before
        // the ledger first sent it: a rewound serial sequence, or another system using the partner's numbers.
        this.logger.error(
          {
            msg: `the first call of batch ${batchNo} was answered DUPLICATE_BATCH_NO: check the batch_no serial`,
            batchNo,
          },
          CONTEXT,
        );
      }
      // The lease lapsed during the call: its next holder resends under the same batch_no and records that.
      if (guard?.holding() === false) break;
      const command = nopwdCommand(batchNo, outcome, new Date(), unanswered !== undefined);
      const recorded =
        command === undefined
          ? undefined
          : await this.bus.execute(new AnswerRefundBatchCommand(command, context));
      await this.sends.endCall(batchNo, this.holder);
      await this.sends.release(batchNo, this.holder);
      const after = await this.reads.refundBatchView(batchNo);
      return { batch: after ?? batch, outcome, calls: call, ...(recorded === undefined ? {} : { recorded }) };
    }
    let recorded: RefundBatchDecision | undefined;
    if (claim !== undefined) {
      if (unanswered !== undefined && batch.status === 'submitted' && !this.stopping) {
        // No answer settled it: the batch waits in the open, for a result, an acceptance or an operator.
        recorded = await this.bus.execute(
          new MarkRefundBatchOutcomeUnknownCommand(
            {
              type: 'MarkRefundBatchOutcomeUnknown',
              batchNo,
              code: unanswered.code,
              detail: unanswered.detail,
              at: new Date().toISOString(),
            },
            context,
          ),
        );
        batch = (await this.reads.refundBatchView(batchNo)) ?? batch;
      }
      const retryAfterMs =
        outcome?.kind === 'retry'
          ? backoffDelayMs(this.options.resender.retry, claim.failures + 1)
          : undefined;
      await this.sends.release(batchNo, this.holder, retryAfterMs);
    }
    return {
      batch,
      ...(outcome === undefined ? {} : { outcome }),
      calls: call,
      ...(recorded === undefined ? {} : { recorded }),
    };
  }

  private async call(batch: RefundBatchView, leaseSignal?: AbortSignal): Promise<NopwdAttemptOutcome> {
    const { attemptTimeoutMs } = this.options;
    const timeout = AbortSignal.timeout(attemptTimeoutMs);
    try {
      const acceptance = await this.gateway.refundNopwd(this.requests.nopwd(batch.submitted), {
        signal: AbortSignal.any([
          timeout,
          this.stopSignal.signal,
          ...(leaseSignal === undefined ? [] : [leaseSignal]),
        ]),
      });
      return nopwdAttemptOutcome({ acceptance });
    } catch (error) {
      if (error instanceof GatewayError && error.code === 'ABORTED' && timeout.aborted && !this.stopping) {
        const timedOut = new GatewayError(
          'TIMEOUT',
          `${error.service}: no complete reply within ${attemptTimeoutMs} ms`,
          { service: error.service, retryable: true },
          { cause: error },
        );
        return nopwdAttemptOutcome({ error: timedOut });
      }
      return nopwdAttemptOutcome({ error });
    }
  }

  private pause(call: number): Promise<void> {
    const delays = this.options.retryDelaysMs;
    return this.pauses.sleep(delays[Math.min(call - 1, delays.length - 1)] ?? 0);
  }
}
