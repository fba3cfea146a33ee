import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Checkpointed consumers (docs/event-store.md, "Consumers"): one checkpoint row per projection, written in
 * the same transaction as the projection's rows and locked by the batch that moves it; events that failed
 * to apply park their own stream until retried. A rebuild keeps its own rows under `<projection>__rebuild`.
 */
export class Projector1732000000002 implements MigrationInterface {
  name = 'Projector1732000000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE projection_checkpoints (
        projection      text PRIMARY KEY,
        transaction_id  xid8 NOT NULL DEFAULT '0',
        position        bigint NOT NULL DEFAULT 0,
        updated_at      timestamptz NOT NULL DEFAULT now()
      )`);
    // error is NULL for an event that did not fail itself but waits behind an earlier failure of its stream.
    await queryRunner.query(`
      CREATE TABLE parked_events (
        projection       text NOT NULL,
        global_position  bigint NOT NULL,
        transaction_id   xid8 NOT NULL,
        stream_id        text NOT NULL,
        version          integer NOT NULL,
        type             text NOT NULL,
        error            text,
        attempts         integer NOT NULL DEFAULT 0,
        parked_at        timestamptz NOT NULL DEFAULT now(),
        last_failed_at   timestamptz,
        PRIMARY KEY (projection, global_position)
      )`);
    await queryRunner.query(
      `CREATE INDEX parked_events_by_stream ON parked_events (projection, stream_id, transaction_id, global_position)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE parked_events`);
    await queryRunner.query(`DROP TABLE projection_checkpoints`);
  }
}
