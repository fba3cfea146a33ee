import type { DatabaseSession } from '@ledger/platform';
import type { GlobalCheckpoint, RecordedEvent } from '../event-envelope';
import type { UpcasterChain } from '../upcasting';
import { lockCheckpoint, moveCheckpoint } from './checkpoint';
import type { Projection, ProjectionContext } from './projection';
import { isProjectorError } from './projector-error';
import { readBatchAfter, toRecordedEvent, type StoredEvent } from './read-events';

/** One projection writing to one set of tables under one checkpoint: the live one, a rebuild's or a verification's. */
export interface ProjectionRun {
  projection: Projection;
  /** The checkpoint and parked-events key: the projection's name, or its rebuild's or verification's. */
  key: string;
  table: ProjectionContext['table'];
  upcasters: UpcasterChain;
  /** The last event to project: a verification stops where the live projection stood. */
  until?: GlobalCheckpoint;
}

/** What one batch did. */
export interface BatchOutcome {
  /** Events read, handled or not: a full batch means more may be waiting. */
  read: number;
  applied: number;
  parked: number;
  checkpoint: GlobalCheckpoint;
}

// Errors of the database or the connection, not of the event: parking would hide an outage as poison.
// Classes 08 connection, 40 rollback (deadlock, serialization), 53 resources, 57 operator intervention
// (statement timeout, shutdown), 58 system; 55P03 lock not available.
const TRANSIENT_SQLSTATE = /^(08|40|53|57|58)|^55P03$/;

function sqlState(error: unknown): string | undefined {
  const candidate = error as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = candidate?.code ?? candidate?.driverError?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True when the error says nothing about the event itself, so the batch must be retried, not parked. */
function notTheEventsFault(error: unknown): boolean {
  const state = sqlState(error);
  return (state !== undefined && TRANSIENT_SQLSTATE.test(state)) || isProjectorError(error);
}

/** The error as stored with a parked event: name, message and SQLSTATE, bounded. */
export function describeFailure(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const state = sqlState(error);
  return (state === undefined ? text : `${text} (SQLSTATE ${state})`).slice(0, 4000);
}

interface Parking {
  event: StoredEvent;
  /** Null: the event did not fail, it waits behind an earlier failure of its stream. */
  error: string | null;
}

/**
 * Projects the batch after the checkpoint inside the caller's transaction: locks the checkpoint, reads
 * committed-and-settled events, applies them, records parked events and moves the checkpoint past the
 * batch, so rows, parking and checkpoint commit together.
 *
 * Failure isolation: if `apply` throws for the batch, the batch is rolled back to a savepoint and applied
 * again one event at a time, each in its own savepoint; an event that still throws (or cannot be upcast)
 * is parked with its error, and so is every later event of its stream, while other streams flow on.
 * Errors of the database itself (connection lost, deadlock...) are rethrown so that the whole batch is
 * retried instead.
 */
export async function projectNextBatch(
  session: DatabaseSession,
  run: ProjectionRun,
  batchSize: number,
): Promise<BatchOutcome> {
  const { projection, key } = run;
  const { checkpoint, parkedStreams } = await lockCheckpoint(session, key);
  const events = await readBatchAfter(session, checkpoint, batchSize, projection.handles, run.until);
  if (events.length === 0) return { read: 0, applied: 0, parked: 0, checkpoint };

  const handles = projection.handles === undefined ? undefined : new Set(projection.handles);
  const blocked = new Set(parkedStreams);
  const parkings: Parking[] = [];
  const runnable: RecordedEvent[] = [];
  for (const event of events) {
    if (handles !== undefined && !handles.has(event.type)) continue;
    if (blocked.has(event.streamId)) {
      parkings.push({ event, error: null });
      continue;
    }
    try {
      runnable.push(toRecordedEvent(event, run.upcasters));
    } catch (error) {
      blocked.add(event.streamId);
      parkings.push({ event, error: describeFailure(error) });
    }
  }
  const context: ProjectionContext = { session, table: run.table };
  let applied = runnable.length;
  const batchApplied =
    runnable.length === 0 ||
    (await inSavepoint(session, 'projector_batch', () => projection.apply(runnable, context)));
  if (!batchApplied) {
    applied = 0;
    const failed = new Set<string>();
    for (const event of runnable) {
      if (failed.has(event.streamId)) {
        parkings.push({ event, error: null });
        continue;
      }
      let failure: unknown;
      const ok = await inSavepoint(
        session,
        'projector_event',
        () => projection.apply([event], context),
        (error) => (failure = error),
      );
      if (ok) {
        applied++;
      } else {
        failed.add(event.streamId);
        parkings.push({ event, error: describeFailure(failure) });
      }
    }
  }
  if (parkings.length > 0) await recordParkings(session, key, parkings);
  const last = events[events.length - 1];
  const next = { transactionId: last.transactionId, position: last.globalPosition };
  await moveCheckpoint(session, key, checkpoint, next);
  return { read: events.length, applied, parked: parkings.length, checkpoint: next };
}

/**
 * Runs `work` in a savepoint. True when it succeeded; false when it threw an error of its own, after
 * rolling its writes back. Database failures propagate, as does a failed rollback (the connection is gone).
 */
export async function inSavepoint(
  session: DatabaseSession,
  name: string,
  work: () => Promise<void>,
  onFailure: (error: unknown) => void = () => undefined,
): Promise<boolean> {
  await session.query(`SAVEPOINT ${name}`);
  try {
    await work();
  } catch (error) {
    if (notTheEventsFault(error)) throw error;
    await session.query(`ROLLBACK TO SAVEPOINT ${name}`);
    await session.query(`RELEASE SAVEPOINT ${name}`);
    onFailure(error);
    return false;
  }
  await session.query(`RELEASE SAVEPOINT ${name}`);
  return true;
}

async function recordParkings(session: DatabaseSession, key: string, parkings: Parking[]): Promise<void> {
  await session.query(
    `INSERT INTO parked_events
       (projection, global_position, transaction_id, stream_id, version, type, error, attempts, last_failed_at)
     SELECT $1, p.position, p.transaction_id::xid8, p.stream_id, p.version, p.type, p.error,
            CASE WHEN p.error IS NULL THEN 0 ELSE 1 END, CASE WHEN p.error IS NULL THEN NULL ELSE now() END
     FROM unnest($2::bigint[], $3::text[], $4::text[], $5::integer[], $6::text[], $7::text[])
          AS p(position, transaction_id, stream_id, version, type, error)`,
    [
      key,
      parkings.map((p) => p.event.globalPosition),
      parkings.map((p) => p.event.transactionId),
      parkings.map((p) => p.event.streamId),
      parkings.map((p) => p.event.version),
      parkings.map((p) => p.event.type),
      parkings.map((p) => p.error),
    ],
  );
}
