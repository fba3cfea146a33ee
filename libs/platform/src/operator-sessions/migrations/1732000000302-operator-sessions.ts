import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The console's sign-ins (docs/console.md, "Sessions"): one row per session, keyed by the SHA-256 of the
 * random id its cookie carries (a copy of the table opens no session), with the operator's name, the form
 * token every POST must bring back, and a message kept for the next page. Each instance reads the same rows,
 * so a session holds whichever instance answers. Failed sign-ins are counted per source address for the
 * throttle; rows older than its window are deleted as new ones come.
 */
export class OperatorSessions1732000000302 implements MigrationInterface {
  name = 'OperatorSessions1732000000302';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE operator_sessions (
        id_hash       text PRIMARY KEY,
        operator      text NOT NULL,
        csrf_token    text NOT NULL,
        source        text,
        created_at    timestamptz NOT NULL DEFAULT now(),
        last_seen_at  timestamptz NOT NULL DEFAULT now(),
        expires_at    timestamptz NOT NULL,
        flash         jsonb
      )`);
    await queryRunner.query(`CREATE INDEX operator_sessions_by_expiry ON operator_sessions (expires_at)`);
    await queryRunner.query(`
      CREATE TABLE operator_sign_in_failures (
        source     text NOT NULL,
        failed_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX operator_sign_in_failures_by_source ON operator_sign_in_failures (source, failed_at)`,
    );
    await queryRunner.query(
      `CREATE INDEX operator_sign_in_failures_by_time ON operator_sign_in_failures (failed_at)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE operator_sign_in_failures`);
    await queryRunner.query(`DROP TABLE operator_sessions`);
  }
}
