import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { LeaseTable, LedgerLogger, WorkerLoop, backoffDelayMs } from '@ledger/platform';
import { RefundBatchQueries } from '@ledger/projections';
import { DataSource } from 'typeorm';
import { NopwdSender } from './nopwd-sender';
import { REFUNDS_OPTIONS, type RefundsOptions } from './refunds-options';

const CONTEXT = 'RefundResender';

/** Batches listed per query of the projection. */
const PAGE_SIZE = 100;

/**
 * Sends again, under the same batch_no, every nopwd batch that is still `submitted` a while after its
 * submission (docs/operations.md, "The resender"): the gateway never answered `POST /refunds`, or the ledger
 * stopped between the submission's commit and the call. Until Alipay answers, with backoff;
 * `DUPLICATE_BATCH_NO` then means an earlier call got through. The batches come from the refund batch
 * projection, which may lag: the sender reloads each one's stream and calls only for a batch still waiting.
 * One instance at a time resends (the worker's lease, as for the fulfilment worker); each call and each
 * recording first checks it is still held.
 */
@Injectable()
export class RefundResender implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly loop: WorkerLoop;
  /** Resends without an answer in a row, and when each batch is due again. */
  private readonly failures = new Map<string, number>();
  private readonly retryAt = new Map<string, number>();

  constructor(
    private readonly queries: RefundBatchQueries,
    private readonly sender: NopwdSender,
    private readonly logger: LedgerLogger,
    @Inject(REFUNDS_OPTIONS) private readonly options: RefundsOptions,
    @InjectDataSource() dataSource: DataSource,
  ) {
    this.loop = new WorkerLoop({
      name: 'refund-resender',
      lease: { table: new LeaseTable(dataSource), retryMs: options.resender.leaseRetryMs },
      pollMs: options.resender.pollMs,
      logger,
      pass: async () => {
        await this.runOnce();
        return false;
      },
    });
  }

  onApplicationBootstrap(): void {
    if (this.options.resender.enabled) this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /**
   * One pass: resends each batch due at `now` once; resolves with the number of gateway calls made. The
   * loop calls it; tests call it, with a later `now` to find every waiting batch due.
   */
  async runOnce(now = Date.now()): Promise<number> {
    if (!(await this.loop.takeLease())) return 0;
    const { minAgeMs, retry } = this.options.resender;
    const listed: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.queries.list(
        { state: 'submitted', mode: 'nopwd', to: new Date(now - minAgeMs), limit: PAGE_SIZE },
        cursor,
      );
      listed.push(...page.items.map((item) => item.batchNo));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined && !this.stopping);
    // Batches answered meanwhile (by a client's retry, another instance, their result) are forgotten.
    const waiting = new Set(listed);
    for (const batchNo of this.retryAt.keys()) {
      if (!waiting.has(batchNo)) {
        this.retryAt.delete(batchNo);
        this.failures.delete(batchNo);
      }
    }
    const due = listed.filter((batchNo) => (this.retryAt.get(batchNo) ?? 0) <= now);

    let calls = 0;
    // Oldest first: those have waited longest for their refunds.
    for (const batchNo of due.reverse()) {
      this.loop.assertHolding();
      const failures = (this.failures.get(batchNo) ?? 0) + 1;
      const result = await this.sender.send(
        batchNo,
        1,
        { causationId: `refund-resender:${batchNo}#${failures}` },
        false,
        this.loop,
      );
      calls += result.calls;
      if (result.outcome?.kind === 'retry') {
        this.failures.set(batchNo, failures);
        const delay = backoffDelayMs(retry, failures);
        this.retryAt.set(batchNo, now + delay);
        this.logger.warn(
          {
            msg: `batch ${batchNo} is still without an answer from the gateway; next resend in ${delay} ms`,
            batchNo,
          },
          CONTEXT,
        );
      } else {
        this.failures.delete(batchNo);
        this.retryAt.delete(batchNo);
        if (result.outcome !== undefined && result.outcome.kind !== 'stop') {
          this.logger.log({ msg: `batch ${batchNo} resent: ${result.batch.status}`, batchNo }, CONTEXT);
        }
      }
    }
    return calls;
  }

  private get stopping(): boolean {
    return this.loop.stopping;
  }
}
