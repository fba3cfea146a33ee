import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the nopwd sender must not forget across restarts and instances (docs/operations.md, "The resender"):
 * one row per nopwd batch it called for. `call_started_at` is written before each call and cleared after its
 * answer is handled, so a call cut short by a crash is found by the next one (`in_doubt`, code
 * `INTERRUPTED`); `in_doubt` says that some call may have reached Alipay unanswered, after which a later `F`
 * releases nothing; `failures` and `next_send_at` are the resender's backoff; `claimed_by` and
 * `claimed_until` let one instance at a time send a batch, for at most the claim's time.
 */
export class RefundBatchSends1732000000401 implements MigrationInterface {
  name = 'RefundBatchSends1732000000401';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE refund_batch_sends (
        batch_no         text PRIMARY KEY,
        calls            integer NOT NULL DEFAULT 0,
        failures         integer NOT NULL DEFAULT 0,
        next_send_at     timestamptz,
        in_doubt         boolean NOT NULL DEFAULT false,
        doubt_code       text,
        doubt_detail     text,
        call_started_at  timestamptz,
        claimed_by       text,
        claimed_until    timestamptz,
        updated_at       timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE refund_batch_sends`);
  }
}
