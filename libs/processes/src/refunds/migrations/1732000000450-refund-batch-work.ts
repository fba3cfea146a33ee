import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The refund process managers' work list (docs/operations.md, "The resender"), written by the
 * `refund_batch_work` consumer with its checkpoint: one row per submitted batch, with what it still waits
 * for. `awaiting_answer`: a nopwd batch without the gateway's answer (the resender's; its calls and backoff
 * stay in `refund_batch_sends`); `awaiting_result`: no result, no flag yet (the result timeout's);
 * `awaiting_confirmation`: a pwd batch nobody confirmed (its expiry's). The due times follow from
 * `submitted_at` and the settings of the instance that claims, so a changed setting applies to every
 * waiting batch. `check_after` and `expire_after` are the claims of the timeout and of the expiry: a row is
 * claimed by moving them forward, and a claim that was not settled (a crash, a failed command) is the retry.
 */
export class RefundBatchWork1732000000450 implements MigrationInterface {
  name = 'RefundBatchWork1732000000450';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE refund_batch_work (
        batch_no               text PRIMARY KEY,
        mode                   text NOT NULL,
        submitted_at           timestamptz NOT NULL,
        awaiting_answer        boolean NOT NULL,
        awaiting_result        boolean NOT NULL,
        awaiting_confirmation  boolean NOT NULL,
        check_after            timestamptz,
        expire_after           timestamptz,
        updated_at             timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX refund_batch_work_answer ON refund_batch_work (submitted_at, batch_no) WHERE awaiting_answer`,
    );
    await queryRunner.query(
      `CREATE INDEX refund_batch_work_result ON refund_batch_work (submitted_at, batch_no) WHERE awaiting_result`,
    );
    await queryRunner.query(
      `CREATE INDEX refund_batch_work_confirmation ON refund_batch_work (submitted_at, batch_no)
       WHERE awaiting_confirmation`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE refund_batch_work`);
  }
}
