import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the console asks of the order status projection (docs/console.md, "Orders" and "Needs attention"):
 * orders by buyer, and the orders whose shipping confirmation failed, in a partial index so that reading
 * them costs their number, not the table's (the other lists of what waits: migration 1732000000310). A
 * rebuild's shadow table copies them (`LIKE ... INCLUDING ALL`).
 */
export class OrderSearch1732000000303 implements MigrationInterface {
  name = 'OrderSearch1732000000303';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX order_status_by_buyer_id ON order_status (buyer_id)`);
    await queryRunner.query(`CREATE INDEX order_status_by_buyer_email ON order_status (buyer_email)`);
    await queryRunner.query(
      `CREATE INDEX order_status_shipping_failed ON order_status (updated_at, out_trade_no)
       WHERE shipping_state = 'failed'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const index of [
      'order_status_shipping_failed',
      'order_status_by_buyer_email',
      'order_status_by_buyer_id',
    ]) {
      await queryRunner.query(`DROP INDEX ${index}`);
    }
  }
}
