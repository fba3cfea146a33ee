import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The `import` channel: notifications read back from a PHP integration's log (docs/operations.md,
 * "Importing a PHP integration's history"), stored and recorded like the ones that reach the edge. The
 * constraint is recreated whole, with `query` (answers of the trade query) beside it, so that whichever of the
 * two migrations runs last leaves both channels allowed.
 */
export class InboxImportChannel1732000000700 implements MigrationInterface {
  name = 'InboxImportChannel1732000000700';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE inbox_notifications DROP CONSTRAINT IF EXISTS inbox_notifications_channel_check;
      ALTER TABLE inbox_notifications ADD CONSTRAINT inbox_notifications_channel_check
        CHECK (channel IN ('notify', 'return', 'refund_notify', 'query', 'import'))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE inbox_notifications DROP CONSTRAINT inbox_notifications_channel_check;
      ALTER TABLE inbox_notifications ADD CONSTRAINT inbox_notifications_channel_check
        CHECK (channel IN ('notify', 'return', 'refund_notify', 'query'))`);
  }
}
