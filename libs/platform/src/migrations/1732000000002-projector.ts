import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Checkpointed consumers (docs/event-store.md): one checkpoint row per projection, written in the same
 * transaction as the projection's rows and guarded by its previous value; events that failed to apply
 * park their own stream until retried.
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
    await queryRunner.query(`
      CREATE TABLE parked_events (
        projection       text NOT NULL,
        global_position  bigint NOT NULL,
        transaction_id   xid8 NOT NULL,
        stream_id        text NOT NULL,
        version          integer NOT NULL,
        type             text NOT NULL,
        error            text NOT NULL,
        attempts         integer NOT NULL DEFAULT 1,
        parked_at        timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (projection, global_position)
      )`);
    await queryRunner.query(`CREATE INDEX parked_events_by_stream ON parked_events (projection, stream_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE parked_events`);
    await queryRunner.query(`DROP TABLE projection_checkpoints`);
  }
}
