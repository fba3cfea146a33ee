import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An inbox row is written twice: stored raw, then given its outcome. With `outcome` in an index, that
 * update rewrote every index of the row (seven); without it, and with room left on each page, PostgreSQL
 * updates the row in place (a HOT update), touching no index. What the outcome index served: the sweep of
 * interrupted rows now reads a recent window of `received_at` (libs/ingest InboxRecovery), and the admin
 * filter by outcome reads newest first by id.
 */
export class InboxHotOutcomes1732000000008 implements MigrationInterface {
  name = 'InboxHotOutcomes1732000000008';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX inbox_by_outcome`);
    await queryRunner.query(`ALTER TABLE inbox_notifications SET (fillfactor = 70)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE inbox_notifications RESET (fillfactor)`);
    await queryRunner.query(`CREATE INDEX inbox_by_outcome ON inbox_notifications (outcome, id)`);
  }
}
