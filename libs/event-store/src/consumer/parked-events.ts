import type { DataSource, EntityManager } from 'typeorm';
import type { RecordedEvent } from '../event-envelope';
import type { EventStore } from '../event-store';
import { lockCheckpoint } from './checkpoint';
import { describeFailure, inSavepoint, type ProjectionRun } from './project-batch';

/** An event a projection could not apply, or one waiting behind such an event in its stream. */
export interface ParkedEvent {
  globalPosition: number;
  transactionId: string;
  streamId: string;
  version: number;
  type: string;
  /** Why it failed last; null when it did not fail itself but waits behind an earlier event of its stream. */
  error: string | null;
  /** How many times applying it failed. */
  attempts: number;
  parkedAt: Date;
  lastFailedAt: Date | null;
}

/** What retrying one parked stream did. */
export interface RetryOutcome {
  streamId: string;
  /** Events un-parked: applied, or skipped because the projection no longer handles their type. */
  unparked: number;
  /** Events still parked: the one that failed again and those behind it. 0 means the stream flows again. */
  stillParked: number;
  /** The error of the event that failed again. */
  error?: string;
}

interface ParkedRow {
  global_position: string | number;
  transaction_id: string;
  stream_id: string;
  version: number;
  type: string;
  error: string | null;
  attempts: number;
  parked_at: Date;
  last_failed_at: Date | null;
}

const toParkedEvent = (row: ParkedRow): ParkedEvent => ({
  globalPosition: Number(row.global_position),
  transactionId: row.transaction_id,
  streamId: row.stream_id,
  version: row.version,
  type: row.type,
  error: row.error,
  attempts: row.attempts,
  parkedAt: row.parked_at,
  lastFailedAt: row.last_failed_at,
});

/** The parked events of `key`, each stream in version order; one stream's when `streamId` is given. */
export async function listParkedEvents(
  runner: DataSource | EntityManager,
  key: string,
  streamId?: string,
): Promise<ParkedEvent[]> {
  const rows = await runner.query<ParkedRow[]>(
    `SELECT global_position, transaction_id::text AS transaction_id, stream_id, version, type, error, attempts,
            parked_at, last_failed_at
     FROM parked_events WHERE projection = $1 AND ($2::text IS NULL OR stream_id = $2)
     ORDER BY stream_id, version`,
    [key, streamId ?? null],
  );
  return rows.map(toParkedEvent);
}

/** The streams of `key` that have parked events. */
export async function parkedStreams(runner: DataSource | EntityManager, key: string): Promise<string[]> {
  const rows = await runner.query<{ stream_id: string }[]>(
    `SELECT DISTINCT stream_id FROM parked_events WHERE projection = $1 ORDER BY stream_id`,
    [key],
  );
  return rows.map((row) => row.stream_id);
}

/**
 * Applies one stream's parked events again, in version order, in one transaction that holds the
 * checkpoint lock (so the consumer cannot park a newer event of the stream half-way through). Every event
 * applied is un-parked; at the first one that fails again, it and those behind it stay parked.
 */
export async function retryParkedStream(
  dataSource: DataSource,
  store: EventStore,
  run: ProjectionRun,
  streamId: string,
): Promise<RetryOutcome> {
  return dataSource.transaction(async (manager) => {
    await lockCheckpoint(manager, run.key);
    const parked = await listParkedEvents(manager, run.key, streamId);
    if (parked.length === 0) return { streamId, unparked: 0, stillParked: 0 };
    const positions = new Set(parked.map((event) => event.globalPosition));
    const events = (await store.readStream(streamId, parked[0].version, { manager })).filter((event) =>
      positions.has(event.globalPosition),
    );
    const handles = run.projection.handles === undefined ? undefined : new Set(run.projection.handles);
    const toApply = events.filter((event) => handles === undefined || handles.has(event.type));
    const context = { manager, table: run.table };

    let done: RecordedEvent[] = events;
    let failure: { event: RecordedEvent; error: unknown } | undefined;
    if (
      toApply.length > 0 &&
      !(await inSavepoint(manager, 'projector_retry', () => run.projection.apply(toApply, context)))
    ) {
      done = [];
      for (const event of events) {
        const applies = toApply.includes(event);
        const ok =
          !applies ||
          (await inSavepoint(
            manager,
            'projector_event',
            () => run.projection.apply([event], context),
            (error) => (failure = { event, error }),
          ));
        if (!ok) break;
        done.push(event);
      }
    }
    await manager.query(
      `DELETE FROM parked_events WHERE projection = $1 AND global_position = ANY($2::bigint[])`,
      [run.key, done.map((event) => event.globalPosition)],
    );
    if (failure === undefined)
      return { streamId, unparked: done.length, stillParked: parked.length - done.length };

    const error = describeFailure(failure.error);
    await manager.query(
      `UPDATE parked_events SET error = $3, attempts = attempts + 1, last_failed_at = now()
       WHERE projection = $1 AND global_position = $2`,
      [run.key, failure.event.globalPosition, error],
    );
    return { streamId, unparked: done.length, stillParked: parked.length - done.length, error };
  });
}
