import type { DatabaseSession } from '@ledger/platform';
import type { EventMetadata, GlobalCheckpoint, RecordedEvent } from '../event-envelope';
import type { UpcasterChain } from '../upcasting';

/** An event as the consumer reads it; `data` is left out (null) for types the projection skips. */
export interface StoredEvent {
  globalPosition: number;
  transactionId: string;
  streamId: string;
  version: number;
  type: string;
  schemaVersion: number;
  data: unknown;
  metadata: EventMetadata;
  recordedAt: Date;
}

interface EventRow {
  global_position: string | number;
  xid: string;
  stream_id: string;
  version: number;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: EventMetadata & { recordedAt?: string };
  recorded_at: Date | null;
}

// The xid is selected under another name: in ORDER BY an output column's name wins over the table's
// column, and ordering by `transaction_id::text AS transaction_id` would sort '1000' before '999'.
// Appends copy recorded_at into the metadata; the column is parsed only for events written otherwise.
const COLUMNS = `e.global_position, e.transaction_id::text AS xid, e.stream_id, e.version, e.type,
  e.schema_version, e.metadata, CASE WHEN e.metadata ? 'recordedAt' THEN NULL ELSE e.recorded_at END AS recorded_at`;

const toStoredEvent = (row: EventRow): StoredEvent => ({
  globalPosition: Number(row.global_position),
  transactionId: row.xid,
  streamId: row.stream_id,
  version: row.version,
  type: row.type,
  schemaVersion: row.schema_version,
  data: row.data,
  metadata: row.metadata,
  recordedAt: row.recorded_at ?? new Date(row.metadata.recordedAt!),
});

/**
 * Up to `limit` events after `after` in (transaction id, position) order, of transactions below the oldest
 * one still running (docs/event-store.md, "Global order that consumers can trust"): every transaction below
 * that horizon has committed or rolled back, so no event can later appear before what this returns, and an
 * open transaction holds consumers back instead of being skipped. `data` is read only for `handles`. With
 * `until`, none past it: a verification folds exactly as far as the live projection went.
 */
export async function readBatchAfter(
  session: DatabaseSession,
  after: GlobalCheckpoint,
  limit: number,
  handles: readonly string[] | undefined,
  until?: GlobalCheckpoint,
): Promise<StoredEvent[]> {
  const bound =
    until === undefined ? '' : 'AND (e.transaction_id, e.global_position) <= ($5::xid8, $6::bigint)';
  const rows = await session.query<EventRow>(
    `SELECT ${COLUMNS}, CASE WHEN $4::text[] IS NULL OR e.type = ANY($4::text[]) THEN e.data END AS data
     FROM events e
     WHERE (e.transaction_id, e.global_position) > ($1::xid8, $2::bigint) ${bound}
       AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
     ORDER BY e.transaction_id, e.global_position
     LIMIT $3`,
    [
      after.transactionId,
      after.position,
      limit,
      handles ?? null,
      ...(until === undefined ? [] : [until.transactionId, until.position]),
    ],
  );
  return rows.map(toStoredEvent);
}

/** The events at `positions`, in (transaction id, position) order. */
export async function readEventsAt(
  session: DatabaseSession,
  positions: readonly number[],
): Promise<StoredEvent[]> {
  const rows = await session.query<EventRow>(
    `SELECT ${COLUMNS}, e.data FROM events e WHERE e.global_position = ANY($1::bigint[])
     ORDER BY e.transaction_id, e.global_position`,
    [positions],
  );
  return rows.map(toStoredEvent);
}

/** The event as projections receive it: upcast to its type's current schema version (may throw). */
export function toRecordedEvent(event: StoredEvent, upcasters: UpcasterChain): RecordedEvent {
  const { schemaVersion, data } = upcasters.upcast(event);
  const { metadata } = event;
  return {
    globalPosition: event.globalPosition,
    transactionId: event.transactionId,
    streamId: event.streamId,
    version: event.version,
    type: event.type,
    schemaVersion,
    data,
    // Appends store recordedAt in the metadata: a rebuild reads it hundreds of thousands of times.
    metadata:
      typeof metadata.recordedAt === 'string'
        ? (metadata as RecordedEvent['metadata'])
        : { ...metadata, recordedAt: event.recordedAt.toISOString() },
    recordedAt: event.recordedAt,
  };
}
