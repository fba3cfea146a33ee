import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  type AppendedPosition,
  EventSchemas,
  type GlobalCheckpoint,
  type ParkedSummary,
  type Projection,
  type ProjectionLag,
  type ProjectionProgress,
  type ProjectionStatus,
  type ProjectionVerification,
  Projector,
  ProjectorError,
  type RebuildStatus,
} from '@ledger/event-store';
import { LedgerLogger } from '@ledger/platform';
import { DataSource } from 'typeorm';
import { moneyMovementsProjection } from './money-movements/money-movements.projection';
import { orderStatusProjection } from './order-status.projection';
import { refundBatchProjection } from './refund-batch.projection';

/** Every projection the ledger runs (docs/product-rules.md, "Projections"). */
export const LEDGER_PROJECTIONS: readonly Projection[] = [
  orderStatusProjection,
  refundBatchProjection,
  moneyMovementsProjection,
];

/** Their names, in the order they are rebuilt and verified. */
export const LEDGER_PROJECTION_NAMES: readonly string[] = LEDGER_PROJECTIONS.map(({ name }) => name);

/** How `ProjectionsModule.forRoot` configures the service; a plain import runs the projector. */
export interface ProjectionsOptions {
  /**
   * False in a tool (the CLI): its reads, rebuilds and verifications work without this process consuming
   * the event store, which the ledger's instances do.
   */
  consume: boolean;
}

/** The injection token of `ProjectionsOptions`. */
export const PROJECTIONS_OPTIONS = Symbol('PROJECTIONS_OPTIONS');

/** One projection as an operator sees it: how far behind the event store, and its rebuild if any. */
export interface ProjectionOverview extends ProjectionLag {
  /** The rebuild the database shows, on any instance; null when the projection has no rebuild's shadows. */
  rebuild: Pick<RebuildStatus, 'running' | 'position' | 'headPosition' | 'updatedAt'> | null;
}

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
    @Optional() @Inject(PROJECTIONS_OPTIONS) private readonly options: ProjectionsOptions = { consume: true },
  ) {
    this.projector = new Projector(dataSource, LEDGER_PROJECTIONS, { schemas, logger });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.consume) await this.projector.start();
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
   * Rebuilds `projection` (every projection when absent, one after the other) from position 0 into shadow
   * tables, each swapped in atomically once it has caught up; the live tables serve until then.
   * `onStarted` is called with a projection's name once its rebuild holds the guard and its shadows are
   * ready (`rebuildStatus` shows it running from then on); `onProgress` after each batch with the events
   * read, the position reached and the head.
   *
   * @throws ProjectorError `UNKNOWN_PROJECTION` for a name not in `LEDGER_PROJECTION_NAMES`;
   *   `REBUILD_IN_PROGRESS` while that projection is being rebuilt or verified, here or on another instance.
   */
  async rebuild(
    projection?: string,
    options: {
      onStarted?: (projection: string) => void;
      onProgress?: (progress: ProjectionProgress) => void;
    } = {},
  ): Promise<RebuildReport> {
    const started = performance.now();
    const projections: RebuildReport['projections'] = [];
    for (const { name, tables } of this.selected(projection)) {
      const began = performance.now();
      const outcome = await this.projector.rebuild(name, {
        onStarted: () => options.onStarted?.(name),
        onProgress: options.onProgress,
      });
      let rows = 0;
      for (const table of tables) {
        const [{ count }] = await this.dataSource.query<{ count: string }[]>(
          `SELECT count(*) AS count FROM "${table}"`,
        );
        rows += Number(count);
      }
      projections.push({
        projection: name,
        events: outcome.events,
        parked: outcome.parked,
        rows,
        durationMs: Math.round(performance.now() - began),
      });
    }
    return { projections, durationMs: Math.round(performance.now() - started) };
  }

  /**
   * The rebuilds the database shows, whichever instance runs them: per projection with a rebuild's
   * shadows, the position its checkpoint reached against the head, and whether it is running (false:
   * shadows a stopped or crashed rebuild left, which the next rebuild replaces).
   */
  async rebuildStatus(): Promise<RebuildStatus[]> {
    const statuses = await Promise.all(
      LEDGER_PROJECTION_NAMES.map((name) => this.projector.rebuildStatus(name)),
    );
    return statuses.filter((status) => status !== undefined);
  }

  /**
   * Compares `projection` (every projection when absent) with a fresh fold of the event store up to its
   * checkpoint, row by row, without writing to it or holding it up (docs/event-store.md, "Verification").
   *
   * @throws ProjectorError as `rebuild`.
   */
  async verify(
    projection?: string,
    options: { onProgress?: (progress: ProjectionProgress) => void } = {},
  ): Promise<ProjectionVerification[]> {
    const verifications: ProjectionVerification[] = [];
    for (const { name } of this.selected(projection)) {
      verifications.push(await this.projector.verify(name, options));
    }
    return verifications;
  }

  /** How far each projection is behind the event store. */
  lag(): Promise<ProjectionLag[]> {
    return Promise.all(LEDGER_PROJECTIONS.map(({ name }) => this.projector.lag(name)));
  }

  /** Each projection's lag with its rebuild, if any: what `status` and the admin API show. */
  async overview(): Promise<ProjectionOverview[]> {
    const [lags, rebuilds] = await Promise.all([this.lag(), this.rebuildStatus()]);
    return lags.map((lag) => {
      const rebuild = rebuilds.find((status) => status.projection === lag.projection);
      return {
        ...lag,
        rebuild:
          rebuild === undefined
            ? null
            : {
                running: rebuild.running,
                position: rebuild.position,
                headPosition: rebuild.headPosition,
                updatedAt: rebuild.updatedAt,
              },
      };
    });
  }

  /** Per projection, how many of its events are parked, in how many streams, and the first `limit`. */
  parked(limit: number): Promise<ParkedSummary[]> {
    return Promise.all(LEDGER_PROJECTIONS.map(({ name }) => this.projector.parkedSummary(name, limit)));
  }

  /** Which projections this instance is running now. */
  status(): ProjectionStatus[] {
    return this.projector.status();
  }

  private selected(projection: string | undefined): readonly Projection[] {
    if (projection === undefined) return LEDGER_PROJECTIONS;
    const found = LEDGER_PROJECTIONS.find(({ name }) => name === projection);
    if (found === undefined) {
      throw new ProjectorError(
        'UNKNOWN_PROJECTION',
        `no projection named ${JSON.stringify(projection)}: one of ${LEDGER_PROJECTION_NAMES.join(', ')}`,
        { projection },
      );
    }
    return [found];
  }
}
