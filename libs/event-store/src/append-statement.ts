import type { AppendRequest } from './append-request';

/** The channel that `append` notifies at commit; the payload is the appending transaction's id. */
export const EVENTS_NOTIFY_CHANNEL = 'ledger_events';

/**
 * Claims the stream's next versions (docs/event-store.md, "Append"). Every variant returns the new version
 * or no row. A stream's writers must come in transaction-id order, so a writer whose id is below the
 * stream's last writer claims nothing ("The stream-order guard").
 */
const CLAIMS: Record<AppendRequest['claim']['kind'], string> = {
  // A concurrent creator makes ON CONFLICT wait for its outcome; once it commits, we claim nothing.
  create: `
    INSERT INTO streams (stream_id, version, last_transaction_id)
    VALUES ($1, $2, pg_current_xact_id())
    ON CONFLICT (stream_id) DO NOTHING
    RETURNING version`,
  // READ COMMITTED re-checks the WHERE on the newest row version after waiting for a concurrent writer.
  advance: `
    UPDATE streams
    SET version = version + $2, last_transaction_id = pg_current_xact_id(), updated_at = now()
    WHERE stream_id = $1 AND version = $4 AND last_transaction_id <= pg_current_xact_id()
    RETURNING version`,
  any: `
    INSERT INTO streams AS s (stream_id, version, last_transaction_id)
    VALUES ($1, $2, pg_current_xact_id())
    ON CONFLICT (stream_id) DO UPDATE
    SET version = s.version + excluded.version, last_transaction_id = excluded.last_transaction_id,
        updated_at = now()
    WHERE s.last_transaction_id <= excluded.last_transaction_id
    RETURNING version`,
};

/**
 * One statement, one round trip: claim the versions, then insert the batch only if the claim returned a
 * row, so a loser never draws a global position and leaves no hole. The notification is queued in the
 * same transaction and delivered at commit. The outer SELECT always returns one row: the transaction id
 * lets a refused append be diagnosed afterwards against the writer that beat it.
 */
function appendStatement(claim: string): string {
  return `
    WITH claim AS (${claim}
    ), appended AS (
      INSERT INTO events (stream_id, version, type, schema_version, data, metadata)
      SELECT $1, claim.version - $2 + e.ordinality, e.value->>'type', (e.value->>'schemaVersion')::integer,
             e.value->'data', e.value->'metadata'
      FROM claim CROSS JOIN jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(value, ordinality)
      ORDER BY e.ordinality
      RETURNING global_position
    ), notified AS (
      SELECT pg_notify('${EVENTS_NOTIFY_CHANNEL}', pg_current_xact_id()::text) FROM claim
    )
    SELECT pg_current_xact_id()::text AS transaction_id,
           (SELECT version FROM claim) AS version,
           (SELECT min(global_position) FROM appended) AS first_position,
           (SELECT max(global_position) FROM appended) AS last_position,
           (SELECT count(*) FROM notified) AS notified`;
}

const STATEMENTS = {
  create: appendStatement(CLAIMS.create),
  advance: appendStatement(CLAIMS.advance),
  any: appendStatement(CLAIMS.any),
};

/** The SQL and parameters of one append. */
export function appendQuery(request: AppendRequest): { sql: string; parameters: unknown[] } {
  const parameters: unknown[] = [request.streamId, request.rows.length, JSON.stringify(request.rows)];
  if (request.claim.kind === 'advance') parameters.push(request.claim.from);
  return { sql: STATEMENTS[request.claim.kind], parameters };
}

/** The row `appendQuery` returns; `version` is null when the claim was refused. */
export interface AppendRow {
  transaction_id: string;
  version: number | string | null;
  first_position: number | string | null;
  last_position: number | string | null;
}

/** Why a claim was refused, read after the fact (a new snapshot under READ COMMITTED). */
export const DIAGNOSE_REFUSAL = `
  SELECT version, last_transaction_id > $2::xid8 AS newer_writer
  FROM streams WHERE stream_id = $1`;

export interface RefusalRow {
  version: number | string;
  newer_writer: boolean;
}
