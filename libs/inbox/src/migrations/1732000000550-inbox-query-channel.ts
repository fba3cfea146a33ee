import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The `query` channel: the answers of the ledger's own `single_trade_query` are kept as evidence beside the
 * notifications (docs/operations.md, "Reconciliation").
 */
export class InboxQueryChannel1732000000550 implements MigrationInterface {
  name = 'InboxQueryChannel1732000000550';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE inbox_notifications DROP CONSTRAINT inbox_notifications_channel_check`,
    );
    await queryRunner.query(
      `ALTER TABLE inbox_notifications ADD CONSTRAINT inbox_notifications_channel_check
       CHECK (channel IN ('notify', 'return', 'refund_notify', 'query'))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE inbox_notifications DROP CONSTRAINT inbox_notifications_channel_check`,
    );
    await queryRunner.query(
      `ALTER TABLE inbox_notifications ADD CONSTRAINT inbox_notifications_channel_check
       CHECK (channel IN ('notify', 'return', 'refund_notify'))`,
    );
  }
}
