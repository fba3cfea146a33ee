import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { LedgerLogger, WorkerLoop } from '@ledger/platform';
import { ProcessConsumers } from '../consumers/process-consumers';
import { NopwdSender } from './nopwd-sender';
import { RefundBatchSends } from './refund-batch-sends';
import { REFUNDS_OPTIONS, type RefundsOptions } from './refunds-options';

const CONTEXT = 'RefundResender';

/** Batches claimed per pass. */
const PAGE_SIZE = 100;

/** How long a pass waits for the work list to hold what was committed before it. */
const CATCH_UP_MS = 2_000;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Sends again, under the same batch_no, every nopwd batch still waiting for the gateway's answer a while
 * after its submission (docs/operations.md, "The resender"): the gateway never answered `POST /refunds`,
 * the ledger stopped between the submission's commit and the call, or a call went unanswered and the
 * outcome is unknown (a resend may still be answered `T` or `DUPLICATE_BATCH_NO`; a refused one is not
 * sent again). Until Alipay answers, with backoff. The due batches and their backoff come from PostgreSQL:
 * the work list the `refund_batch_work` consumer keeps from the batch streams, joined with the sender's
 * record of its calls (`refund_batch_sends`); each instance claims the batches it sends, so several
 * instances share the work without sending one batch twice at once, and a restart forgets nothing. The
 * sender reloads each batch's stream and calls only for a batch still waiting.
 */
@Injectable()
export class RefundResender implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly loop: WorkerLoop;

  constructor(
    private readonly sends: RefundBatchSends,
    private readonly sender: NopwdSender,
    private readonly consumers: ProcessConsumers,
    private readonly logger: LedgerLogger,
    @Inject(REFUNDS_OPTIONS) private readonly options: RefundsOptions,
  ) {
    // No lease: each batch is claimed on its own (RefundBatchSends.claimDue).
    this.loop = new WorkerLoop({
      name: 'refund-resender',
      pollMs: options.resender.pollMs,
      logger,
      pass: async () => (await this.runOnce()) > 0,
    });
  }

  onApplicationBootstrap(): void {
    if (this.options.resender.enabled) this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /**
   * One pass: claims up to a page of batches due at `now` and resends each once; resolves with the number
   * of gateway calls made. The loop calls it; tests call it, with a later `now` to find every waiting batch
   * due.
   */
  async runOnce(now = Date.now()): Promise<number> {
    const { minAgeMs } = this.options.resender;
    const claimMs = this.options.attemptTimeoutMs + 60_000;
    // The work list as of the pass's start, or as far as it got: a late consumer delays a resend, no more.
    await this.consumers.refundWorkCaughtUp(CATCH_UP_MS).catch((error: unknown) => {
      this.logger.warn({ msg: `the refund batch work list is behind: ${errorMessage(error)}` }, CONTEXT);
    });
    const claims = await this.sends.claimDue(new Date(now), minAgeMs, PAGE_SIZE, this.sender.holder, claimMs);
    let calls = 0;
    // Oldest first: those have waited longest for their refunds.
    for (const claim of claims) {
      if (this.loop.stopping) {
        await this.sends.release(claim.batchNo, this.sender.holder);
        continue;
      }
      const { batchNo } = claim;
      const result = await this.sender.send(
        batchNo,
        1,
        { causationId: `refund-resender:${batchNo}#${claim.failures + 1}` },
        false,
        this.loop,
      );
      calls += result.calls;
      // No call made (answered meanwhile): the claim is given back as it was.
      if (result.calls === 0) await this.sends.release(batchNo, this.sender.holder);
      if (result.outcome?.kind === 'retry') {
        this.logger.warn(
          {
            msg: `batch ${batchNo} is still without an answer from the gateway (${result.batch.status}); resent again later`,
            batchNo,
          },
          CONTEXT,
        );
      } else if (result.outcome !== undefined && result.outcome.kind !== 'stop') {
        this.logger.log({ msg: `batch ${batchNo} resent: ${result.batch.status}`, batchNo }, CONTEXT);
      }
    }
    return calls;
  }
}
