import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The predicate of an order with an anomaly no operator has resolved; the queries repeat it verbatim. */
export const OPEN_ANOMALY = `jsonb_path_exists(anomalies, '$[*] ? (!(exists(@.resolution)))')`;

/**
 * The orders that wait for a person, counted at every metrics scrape (docs/operations.md, "Metrics"): a
 * partly refunded delivered order in manual review, and an order with an open anomaly. Partial indexes, like
 * the pending decisions' of migration `1732000000004`: they hold the few rows that wait, so the count costs
 * what waits, never the whole table. A rebuild's shadow copy (`LIKE ... INCLUDING ALL`) takes them along.
 */
export class OrderStatusAttention1732000000310 implements MigrationInterface {
  name = 'OrderStatusAttention1732000000310';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX order_status_return_review ON order_status (updated_at, out_trade_no)
       WHERE return_state = 'manual_review'`,
    );
    await queryRunner.query(
      `CREATE INDEX order_status_open_anomaly ON order_status (updated_at, out_trade_no)
       WHERE ${OPEN_ANOMALY}`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX order_status_open_anomaly`);
    await queryRunner.query(`DROP INDEX order_status_return_review`);
  }
}
