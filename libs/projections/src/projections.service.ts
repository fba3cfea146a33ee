import { type BeforeApplicationShutdown, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  type AppendedPosition,
  EventSchemas,
  type GlobalCheckpoint,
  type Projection,
  type ProjectionLag,
  type ProjectionStatus,
  Projector,
} from '@ledger/event-store';
import { LedgerLogger } from '@ledger/platform';
import { DataSource } from 'typeorm';
import { orderStatusProjection } from './order-status.projection';
import { refundBatchProjection } from './refund-batch.projection';

/** Every projection the ledger runs (docs/product-rules.md, "Projections"). */
export const LEDGER_PROJECTIONS: readonly Projection[] = [orderStatusProjection, refundBatchProjection];

/** What `ProjectionsService.rebuild` did, per projection and in all. */
export interface RebuildReport {
  projections: {
    projection: string;
    /** Events read from position 0 up to the swap. */
    events: number;
    /** Events that failed to apply and were parked. */
    parked: number;
    /** Rows of the projection's tables after the swap. */
    rows: number;
    durationMs: number;
  }[];
  durationMs: number;
}

/**
 * Hosts the checkpointed projector in the Nest application: starts it when the application has booted,
 * stops it (after the batches in flight) when it shuts down, on PostgreSQL and on the embedded database.
 * Reads, waits and rebuilds work whether or not this instance holds a projection's lock.
 */
@Injectable()
export class ProjectionsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly projector: Projector;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    schemas: EventSchemas,
    logger: LedgerLogger,
  ) {
    this.projector = new Projector(dataSource, LEDGER_PROJECTIONS, { schemas, logger });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.projector.start();
  }

  // Before the shutdown hooks proper: TypeORM's closes the data source the projector works on.
  async beforeApplicationShutdown(): Promise<void> {
    await this.projector.stop();
  }

  /**
   * Calls `listener` with a projection's name whenever its rows change, on any instance: a hint for what
   * reads them (the process managers' work lists), which still polls for a lost one. Resolves the
   * unsubscription.
   */
  onProjected(listener: (projection: string) => void): () => void {
    return this.projector.onProjected(listener);
  }

  /**
   * Resolves once every projection has applied everything up to `target` (what an append returned, or a
   * checkpoint): a read after it reflects the write (read-your-writes, docs/operations.md).
   *
   * @throws ProjectorError `WAIT_TIMEOUT` after `timeoutMs` (the events are durable, the projection is
   *   only late); `EVENT_PARKED` when a projection passed the target but could not apply some of its events.
   */
  async waitForProjections(target: GlobalCheckpoint | AppendedPosition, timeoutMs: number): Promise<void> {
    await Promise.all(LEDGER_PROJECTIONS.map(({ name }) => this.projector.waitFor(name, target, timeoutMs)));
  }

  /**
   * Resolves once every projection has applied every event committed before the call: what a reader that
   * must see all acknowledged writes waits for (docs/operations.md, "Read-your-writes"), the writers having
   * answered without waiting. One indexed read of the newest event, then the wait.
   *
   * @throws ProjectorError as `waitForProjections`.
   */
  async catchUp(timeoutMs: number): Promise<void> {
    const [head] = await this.dataSource.query<{ transaction_id: string; global_position: string }[]>(
      `SELECT transaction_id::text AS transaction_id, global_position FROM events
       ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
    );
    if (head === undefined) return;
    await this.waitForProjections(
      { transactionId: head.transaction_id, position: Number(head.global_position) },
      timeoutMs,
    );
  }

  /**
   * Rebuilds every projection from position 0 into shadow tables, each swapped in atomically once it has
   * caught up; the live tables serve until then.
   */
  async rebuild(): Promise<RebuildReport> {
    const started = performance.now();
    const projections: RebuildReport['projections'] = [];
    for (const projection of LEDGER_PROJECTIONS) {
      const began = performance.now();
      const outcome = await this.projector.rebuild(projection.name);
      let rows = 0;
      for (const table of projection.tables) {
        const [{ count }] = await this.dataSource.query<{ count: string }[]>(
          `SELECT count(*) AS count FROM "${table}"`,
        );
        rows += Number(count);
      }
      projections.push({
        projection: projection.name,
        events: outcome.events,
        parked: outcome.parked,
        rows,
        durationMs: Math.round(performance.now() - began),
      });
    }
    return { projections, durationMs: Math.round(performance.now() - started) };
  }

  /** How far each projection is behind the event store. */
  lag(): Promise<ProjectionLag[]> {
    return Promise.all(LEDGER_PROJECTIONS.map(({ name }) => this.projector.lag(name)));
  }

  /** Which projections this instance is running now. */
  status(): ProjectionStatus[] {
    return this.projector.status();
  }
}
