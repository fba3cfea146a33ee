import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The merchant webhooks' outbox (docs/webhooks.md, "Delivery"): one row per webhook, written by the
 * fulfilment consumer in the transaction that moves its checkpoint, so that each is enqueued exactly once.
 * `payload` is the body as it is sent at every attempt; `next_attempt_at` is when it is due (for a
 * `delivering` row: when its claim expires and another instance may take it over); `schedule_from` is the
 * attempt count at the last manual retry, from which the retry schedule starts again. `webhook_attempts`
 * keeps each attempt's answer, its reply cut to 1 KiB.
 */
export class Webhooks1732000000300 implements MigrationInterface {
  name = 'Webhooks1732000000300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE webhook_messages (
        id               text PRIMARY KEY,
        endpoint         text NOT NULL,
        event_type       text NOT NULL,
        subject          text NOT NULL,
        stream_id        text NOT NULL,
        stream_version   integer NOT NULL,
        global_position  bigint NOT NULL,
        payload          text NOT NULL,
        state            text NOT NULL DEFAULT 'pending'
                         CHECK (state IN ('pending', 'delivering', 'succeeded', 'dead', 'cancelled')),
        attempts         integer NOT NULL DEFAULT 0,
        schedule_from    integer NOT NULL DEFAULT 0,
        next_attempt_at  timestamptz NOT NULL DEFAULT now(),
        claim_token      text,
        last_status      integer,
        last_error       text,
        note             text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now(),
        completed_at     timestamptz
      )`);
    await queryRunner.query(
      // In the claim's order, so that a claim reads only the rows it takes, whatever the backlog.
      `CREATE INDEX webhook_messages_due ON webhook_messages (next_attempt_at, id)
       WHERE state IN ('pending', 'delivering')`,
    );
    await queryRunner.query(
      `CREATE INDEX webhook_messages_by_state ON webhook_messages (state, created_at DESC, id DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX webhook_messages_by_subject ON webhook_messages (subject, created_at DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX webhook_messages_by_created ON webhook_messages (created_at DESC, id DESC)`,
    );
    await queryRunner.query(`
      CREATE TABLE webhook_attempts (
        message_id   text NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
        attempt      integer NOT NULL,
        endpoint     text NOT NULL,
        started_at   timestamptz NOT NULL,
        duration_ms  integer NOT NULL,
        outcome      text NOT NULL
                     CHECK (outcome IN ('succeeded', 'failed', 'timeout', 'unreachable', 'interrupted')),
        status       integer,
        reply        text,
        error        text,
        PRIMARY KEY (message_id, attempt)
      )`);
    await queryRunner.query(
      `CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (endpoint, started_at DESC)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE webhook_attempts`);
    await queryRunner.query(`DROP TABLE webhook_messages`);
  }
}
