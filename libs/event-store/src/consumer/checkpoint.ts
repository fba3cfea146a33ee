import type { DatabaseSession } from '@ledger/platform';
import { ORIGIN, type GlobalCheckpoint } from '../event-envelope';
import { ProjectorError } from './projector-error';

/** Where an append ended, as `EventStore.append` reports it. */
export interface AppendedPosition {
  transactionId: string;
  lastPosition: number;
}

const XID8 = /^\d{1,20}$/;

/**
 * Orders checkpoints as the consumers read: by transaction id, then global position (docs/event-store.md,
 * "Global order that consumers can trust"). xid8 is a 64-bit counter, compared exactly as a bigint.
 */
export function compareCheckpoints(a: GlobalCheckpoint, b: GlobalCheckpoint): number {
  const byTransaction = BigInt(a.transactionId) - BigInt(b.transactionId);
  if (byTransaction !== 0n) return byTransaction < 0n ? -1 : 1;
  return Math.sign(a.position - b.position);
}

/** A validated checkpoint from either form a caller holds. */
export function toCheckpoint(target: GlobalCheckpoint | AppendedPosition): GlobalCheckpoint {
  const checkpoint =
    'lastPosition' in target
      ? { transactionId: target.transactionId, position: target.lastPosition }
      : { transactionId: target.transactionId, position: target.position };
  if (
    typeof checkpoint.transactionId !== 'string' ||
    !XID8.test(checkpoint.transactionId) ||
    !Number.isSafeInteger(checkpoint.position) ||
    checkpoint.position < 0
  ) {
    throw new ProjectorError(
      'INVALID_CHECKPOINT',
      `${JSON.stringify(target)} is not a checkpoint: a transaction id (xid8 digits) and a position >= 0`,
    );
  }
  return checkpoint;
}

interface CheckpointRow {
  transaction_id: string;
  position: string | number;
}

const fromRow = (row: CheckpointRow): GlobalCheckpoint => ({
  transactionId: row.transaction_id,
  position: Number(row.position),
});

/** Creates the checkpoint row at ORIGIN unless it exists. */
export async function ensureCheckpoint(session: DatabaseSession, key: string): Promise<void> {
  await session.query(`INSERT INTO projection_checkpoints (projection) VALUES ($1) ON CONFLICT DO NOTHING`, [
    key,
  ]);
}

/** The committed checkpoint, ORIGIN when the projection never ran. */
export async function readCheckpoint(session: DatabaseSession, key: string): Promise<GlobalCheckpoint> {
  const rows = await session.query<CheckpointRow>(
    `SELECT transaction_id::text AS transaction_id, position FROM projection_checkpoints WHERE projection = $1`,
    [key],
  );
  return rows.length === 0 ? ORIGIN : fromRow(rows[0]);
}

/** A locked checkpoint and the streams parked behind a failure at that moment. */
export interface LockedCheckpoint {
  checkpoint: GlobalCheckpoint;
  parkedStreams: ReadonlySet<string>;
}

/**
 * Locks the checkpoint row for the rest of the transaction. Whoever else wants to move it (a second
 * instance during a takeover, a parked-event retry, a rebuild's swap) waits here instead of doing a
 * batch's work and failing, and the batch is always read from the latest committed checkpoint.
 */
export async function lockCheckpoint(session: DatabaseSession, key: string): Promise<LockedCheckpoint> {
  const rows = await session.query<CheckpointRow & { parked_streams: string[] | null }>(
    `SELECT transaction_id::text AS transaction_id, position,
            (SELECT array_agg(DISTINCT stream_id) FROM parked_events WHERE projection = $1) AS parked_streams
     FROM projection_checkpoints WHERE projection = $1 FOR UPDATE`,
    [key],
  );
  if (rows.length === 0) {
    throw new ProjectorError('UNKNOWN_PROJECTION', `projection ${key} has no checkpoint row`, {
      projection: key,
    });
  }
  return { checkpoint: fromRow(rows[0]), parkedStreams: new Set(rows[0].parked_streams ?? []) };
}

/**
 * Moves the checkpoint from `from` (the value locked by this transaction) to `to`. The guard on the old
 * value is a second line of defence: it can only fail if the row lock was bypassed, and then nothing of
 * the batch may commit.
 */
export async function moveCheckpoint(
  session: DatabaseSession,
  key: string,
  from: GlobalCheckpoint,
  to: GlobalCheckpoint,
): Promise<void> {
  const [{ moved }] = await session.query<{ moved: number }>(
    `WITH moved AS (
       UPDATE projection_checkpoints SET transaction_id = $2::xid8, position = $3, updated_at = now()
       WHERE projection = $1 AND transaction_id = $4::xid8 AND position = $5
       RETURNING 1)
     SELECT count(*)::int AS moved FROM moved`,
    [key, to.transactionId, to.position, from.transactionId, from.position],
  );
  if (moved !== 1) {
    throw new Error(
      `the checkpoint of ${key} moved under a batch that held its lock (expected it at ` +
        `${from.transactionId}/${from.position}); the batch was rolled back`,
    );
  }
}
