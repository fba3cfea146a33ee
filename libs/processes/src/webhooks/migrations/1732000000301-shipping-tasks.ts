import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The escrow shipping confirmations still to make (docs/fulfilment.md, "Escrow shipping"): one row per
 * delivered order whose shipping may be due, written by the fulfilment consumer with its checkpoint, claimed
 * by the instances with `FOR UPDATE SKIP LOCKED` (`next_attempt_at` is also when a claim expires), deleted
 * once the order's stream says nothing more is due.
 */
export class ShippingTasks1732000000301 implements MigrationInterface {
  name = 'ShippingTasks1732000000301';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE shipping_tasks (
        out_trade_no     text PRIMARY KEY,
        next_attempt_at  timestamptz NOT NULL DEFAULT now(),
        claim_token      text,
        last_error       text,
        created_at       timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX shipping_tasks_due ON shipping_tasks (next_attempt_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE shipping_tasks`);
  }
}
