import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `order_status.state_version`: the shape of the folded `OrderState` the row holds, written by the
 * projection, never by a default (docs/events.md, "Evolving events"); rows written before it hold the first
 * shape. A database migrated before the schema was split by owner got the column from migration
 * 1732000000011 already: then this one changes nothing.
 */
export class OrderStateVersion1732000000012 implements MigrationInterface {
  name = 'OrderStateVersion1732000000012';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE order_status ADD COLUMN IF NOT EXISTS state_version integer NOT NULL DEFAULT 1`,
    );
    await queryRunner.query(`ALTER TABLE order_status ALTER COLUMN state_version DROP DEFAULT`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE order_status DROP COLUMN state_version`);
  }
}
