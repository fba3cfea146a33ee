import type { MigrationInterface, QueryRunner } from 'typeorm';

/** What both forms of `event_store_append` return: one row, `next_version` NULL when the claim was refused. */
const RESULT = `
    OUT transaction_id text, OUT next_version integer, OUT first_position bigint, OUT last_position bigint,
    OUT actual_version integer, OUT newer_writer boolean`;

/**
 * The claim, shared by both forms (docs/event-store.md, "Appending"): `expected_version` NULL for any, 0 for
 * "the stream must not exist", N for "the stream is at N"; `batch_size` versions are claimed in `streams`
 * before any global position is drawn, and only by a writer whose transaction id is not below the stream's
 * last writer (the stream-order guard). A refused claim fills in the stream's state, read in a fresh
 * snapshot, and returns.
 */
const CLAIM = `
    transaction_id := writer::text;
    IF expected_version IS NULL THEN
      INSERT INTO streams AS s (stream_id, version, last_transaction_id) VALUES (stream, batch_size, writer)
      ON CONFLICT (stream_id) DO UPDATE
        SET version = s.version + batch_size, last_transaction_id = writer, updated_at = now()
        WHERE s.last_transaction_id <= writer
      RETURNING s.version INTO claimed;
    ELSIF expected_version = 0 THEN
      -- A concurrent creator makes ON CONFLICT wait for its outcome; if it commits, nothing is claimed.
      INSERT INTO streams (stream_id, version, last_transaction_id) VALUES (stream, batch_size, writer)
      ON CONFLICT (stream_id) DO NOTHING
      RETURNING version INTO claimed;
    ELSE
      -- READ COMMITTED re-checks the WHERE on the newest row version after waiting for a concurrent writer.
      UPDATE streams SET version = version + batch_size, last_transaction_id = writer, updated_at = now()
      WHERE stream_id = stream AND version = expected_version AND last_transaction_id <= writer
      RETURNING version INTO claimed;
    END IF;

    IF claimed IS NULL THEN
      SELECT coalesce(max(s.version), 0), coalesce(bool_or(s.last_transaction_id > writer), false)
      INTO actual_version, newer_writer
      FROM streams s WHERE s.stream_id = stream;
      RETURN;
    END IF;
    next_version := claimed;
    actual_version := claimed;
    newer_writer := false;`;

// The column's instant in the form readers get (JavaScript's toISOString), so that reads parse no timestamp.
const RECORDED_AT = `jsonb_build_object('recordedAt', to_char(recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`;

const NOTIFY = `
    IF notify_channel IS NOT NULL THEN
      PERFORM pg_notify(notify_channel, transaction_id);
    END IF;`;

/** A batch, passed as one JSON array of `{ type, schemaVersion, data, metadata }`. */
const APPEND_BATCH = `
  CREATE FUNCTION event_store_append(
    stream text, expected_version integer, new_events json, notify_channel text, ${RESULT}
  ) LANGUAGE plpgsql AS $$
  #variable_conflict use_column
  DECLARE
    writer xid8 := pg_current_xact_id();
    batch_size integer := json_array_length(new_events);
    claimed integer;
    recorded timestamptz := now();
  BEGIN
    ${CLAIM}
    WITH appended AS (
      INSERT INTO events (stream_id, version, type, schema_version, data, metadata, recorded_at)
      SELECT stream, claimed - batch_size + e.ordinality, e.value->>'type', (e.value->>'schemaVersion')::integer,
             e.value->'data', (e.value->'metadata')::jsonb || ${RECORDED_AT}, recorded
      FROM json_array_elements(new_events) WITH ORDINALITY AS e(value, ordinality)
      ORDER BY e.ordinality
      RETURNING global_position
    )
    SELECT min(global_position), max(global_position) INTO first_position, last_position FROM appended;
    ${NOTIFY}
  END $$`;

/** One event, its fields as typed arguments: no JSON array to build, parse and take apart. */
const APPEND_ONE = `
  CREATE FUNCTION event_store_append(
    stream text, expected_version integer, event_type text, event_schema_version integer, event_data json,
    event_metadata jsonb, notify_channel text, ${RESULT}
  ) LANGUAGE plpgsql AS $$
  #variable_conflict use_column
  DECLARE
    writer xid8 := pg_current_xact_id();
    batch_size integer := 1;
    claimed integer;
    recorded timestamptz := now();
  BEGIN
    ${CLAIM}
    INSERT INTO events (stream_id, version, type, schema_version, data, metadata, recorded_at)
    VALUES (stream, claimed, event_type, event_schema_version, event_data, event_metadata || ${RECORDED_AT},
            recorded)
    RETURNING global_position INTO first_position;
    last_position := first_position;
    ${NOTIFY}
  END $$`;

/** Migration 1732000000001's function, which `down` restores. */
const PREVIOUS_APPEND = `
  CREATE FUNCTION event_store_append(
    stream text, expected_version integer, new_events json, notify_channel text
  ) RETURNS TABLE (
    transaction_id text, next_version integer, first_position bigint, last_position bigint,
    actual_version integer, newer_writer boolean
  ) LANGUAGE plpgsql AS $$
  #variable_conflict use_column
  DECLARE
    writer xid8 := pg_current_xact_id();
    batch_size integer := json_array_length(new_events);
    claimed integer;
    first_appended bigint;
    last_appended bigint;
    recorded timestamptz := now();
    -- The column's instant in the form readers get (JavaScript's toISOString), so that reads parse no timestamp.
    recorded_iso text := to_char(recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
  BEGIN
    IF expected_version IS NULL THEN
      INSERT INTO streams AS s (stream_id, version, last_transaction_id) VALUES (stream, batch_size, writer)
      ON CONFLICT (stream_id) DO UPDATE
        SET version = s.version + batch_size, last_transaction_id = writer, updated_at = now()
        WHERE s.last_transaction_id <= writer
      RETURNING s.version INTO claimed;
    ELSIF expected_version = 0 THEN
      -- A concurrent creator makes ON CONFLICT wait for its outcome; if it commits, nothing is claimed.
      INSERT INTO streams (stream_id, version, last_transaction_id) VALUES (stream, batch_size, writer)
      ON CONFLICT (stream_id) DO NOTHING
      RETURNING version INTO claimed;
    ELSE
      -- READ COMMITTED re-checks the WHERE on the newest row version after waiting for a concurrent writer.
      UPDATE streams SET version = version + batch_size, last_transaction_id = writer, updated_at = now()
      WHERE stream_id = stream AND version = expected_version AND last_transaction_id <= writer
      RETURNING version INTO claimed;
    END IF;

    IF claimed IS NULL THEN
      RETURN QUERY
        SELECT writer::text, NULL::integer, NULL::bigint, NULL::bigint,
               coalesce(max(s.version), 0), coalesce(bool_or(s.last_transaction_id > writer), false)
        FROM streams s WHERE s.stream_id = stream;
      RETURN;
    END IF;

    WITH appended AS (
      INSERT INTO events (stream_id, version, type, schema_version, data, metadata, recorded_at)
      SELECT stream, claimed - batch_size + e.ordinality, e.value->>'type', (e.value->>'schemaVersion')::integer,
             e.value->'data', (e.value->'metadata')::jsonb || jsonb_build_object('recordedAt', recorded_iso),
             recorded
      FROM json_array_elements(new_events) WITH ORDINALITY AS e(value, ordinality)
      ORDER BY e.ordinality
      RETURNING global_position
    )
    SELECT min(global_position), max(global_position) INTO first_appended, last_appended FROM appended;

    IF notify_channel IS NOT NULL THEN
      PERFORM pg_notify(notify_channel, writer::text);
    END IF;
    RETURN QUERY SELECT writer::text, claimed, first_appended, last_appended, claimed, false;
  END $$`;

/**
 * The append's cost (docs/event-store.md, "Append cost"). `event_store_append` returns its one row through
 * OUT parameters instead of a set (no result set to build and scan per call), and gains a single-event form
 * whose fields are typed arguments; the batch form keeps its JSON array. The claim, the order guard, the
 * refusal's report and the NOTIFY are those of migration 1732000000001, shared by both forms.
 */
export class EventStoreAppendOne1732000000200 implements MigrationInterface {
  name = 'EventStoreAppendOne1732000000200';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION event_store_append(text, integer, json, text)`);
    await queryRunner.query(APPEND_BATCH);
    await queryRunner.query(APPEND_ONE);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DROP FUNCTION event_store_append(text, integer, text, integer, json, jsonb, text)`,
    );
    await queryRunner.query(`DROP FUNCTION event_store_append(text, integer, json, text)`);
    await queryRunner.query(PREVIOUS_APPEND);
  }
}
