import type { LoggerService } from '@nestjs/common';
import { Backoff, Pauses, WakeSignal, type BackoffPolicy } from '@ledger/platform';
import type { DataSource } from 'typeorm';
import { EVENTS_NOTIFY_CHANNEL } from '../append-statement';
import type { GlobalCheckpoint } from '../event-envelope';
import type { EventSchemas } from '../event-schemas';
import { ensureCheckpoint, readCheckpoint, toCheckpoint, type AppendedPosition } from './checkpoint';
import { CheckpointWaiters } from './checkpoint-waiters';
import { ControlConnection } from './control-connection';
import {
  listParkedEvents,
  parkedStreams,
  retryParkedStream,
  summarizeParkedEvents,
  type ParkedEvent,
  type ParkedSummary,
  type RetryOutcome,
} from './parked-events';
import { projectNextBatch, type ProjectionRun } from './project-batch';
import { checkProjection, tableResolver, type Projection } from './projection';
import { ProjectorError } from './projector-error';
import { readRebuildStatus, rebuildProjection, type RebuildOutcome, type RebuildStatus } from './rebuild';
import type { ProjectionProgress } from './shadow-tables';
import { verifyProjection, type ProjectionVerification } from './verify-projection';

/**
 * Notified in each batch transaction that moved a projection's checkpoint, with the projection's name as
 * payload: delivered at commit to every instance, so that what reads the projection's rows (the process
 * managers' work lists) wakes when they change, whichever instance projected them.
 */
export const PROJECTED_NOTIFY_CHANNEL = 'ledger_projected';

export interface ProjectorOptions {
  /** The event store's own schemas: projections receive every event at its type's current schema version. */
  schemas: EventSchemas;
  /** Events per live batch (one transaction). Default 500. */
  batchSize?: number;
  /** Events per rebuild batch. Default 5,000. */
  rebuildBatchSize?: number;
  /** How long an idle consumer sleeps when no append hint arrives: the fallback to LISTEN. Default 500 ms. */
  idlePollMs?: number;
  /** How often an instance that does not hold a projection's lock tries to take it. Default 1,000 ms. */
  lockRetryMs?: number;
  /**
   * The longest pause after failures (batches, lost connections); it doubles from 100 ms, jittered so that
   * instances that lost the database together do not come back in step. Default 5,000 ms.
   */
  maxBackoffMs?: number;
  /** How often `waitFor` re-reads a checkpoint that another process may be moving. Default 100 ms. */
  waitPollMs?: number;
  /**
   * Whether the process is busy with requests someone waits on (Alipay's notifications): background
   * projections then yield (docs/event-store.md, "Background consumers"). Never busy when absent.
   */
  busy?: () => boolean;
  /** While the process is busy, the least time between two batches of a background projection. Default 5,000 ms. */
  backgroundIntervalMs?: number;
  logger?: Pick<LoggerService, 'log' | 'warn' | 'error'>;
}

/** How far a projection is behind the event store. */
export interface ProjectionLag {
  projection: string;
  checkpoint: GlobalCheckpoint;
  /** Committed events after the checkpoint, handled or not. */
  events: number;
  /** Age of the oldest of them; 0 when there is none. */
  seconds: number;
}

/** Whether this instance is the one projecting (it holds the projection's lock). */
export interface ProjectionStatus {
  projection: string;
  active: boolean;
}

interface Consumer {
  run: ProjectionRun;
  wake: WakeSignal;
  active: boolean;
}

const CONTEXT = 'Projector';

/** How often a background projection held back by a busy process looks again. */
const BUSY_RECHECK_MS = 50;

/**
 * The checkpointed projector (docs/event-store.md, "Consumers"). Each projection is run
 * by one instance at a time, the holder of its advisory lock, in batches that commit the projection's rows
 * with the checkpoint. Instances that do not hold a lock keep trying and take over when the holder's
 * session ends. Appends wake consumers through LISTEN; polling covers lost hints.
 *
 * `waitFor`, `lag`, the parked events and `rebuild` work from any instance, started or not: they read
 * and lock the database, not this instance's memory.
 */
export class Projector {
  private readonly consumers = new Map<string, Consumer>();
  private readonly waiters: CheckpointWaiters;
  private readonly projectedListeners = new Set<(projection: string) => void>();
  private pauses = new Pauses();
  private readonly options: Required<Omit<ProjectorOptions, 'logger' | 'schemas'>>;
  private readonly logger?: ProjectorOptions['logger'];
  private running = false;
  private supervision?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    projections: readonly Projection[],
    options: ProjectorOptions,
  ) {
    const { logger, schemas, ...rest } = options;
    const chain = schemas.upcasters;
    for (const projection of projections) {
      checkProjection(projection);
      if (this.consumers.has(projection.name)) {
        throw new ProjectorError('INVALID_PROJECTION', `projection ${projection.name} is registered twice`, {
          projection: projection.name,
        });
      }
      this.consumers.set(projection.name, {
        run: { projection, key: projection.name, table: tableResolver(projection, 'live'), upcasters: chain },
        wake: new WakeSignal(),
        active: false,
      });
    }
    this.logger = logger;
    this.options = {
      batchSize: 500,
      rebuildBatchSize: 5_000,
      idlePollMs: 500,
      lockRetryMs: 1_000,
      maxBackoffMs: 5_000,
      waitPollMs: 100,
      busy: () => false,
      backgroundIntervalMs: 5_000,
      ...(Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)) as typeof rest),
    };
    this.waiters = new CheckpointWaiters(dataSource, this.options.waitPollMs, (message) => {
      this.logger?.warn(message, CONTEXT);
    });
  }

  /** Starts projecting in the background; resolves once every projection has a checkpoint row. */
  async start(): Promise<void> {
    if (this.running) return;
    for (const name of this.consumers.keys()) await ensureCheckpoint(this.dataSource, name);
    this.pauses = new Pauses();
    this.running = true;
    this.supervision = this.supervise();
  }

  /**
   * Stops after the batches in flight, and gives the projections' locks back for another instance.
   * Pending `waitFor` calls reject with `PROJECTOR_STOPPED`.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.waiters.cancelAll(
      (projection) =>
        new ProjectorError('PROJECTOR_STOPPED', `the projector stopped while waiting for ${projection}`, {
          projection,
        }),
    );
    this.pauses.cutShort(true);
    for (const consumer of this.consumers.values()) consumer.wake.notify();
    await this.supervision;
    this.supervision = undefined;
  }

  /**
   * Calls `listener` with a projection's name each time its checkpoint moves, on whichever instance
   * projected (`PROJECTED_NOTIFY_CHANNEL`), while the projector runs; a hint, not a guarantee: a lost
   * connection loses hints, so a listener also polls. Resolves the unsubscription.
   */
  onProjected(listener: (projection: string) => void): () => void {
    this.projectedListeners.add(listener);
    return () => this.projectedListeners.delete(listener);
  }

  /** Which projections this instance is running now. */
  status(): ProjectionStatus[] {
    return [...this.consumers.values()].map(({ run, active }) => ({ projection: run.key, active }));
  }

  /**
   * Resolves once `projection` has passed `target` (read-your-writes: pass what `append` returned).
   * Rejects with `WAIT_TIMEOUT` after `timeoutMs`, and with `EVENT_PARKED` when the projection passed
   * the target but parked events of the target's transaction, whose effects will therefore not be seen.
   */
  waitFor(projection: string, target: GlobalCheckpoint | AppendedPosition, timeoutMs: number): Promise<void> {
    this.consumer(projection);
    return this.waiters.wait(projection, toCheckpoint(target), timeoutMs);
  }

  /** How far `projection` is behind: committed events after its checkpoint, and the oldest one's age. */
  async lag(projection: string): Promise<ProjectionLag> {
    this.consumer(projection);
    const checkpoint = await readCheckpoint(this.dataSource, projection);
    const [row] = await this.dataSource.query<{ events: string; seconds: number }[]>(
      `SELECT count(*) AS events,
              COALESCE(GREATEST(EXTRACT(EPOCH FROM now() - min(recorded_at)), 0), 0)::float8 AS seconds
       FROM events WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)`,
      [checkpoint.transactionId, checkpoint.position],
    );
    return { projection, checkpoint, events: Number(row.events), seconds: row.seconds };
  }

  /** The projection's parked events, each stream in version order; one stream's when given. */
  listParked(projection: string, options: { streamId?: string } = {}): Promise<ParkedEvent[]> {
    this.consumer(projection);
    return listParkedEvents(this.dataSource, projection, options.streamId);
  }

  /** How many of the projection's events are parked, in how many streams, and the first `limit` of them. */
  parkedSummary(projection: string, limit: number): Promise<ParkedSummary> {
    this.consumer(projection);
    return summarizeParkedEvents(this.dataSource, projection, limit);
  }

  /**
   * Applies parked events again, stream by stream, in version order: after a fix has been deployed, or
   * once whatever the failure depended on is there. A stream whose events all apply flows again.
   */
  async retryParked(projection: string, options: { streamId?: string } = {}): Promise<RetryOutcome[]> {
    const { run } = this.consumer(projection);
    const streams =
      options.streamId === undefined ? await parkedStreams(this.dataSource, projection) : [options.streamId];
    const outcomes: RetryOutcome[] = [];
    for (const streamId of streams) outcomes.push(await retryParkedStream(this.dataSource, run, streamId));
    return outcomes;
  }

  /**
   * Rebuilds the projection from the origin into shadow tables and swaps them in atomically; the live
   * projection serves until the swap (see rebuildProjection). `onStarted` is called once the rebuild holds
   * its guard and its shadows are ready (`rebuildStatus` shows it running from then on), `onProgress`
   * after each batch.
   *
   * @throws ProjectorError `UNKNOWN_PROJECTION`; `REBUILD_IN_PROGRESS` while it is being rebuilt or
   *   verified, here or on another instance.
   */
  async rebuild(
    projection: string,
    options: { onStarted?: () => void; onProgress?: (progress: ProjectionProgress) => void } = {},
  ): Promise<RebuildOutcome> {
    const { run } = this.consumer(projection);
    this.logger?.log(`rebuilding ${projection} from the origin`, CONTEXT);
    const outcome = await rebuildProjection(this.dataSource, run.projection, {
      batchSize: this.options.rebuildBatchSize,
      upcasters: run.upcasters,
      onStarted: options.onStarted,
      onProgress: options.onProgress,
    });
    this.logger?.log(
      `rebuilt ${projection}: ${outcome.events} events, ${outcome.parked} parked, swapped in`,
      CONTEXT,
    );
    this.progress(projection, outcome.checkpoint);
    return outcome;
  }

  /**
   * The projection's rebuild as the database shows it, whichever instance runs it: its shadows' checkpoint
   * against the head, and whether it is running; undefined when there is no rebuild's shadow.
   */
  rebuildStatus(projection: string): Promise<RebuildStatus | undefined> {
    this.consumer(projection);
    return readRebuildStatus(this.dataSource, projection);
  }

  /**
   * Compares the live projection with a fresh fold of the event store up to its checkpoint, row by row,
   * without writing or holding up the live projection (see verifyProjection).
   *
   * @throws ProjectorError `UNKNOWN_PROJECTION`; `REBUILD_IN_PROGRESS` while it is being rebuilt or verified.
   */
  async verify(
    projection: string,
    options: { onProgress?: (progress: ProjectionProgress) => void } = {},
  ): Promise<ProjectionVerification> {
    const { run } = this.consumer(projection);
    const verification = await verifyProjection(this.dataSource, run.projection, {
      batchSize: this.options.rebuildBatchSize,
      upcasters: run.upcasters,
      onProgress: options.onProgress,
    });
    if (!verification.equal) {
      this.logger?.warn(`${projection} differs from a fresh fold of its events`, CONTEXT);
    }
    return verification;
  }

  private consumer(projection: string): Consumer {
    const consumer = this.consumers.get(projection);
    if (consumer === undefined) {
      throw new ProjectorError('UNKNOWN_PROJECTION', `no projection named ${projection} is registered`, {
        projection,
      });
    }
    return consumer;
  }

  private progress(projection: string, checkpoint: GlobalCheckpoint): void {
    this.waiters.progress(projection, checkpoint);
  }

  /** Keeps a control connection open and every projection running under it, until stopped. */
  private async supervise(): Promise<void> {
    const reconnects = new Backoff(this.failureBackoff);
    while (this.running) {
      let control: ControlConnection;
      try {
        control = await ControlConnection.open(
          this.dataSource,
          [EVENTS_NOTIFY_CHANNEL, PROJECTED_NOTIFY_CHANNEL],
          (channel, payload) => this.hint(channel, payload),
        );
      } catch (error) {
        const delay = reconnects.next();
        this.logger?.warn(
          `cannot open the control connection, retrying in ${delay} ms: ${String(error)}`,
          CONTEXT,
        );
        await this.pauses.sleep(delay);
        continue;
      }
      reconnects.reset();
      const wakeAll = () => {
        this.pauses.cutShort();
        for (const consumer of this.consumers.values()) consumer.wake.notify();
      };
      void control.lost.then(wakeAll);
      await Promise.all([...this.consumers.values()].map((consumer) => this.holdAndRun(consumer, control)));
      if (this.running) {
        this.logger?.warn("the control connection was lost; the projections' locks are gone", CONTEXT);
      }
      await control.close().catch((error: unknown) => {
        this.logger?.warn(`closing the control connection: ${String(error)}`, CONTEXT);
      });
      // Instances that kept their session get a head start: a flapping connection does not win the lock back.
      if (this.running) await this.pauses.sleep(this.options.lockRetryMs);
    }
  }

  private hint(channel: string, payload: string | undefined): void {
    if (channel === EVENTS_NOTIFY_CHANNEL) {
      for (const consumer of this.consumers.values()) consumer.wake.notify();
    } else if (payload !== undefined && this.consumers.has(payload)) {
      for (const listener of this.projectedListeners) listener(payload);
    }
  }

  private get failureBackoff(): BackoffPolicy {
    return { baseMs: 100, maxMs: this.options.maxBackoffMs, jitter: true };
  }

  /** Takes the projection's lock when it is free, and projects for as long as the lock is held. */
  private async holdAndRun(consumer: Consumer, control: ControlConnection): Promise<void> {
    const name = consumer.run.key;
    while (this.running && control.alive) {
      let locked = false;
      try {
        locked = await control.tryLock(name);
      } catch (error) {
        if (control.alive) this.logger?.warn(`cannot take the lock of ${name}: ${String(error)}`, CONTEXT);
      }
      if (!locked) {
        await this.pauses.sleep(this.options.lockRetryMs);
        continue;
      }
      consumer.active = true;
      this.logger?.log(`projecting ${name}`, CONTEXT);
      try {
        await this.project(consumer, control);
      } finally {
        consumer.active = false;
      }
      await control.unlock(name).catch(() => undefined);
    }
  }

  /** The consumer loop: batch after batch while there is work, then wait for a hint or the poll. */
  private async project(consumer: Consumer, control: ControlConnection): Promise<void> {
    const holding = () => this.running && control.alive;
    const { run, wake } = consumer;
    const { batchSize, idlePollMs } = this.options;
    const failures = new Backoff(this.failureBackoff);
    let lastBatch = Number.NEGATIVE_INFINITY;
    while (holding()) {
      if (run.projection.background === true) {
        await this.yieldWhileBusy(lastBatch, holding);
        if (!holding()) break;
        lastBatch = performance.now();
      }
      try {
        const outcome = await control.transaction(async (session) => {
          const batch = await projectNextBatch(session, run, batchSize);
          if (batch.read > 0) {
            await session.query('SELECT pg_notify($1, $2)', [PROJECTED_NOTIFY_CHANNEL, run.key]);
          }
          return batch;
        });
        failures.reset();
        if (outcome.read > 0) this.progress(run.key, outcome.checkpoint);
        if (outcome.parked > 0) {
          this.logger?.warn(`${run.key} parked ${outcome.parked} events; see listParked`, CONTEXT);
        }
        if (outcome.read < batchSize) await wake.wait(idlePollMs);
      } catch (error) {
        const delay = failures.next();
        if (holding()) {
          this.logger?.warn(
            `a batch of ${run.key} failed, retrying in ${delay} ms: ${String(error)}`,
            CONTEXT,
          );
        }
        await this.pauses.sleep(delay);
      }
    }
  }

  /**
   * A background projection's turn: at once unless the process is busy, then once `backgroundIntervalMs`
   * have passed since its last batch began or as soon as the process is no longer busy.
   */
  private async yieldWhileBusy(lastBatch: number, holding: () => boolean): Promise<void> {
    const { busy, backgroundIntervalMs } = this.options;
    for (;;) {
      const left = lastBatch + backgroundIntervalMs - performance.now();
      if (left <= 0 || !holding() || !busy()) return;
      await this.pauses.sleep(Math.min(left, BUSY_RECHECK_MS));
    }
  }
}
