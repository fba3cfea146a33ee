import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The reconciler's schedule (docs/operations.md, "Reconciliation"): one row per order to ask Alipay about,
 * with when to ask next, how often it was asked and what the last answer was. Instances share it: a row
 * is claimed for one query at a time (`FOR UPDATE SKIP LOCKED`, then `claimed_until`), and a restart
 * finds the schedule where it was.
 */
export class ReconcileSchedule1732000000551 implements MigrationInterface {
  name = 'ReconcileSchedule1732000000551';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE reconcile_schedule (
        out_trade_no     text PRIMARY KEY,
        reason           text NOT NULL CHECK (reason IN ('awaiting_payment', 'notification', 'on_demand')),
        state            text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved', 'expired')),
        cause_at         timestamptz NOT NULL,
        horizon_at       timestamptz NOT NULL,
        next_at          timestamptz NOT NULL,
        attempts         integer NOT NULL DEFAULT 0,
        claimed_until    timestamptz,
        enrolled_at      timestamptz NOT NULL DEFAULT now(),
        last_attempt_at  timestamptz,
        last_answer      text,
        last_detail      jsonb,
        last_inbox_id    bigint,
        paid_by_query    boolean NOT NULL DEFAULT false,
        settled_at       timestamptz
      )`);
    await queryRunner.query(
      `CREATE INDEX reconcile_schedule_due ON reconcile_schedule (next_at, out_trade_no) WHERE state = 'open'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE reconcile_schedule`);
  }
}
