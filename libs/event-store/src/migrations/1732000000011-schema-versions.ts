import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Versions written by the application, never by a default (docs/events.md, "Evolving events"). An event's
 * `schema_version` is stamped by the event store from the event catalogue; without the column's default, an
 * insert that forgets it fails instead of claiming version 1.
 *
 * Databases migrated before the schema was split by owner also got `order_status.state_version` here; it is
 * now the projections' own migration (1732000000012), which finds it present there and adds nothing. The
 * name stays, since it is recorded in every migrated database.
 */
export class SchemaVersions1732000000011 implements MigrationInterface {
  name = 'SchemaVersions1732000000011';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE events ALTER COLUMN schema_version DROP DEFAULT`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE events ALTER COLUMN schema_version SET DEFAULT 1`);
  }
}
