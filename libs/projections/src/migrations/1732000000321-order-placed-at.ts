import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `order_status.placed_at`: when the order was placed (`OrderPlaced.placedAt`, the old site's time for an
 * imported order), which the orders export filters and pages on (docs/operations.md, "Exports"); null for a
 * stream that holds only anomalies. Existing rows get it from the state they keep.
 */
export class OrderPlacedAt1732000000321 implements MigrationInterface {
  name = 'OrderPlacedAt1732000000321';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE order_status ADD COLUMN placed_at timestamptz`);
    await queryRunner.query(
      `UPDATE order_status SET placed_at = (state -> 'placed' ->> 'placedAt')::timestamptz
       WHERE state ? 'placed'`,
    );
    await queryRunner.query(
      `CREATE INDEX order_status_by_placed ON order_status (placed_at, out_trade_no)
       WHERE placed_at IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE order_status DROP COLUMN placed_at`);
  }
}
