import type { Database, DatabaseSession } from '@ledger/platform';
import type { RecordedEvent } from '../event-envelope';
import { lockCheckpoint } from './checkpoint';
import { describeFailure, inSavepoint, type ProjectionRun } from './project-batch';
import { readEventsAt, toRecordedEvent, type StoredEvent } from './read-events';

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

/** A projection's parked events at a glance: how many, in how many streams, and the first of them. */
export interface ParkedSummary {
  projection: string;
  /** Parked events in all. */
  events: number;
  /** Streams that have parked events: each is held up from its first parked event on. */
  streams: number;
  /** The first parked events, each stream in version order, at most the limit asked for. */
  first: ParkedEvent[];
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

/**
 * The parked events of `key`, each stream in version order; one stream's when `streamId` is given; the
 * first `limit` when given.
 */
export async function listParkedEvents(
  session: DatabaseSession,
  key: string,
  streamId?: string,
  limit?: number,
): Promise<ParkedEvent[]> {
  // LIMIT NULL is no limit.
  const rows = await session.query<ParkedRow>(
    `SELECT global_position, transaction_id::text AS transaction_id, stream_id, version, type, error, attempts,
            parked_at, last_failed_at
     FROM parked_events WHERE projection = $1 AND ($2::text IS NULL OR stream_id = $2)
     ORDER BY stream_id, version
     LIMIT $3`,
    [key, streamId ?? null, limit ?? null],
  );
  return rows.map(toParkedEvent);
}

/** How many events of `key` are parked, in how many streams, and the first `limit` of them. */
export async function summarizeParkedEvents(
  session: DatabaseSession,
  key: string,
  limit: number,
): Promise<ParkedSummary> {
  const [counts] = await session.query<{ events: string; streams: string }>(
    `SELECT count(*) AS events, count(DISTINCT stream_id) AS streams FROM parked_events WHERE projection = $1`,
    [key],
  );
  const events = Number(counts.events);
  return {
    projection: key,
    events,
    streams: Number(counts.streams),
    first: events === 0 ? [] : await listParkedEvents(session, key, undefined, limit),
  };
}

/** The streams of `key` that have parked events. */
export async function parkedStreams(session: DatabaseSession, key: string): Promise<string[]> {
  const rows = await session.query<{ stream_id: string }>(
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
  database: Database,
  run: ProjectionRun,
  streamId: string,
): Promise<RetryOutcome> {
  return database.transaction(async (session) => {
    await lockCheckpoint(session, run.key);
    const parked = await listParkedEvents(session, run.key, streamId);
    if (parked.length === 0) return { streamId, unparked: 0, stillParked: 0 };
    const stored = await readEventsAt(
      session,
      parked.map((event) => event.globalPosition),
    );
    const handles = run.projection.handles === undefined ? undefined : new Set(run.projection.handles);
    const context = { session, table: run.table };

    // Each event to apply, upcast; the first that cannot be upcast is where this retry stops.
    let failure: { event: StoredEvent; error: unknown } | undefined;
    const candidates: { stored: StoredEvent; recorded?: RecordedEvent }[] = [];
    for (const event of stored) {
      if (handles !== undefined && !handles.has(event.type)) {
        candidates.push({ stored: event });
        continue;
      }
      try {
        candidates.push({ stored: event, recorded: toRecordedEvent(event, run.upcasters) });
      } catch (error) {
        failure = { event, error };
        break;
      }
    }
    const toApply = candidates.flatMap(({ recorded }) => (recorded === undefined ? [] : [recorded]));
    let done = candidates.map(({ stored: event }) => event);
    if (
      toApply.length > 0 &&
      !(await inSavepoint(session, 'projector_retry', () => run.projection.apply(toApply, context)))
    ) {
      done = [];
      for (const { stored: event, recorded } of candidates) {
        const ok =
          recorded === undefined ||
          (await inSavepoint(
            session,
            'projector_event',
            () => run.projection.apply([recorded], context),
            (error) => (failure = { event, error }),
          ));
        if (!ok) break;
        done.push(event);
      }
    }
    await session.query(
      `DELETE FROM parked_events WHERE projection = $1 AND global_position = ANY($2::bigint[])`,
      [run.key, done.map((event) => event.globalPosition)],
    );
    const outcome = { streamId, unparked: done.length, stillParked: parked.length - done.length };
    if (failure === undefined) return outcome;

    const error = describeFailure(failure.error);
    await session.query(
      `UPDATE parked_events SET error = $3, attempts = attempts + 1, last_failed_at = now()
       WHERE projection = $1 AND global_position = $2`,
      [run.key, failure.event.globalPosition, error],
    );
    return { ...outcome, error };
  });
}
