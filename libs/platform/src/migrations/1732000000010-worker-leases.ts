import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The background workers' leases (docs/operations.md, "Liveness under faults"): a row per worker, held by
 * one instance until `expires_at` by the database's clock, with a fencing token that grows at every new
 * tenure. Rows are never deleted, so that the token never goes back.
 */
export class WorkerLeases1732000000010 implements MigrationInterface {
  name = 'WorkerLeases1732000000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE worker_leases (
        worker text PRIMARY KEY,
        holder text NOT NULL,
        token bigint NOT NULL CHECK (token > 0),
        expires_at timestamptz NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE worker_leases`);
  }
}
