import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event store (docs/event-store.md). `streams` is claimed before a global position is taken, so a
 * writer that loses the optimistic-concurrency race leaves no hole in the identity. Each event records the
 * id of the transaction that wrote it: consumers read in (transaction_id, global_position) order and only
 * below the oldest transaction still running, so a late commit is never skipped.
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
        data             jsonb NOT NULL,
        metadata         jsonb NOT NULL,
        recorded_at      timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT events_stream_version_unique UNIQUE (stream_id, version)
      )`);
    await queryRunner.query(`CREATE INDEX events_global_order ON events (transaction_id, global_position)`);
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
    await queryRunner.query(`DROP TABLE events`);
    await queryRunner.query(`DROP FUNCTION events_are_immutable()`);
    await queryRunner.query(`DROP TABLE streams`);
  }
}
