import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { AlipayGateway, GatewayError } from '@ledger/alipay-gateway';
import {
  AnswerRefundBatchCommand,
  StreamReads,
  type CommandContext,
  type RefundBatchDecision,
  type RefundBatchView,
} from '@ledger/commands';
import { LedgerLogger, Pauses } from '@ledger/platform';
import { nopwdAttemptOutcome, nopwdCommand, type NopwdAttemptOutcome } from './nopwd-outcome';
import { RefundRequests } from './refund-requests';
import { REFUNDS_OPTIONS, type RefundsOptions } from './refunds-options';

const CONTEXT = 'RefundSender';

/** What a background sender holds while it sends: its lease (docs/operations.md, "Liveness under faults"). */
export interface SendGuard {
  holding(): boolean;
  readonly signal: AbortSignal;
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
 * Sends nopwd batches that are on record and still `submitted` (docs/operations.md, "Submitting a batch"),
 * never inside a transaction: up to `calls` times, always under the batch's own batch_no and refund_date,
 * pausing between calls; the first answer that says something about the batch is recorded
 * (`RefundBatchAccepted` or `RefundBatchRejected`, the rejection releasing the reservations), and sending
 * stops. Sends of one batch in this process share one run: `POST /refunds`, a client's retry of it and the
 * resender never call the gateway for the same batch at the same time.
 */
@Injectable()
export class NopwdSender implements BeforeApplicationShutdown {
  private readonly inFlight = new Map<string, Promise<NopwdSendResult>>();
  private readonly stopSignal = new AbortController();
  private readonly pauses = new Pauses();

  constructor(
    private readonly gateway: AlipayGateway,
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

  private async run(
    batchNo: string,
    calls: number,
    context: CommandContext,
    fresh: boolean,
    guard: SendGuard | undefined,
  ): Promise<NopwdSendResult> {
    const batch = await this.reads.refundBatchView(batchNo);
    if (batch === undefined) throw new Error(`batch ${batchNo} was never submitted`);
    let outcome: NopwdAttemptOutcome | undefined;
    let call = 0;
    while (call < calls && batch.status === 'submitted' && batch.submitted.mode === 'nopwd') {
      if (call > 0) await this.pause(call);
      if (this.stopping || guard?.holding() === false) break;
      call++;
      outcome = await this.call(batch, guard?.signal);
      if (outcome.kind === 'stop') break;
      if (outcome.kind === 'retry') {
        const message =
          `refund_fastpay_by_platform_nopwd for batch ${batchNo} gave no answer (call ${call}): ` +
          outcome.message;
        // A request that cannot be signed is the configuration's fault, not the gateway's.
        if (outcome.code === 'INVALID_REQUEST') this.logger.error({ msg: message, batchNo }, CONTEXT);
        else this.logger.warn({ msg: message, batchNo, code: outcome.code }, CONTEXT);
        continue;
      }
      if (outcome.kind === 'reject') {
        this.logger.warn({ msg: `Alipay rejected batch ${batchNo} (${outcome.code})`, batchNo }, CONTEXT);
      } else if (outcome.reply === 'DUPLICATE_BATCH_NO' && fresh && call === 1) {
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
      const command = nopwdCommand(batchNo, outcome, new Date());
      const recorded =
        command === undefined
          ? undefined
          : await this.bus.execute(new AnswerRefundBatchCommand(command, context));
      const after = await this.reads.refundBatchView(batchNo);
      return { batch: after ?? batch, outcome, calls: call, ...(recorded === undefined ? {} : { recorded }) };
    }
    return { batch, ...(outcome === undefined ? {} : { outcome }), calls: call };
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
