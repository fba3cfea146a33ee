import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The refund batch projection shows why a batch waits with its outcome unknown and how it was settled by
 * hand or by its expiry (docs/product-rules.md, "Operator resolutions"): `unanswered` is the unanswered
 * call (`{code, detail, at, resendRejection}`), `resolution` the cancellation, expiry or operator's mark
 * (`{action, operator, reason, at}`); both null otherwise. Existing rows are right with nulls: no event
 * that sets them existed before this migration.
 */
export class RefundBatchResolutions1732000000400 implements MigrationInterface {
  name = 'RefundBatchResolutions1732000000400';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE refund_batches ADD COLUMN unanswered jsonb, ADD COLUMN resolution jsonb`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE refund_batches DROP COLUMN unanswered, DROP COLUMN resolution`);
  }
}
