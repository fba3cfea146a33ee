import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The order status projection (docs/product-rules.md, "Order status"; libs/projections): one row per order
 * stream, written only by the projector in the transaction that moves its checkpoint, and rebuilt by building
 * a shadow copy (`LIKE ... INCLUDING ALL`) and swapping it in. `state` is the folded order the columns are
 * read from; times are the events' recorded times. The partial indexes serve the work lists of the delivery,
 * shipping and return decisions, which stay short however many orders there are.
 */
export class OrderProjections1732000000004 implements MigrationInterface {
  name = 'OrderProjections1732000000004';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE order_status (
        out_trade_no    text PRIMARY KEY,
        placed          boolean NOT NULL,
        service         text,
        subject         text,
        total_fee       bigint,
        trade_no        text,
        status          text,
        status_code     smallint,
        trade_status    text,
        refund_status   text,
        payment_type    text,
        paid_fee        bigint NOT NULL,
        refunded_fee    bigint NOT NULL,
        buyer_id        text,
        buyer_email     text,
        delivery_state  text NOT NULL,
        return_state    text NOT NULL,
        shipping_state  text NOT NULL,
        anomalies       jsonb NOT NULL,
        state           jsonb NOT NULL,
        version         integer NOT NULL,
        last_position   bigint NOT NULL,
        created_at      timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX order_status_by_created ON order_status (created_at, out_trade_no)`,
    );
    await queryRunner.query(
      `CREATE INDEX order_status_by_status ON order_status (status, created_at, out_trade_no)`,
    );
    await queryRunner.query(`CREATE INDEX order_status_by_trade_no ON order_status (trade_no)`);
    for (const decision of ['delivery', 'shipping', 'return']) {
      await queryRunner.query(
        `CREATE INDEX order_status_${decision}_pending ON order_status (updated_at, out_trade_no)
         WHERE ${decision}_state = 'pending'`,
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE order_status`);
  }
}
