import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  EventSchemas,
  EventStore,
  Projector,
  type ParkedSummary,
  type ProjectionLag,
} from '@ledger/event-store';
import { ForegroundWork, LedgerConfig, LedgerLogger } from '@ledger/platform';
import { DataSource } from 'typeorm';
import { FULFILMENT_OUTBOX, fulfilmentOutbox } from '../fulfilment/fulfilment-outbox';
import { REFUND_BATCH_WORK, refundBatchWork } from '../refunds/refund-batch-work';

/**
 * The process managers' checkpointed consumers, on one projector of their own (docs/fulfilment.md, "The
 * consumer"; docs/operations.md, "The resender"): the fulfilment outbox (with `FULFILMENT_WORKER`) and the
 * refund batch work list (always: the resender and the result timeout run on every instance). One
 * projector holds one connection for the life of the process, whatever it runs; each consumer is run by
 * one instance at a time, the holder of its lock. Never rebuilt: the fulfilment outbox would send every
 * webhook again.
 */
@Injectable()
export class ProcessConsumers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly projector: Projector;
  /** Never started: reads every consumer's checkpoint, on any instance, whichever of them it runs. */
  private readonly inspector: Projector;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    schemas: EventSchemas,
    store: EventStore,
    logger: LedgerLogger,
    config: LedgerConfig,
    foreground: ForegroundWork,
  ) {
    this.projector = new Projector(
      dataSource,
      [...(config.fulfilment.enabled ? [fulfilmentOutbox(store)] : []), refundBatchWork],
      {
        schemas,
        logger,
        // The fulfilment outbox yields while Alipay's notifications wait (docs/operations.md, "Alipay first").
        busy: () => foreground.busy(),
        backgroundIntervalMs: config.fulfilment.batchIntervalWhileBusyMs,
      },
    );
    this.inspector = new Projector(dataSource, [fulfilmentOutbox(store), refundBatchWork], {
      schemas,
      logger,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.projector.start();
  }

  // Before the shutdown hooks proper: TypeORM's closes the data source they work on.
  async beforeApplicationShutdown(): Promise<void> {
    await this.projector.stop();
  }

  /** How far the fulfilment outbox is behind the event store, from any instance. */
  fulfilmentLag(): Promise<ProjectionLag> {
    return this.inspector.lag(FULFILMENT_OUTBOX);
  }

  /** How far the refund batch work list is behind the event store, from any instance. */
  refundWorkLag(): Promise<ProjectionLag> {
    return this.inspector.lag(REFUND_BATCH_WORK);
  }

  /**
   * Per consumer, how many of its events are parked, in how many streams, and the first `limit`; from any
   * instance, whichever consumers it runs.
   */
  parked(limit: number): Promise<ParkedSummary[]> {
    return Promise.all(
      [FULFILMENT_OUTBOX, REFUND_BATCH_WORK].map((name) => this.inspector.parkedSummary(name, limit)),
    );
  }

  /**
   * Resolves once the refund batch work list holds every event committed before the call (at most
   * `timeoutMs`): a pass of the resender or of the result timeout then sees the batches submitted before
   * it. Rejects with the projector's `WAIT_TIMEOUT` when the consumer is late.
   */
  async refundWorkCaughtUp(timeoutMs: number): Promise<void> {
    const [head] = await this.dataSource.query<{ transaction_id: string; global_position: string }[]>(
      `SELECT transaction_id::text AS transaction_id, global_position FROM events
       ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
    );
    if (head === undefined) return;
    await this.projector.waitFor(
      REFUND_BATCH_WORK,
      { transactionId: head.transaction_id, position: Number(head.global_position) },
      timeoutMs,
    );
  }
}
