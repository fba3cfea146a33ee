import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the console asks of the order status projection (docs/console.md, "Orders" and "Needs attention"):
 * orders by buyer, and the short lists of orders that wait for a person, each kept in a partial index so
 * that reading one costs its length, not the table's. A rebuild's shadow table copies them (`LIKE ...
 * INCLUDING ALL`).
 */
export class OrderSearch1732000000303 implements MigrationInterface {
  name = 'OrderSearch1732000000303';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX order_status_by_buyer_id ON order_status (buyer_id)`);
    await queryRunner.query(`CREATE INDEX order_status_by_buyer_email ON order_status (buyer_email)`);
    await queryRunner.query(
      `CREATE INDEX order_status_with_anomalies ON order_status (updated_at, out_trade_no)
       WHERE anomalies <> '[]'::jsonb`,
    );
    await queryRunner.query(
      `CREATE INDEX order_status_return_review ON order_status (updated_at, out_trade_no)
       WHERE return_state = 'manual_review'`,
    );
    await queryRunner.query(
      `CREATE INDEX order_status_shipping_failed ON order_status (updated_at, out_trade_no)
       WHERE shipping_state = 'failed'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const index of [
      'order_status_shipping_failed',
      'order_status_return_review',
      'order_status_with_anomalies',
      'order_status_by_buyer_email',
      'order_status_by_buyer_id',
    ]) {
      await queryRunner.query(`DROP INDEX ${index}`);
    }
  }
}
