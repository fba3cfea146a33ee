import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Versions written by the application, never by a default (docs/events.md, "Evolving events"). An event's
 * `schema_version` is stamped by the event store from the event catalogue; without the column's default, an
 * insert that forgets it fails instead of claiming version 1. `order_status.state_version` is the shape of
 * the folded `OrderState` the row holds; rows written before it hold the first shape.
 */
export class SchemaVersions1732000000011 implements MigrationInterface {
  name = 'SchemaVersions1732000000011';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE events ALTER COLUMN schema_version DROP DEFAULT`);
    await queryRunner.query(`ALTER TABLE order_status ADD COLUMN state_version integer NOT NULL DEFAULT 1`);
    await queryRunner.query(`ALTER TABLE order_status ALTER COLUMN state_version DROP DEFAULT`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE order_status DROP COLUMN state_version`);
    await queryRunner.query(`ALTER TABLE events ALTER COLUMN schema_version SET DEFAULT 1`);
  }
}
