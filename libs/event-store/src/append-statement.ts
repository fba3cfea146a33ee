import type { AppendRequest } from './append-request';

/** The channel that wakes consumers after an append; the payload is the appending transaction's id. */
export const EVENTS_NOTIFY_CHANNEL = 'ledger_events';

/**
 * One round trip per append, refused or not: `event_store_append` (migration 1732000000001) claims the
 * stream's versions, then inserts the batch, and on refusal reports the stream's state.
 */
const APPEND_SQL = `SELECT * FROM event_store_append($1, $2, $3::json, $4)`;

/**
 * The query of one append. `notifyAtCommit` queues the NOTIFY in the transaction, delivered when the
 * caller's transaction commits; an append that is its own transaction is announced after its commit
 * instead (CommitNotifier).
 */
export function appendQuery(
  request: AppendRequest,
  notifyAtCommit: boolean,
): { sql: string; parameters: unknown[] } {
  const { claim } = request;
  const expected = claim.kind === 'any' ? null : claim.kind === 'create' ? 0 : claim.from;
  return {
    sql: APPEND_SQL,
    parameters: [
      request.streamId,
      expected,
      JSON.stringify(request.rows),
      notifyAtCommit ? EVENTS_NOTIFY_CHANNEL : null,
    ],
  };
}

/** The row `event_store_append` returns; `next_version` is null when the claim was refused. */
export interface AppendRow {
  transaction_id: string;
  next_version: number | null;
  first_position: number | string | null;
  last_position: number | string | null;
  /** The stream's version: after the append, or, when refused, as read right after the refusal. */
  actual_version: number;
  /** Refused because a transaction with a larger id wrote the stream last. */
  newer_writer: boolean;
}
