import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What `POST /refunds` needs besides the event store (docs/operations.md, "Submitting a batch"; libs/ingest
 * `RefundSubmissions`):
 * - `refund_batch_serial`: the serial of every `batch_no` (Beijing date + serial, docs/alipay-protocol.md,
 *   "batch_no"). Alipay refuses a batch_no used before, for ever; a sequence never hands out a value twice,
 * whatever rolls back.
 * - `refund_submission_keys`: a client's `Idempotency-Key` and the batch it named, so that a retried POST
 *   answers the batch it made instead of making a second one; `request_hash` tells a retry from a reuse.
 */
export class RefundBatchSerial1732000000006 implements MigrationInterface {
  name = 'RefundBatchSerial1732000000006';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE SEQUENCE refund_batch_serial AS bigint MINVALUE 1 START 1 NO CYCLE`);
    await queryRunner.query(`
      CREATE TABLE refund_submission_keys (
        idempotency_key  text PRIMARY KEY,
        request_hash     text NOT NULL,
        batch_no         text NOT NULL,
        created_at       timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE refund_submission_keys`);
    await queryRunner.query(`DROP SEQUENCE refund_batch_serial`);
  }
}
