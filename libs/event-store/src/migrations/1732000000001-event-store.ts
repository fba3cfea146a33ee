import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One append in one round trip (docs/event-store.md, "Appending"). `expected_version`: NULL for any, 0 for
 * "the stream must not exist", N for "the stream is at N". The stream's versions are claimed first, and the
 * events inserted only if the claim succeeded, so a refused append draws no global position. A stream's
 * writers must come in transaction-id order (the stream-order guard): a writer whose transaction id is below
 * the stream's last writer claims nothing. A refused claim returns no version, with the stream's state read
 * in a fresh snapshot so that the caller can say why. PL/pgSQL keeps the plans of these statements for the
 * session, which matters: planning them costs more than running them for a single event.
 */
const APPEND_FUNCTION = `
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
 * The event store (docs/event-store.md). `streams` is claimed before a global position is taken, so a
 * writer that loses the optimistic-concurrency race leaves no hole in the identity. Each event records the
 * id of the transaction that wrote it: consumers read in (transaction_id, global_position) order and only
 * below the oldest transaction still running, so a late commit is never skipped. `data` is `json`, kept as
 * the writer's text: the store never queries inside it, and turning `jsonb` back into text was half of
 * PostgreSQL's work in a replay. `metadata` is `jsonb`, to be searched by causation or correlation.
 */
export class EventStore1732000000001 implements MigrationInterface {
  name = 'EventStore1732000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE streams (
        stream_id            text PRIMARY KEY,
        version              integer NOT NULL CHECK (version >= 0),
        last_transaction_id  xid8 NOT NULL,
        created_at           timestamptz NOT NULL DEFAULT now(),
        updated_at           timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE events (
        global_position  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        transaction_id   xid8 NOT NULL DEFAULT pg_current_xact_id(),
        stream_id        text NOT NULL REFERENCES streams (stream_id),
        version          integer NOT NULL CHECK (version >= 1),
        type             text NOT NULL,
        schema_version   integer NOT NULL DEFAULT 1 CHECK (schema_version >= 1),
        data             json NOT NULL,
        metadata         jsonb NOT NULL,
        recorded_at      timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT events_stream_version_unique UNIQUE (stream_id, version)
      )`);
    await queryRunner.query(`CREATE INDEX events_global_order ON events (transaction_id, global_position)`);
    await queryRunner.query(APPEND_FUNCTION);
    await queryRunner.query(`
      CREATE FUNCTION events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'events are immutable: % refused on event store table %', TG_OP, TG_TABLE_NAME
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER events_refuse_update_delete BEFORE UPDATE OR DELETE ON events
      FOR EACH ROW EXECUTE FUNCTION events_are_immutable()`);
    await queryRunner.query(`
      CREATE TRIGGER events_refuse_truncate BEFORE TRUNCATE ON events
      FOR EACH STATEMENT EXECUTE FUNCTION events_are_immutable()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP FUNCTION event_store_append(text, integer, json, text)`);
    await queryRunner.query(`DROP TABLE events`);
    await queryRunner.query(`DROP FUNCTION events_are_immutable()`);
    await queryRunner.query(`DROP TABLE streams`);
  }
}
