import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A notification's row is written once, with its outcome, in the commit that records what it caused
 * (docs/operations.md, "What happens to a notification"), so the room migration 1732000000008 left on each
 * page for an in-place outcome update now only spreads the rows out. And a verified payment's row is about
 * 3.6 KB (its body, headers, and the verification's evidence of 2 KB): past the 2 KB from which PostgreSQL
 * compresses a row's largest values and moves them to the TOAST table, which the notification's commit paid
 * for every notification (docs/operations.md, "Throughput"). Rows up to a page now stay whole in the table;
 * larger ones (a refused body's 64 KiB of evidence) are compressed and moved as before. The change rewrites
 * nothing (rows written before keep their layout) and its lock stops neither readers nor writers.
 */
export class InboxRowsInline1732000000701 implements MigrationInterface {
  name = 'InboxRowsInline1732000000701';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE inbox_notifications SET (fillfactor = 100, toast_tuple_target = 8160)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE inbox_notifications RESET (toast_tuple_target)`);
    await queryRunner.query(`ALTER TABLE inbox_notifications SET (fillfactor = 70)`);
  }
}
