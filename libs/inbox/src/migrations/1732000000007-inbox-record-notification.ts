import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `inbox_record_notification`: a verified notification's events, its notify_id's de-duplication key and
 * its inbox outcome in one statement, hence one round trip and one implicit transaction (libs/ingest;
 * docs/operations.md, "Throughput (`npm run bench:ingest`)"). The events are appended first: a refused append
 * (`next_version` null: the stream moved, or the stream-order guard) writes nothing and is returned as
 * `event_store_append` returned it, so that the caller decides again. Then the key: taken by another
 * delivery, the statement fails with SQLSTATE LDG02, undoing the append. Streams before keys, as every
 * writer of both takes them. The outcome's detail is completed with where the events landed.
 *
 * Dropped by 1732000000013: the inbox no longer calls the event store's SQL.
 */
export class InboxRecordNotification1732000000007 implements MigrationInterface {
  name = 'InboxRecordNotification1732000000007';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION inbox_record_notification(
        stream text, expected_version integer, new_events json, notify_channel text,
        p_notify_id text, p_inbox_id bigint, p_outcome text, p_detail jsonb,
        p_verification jsonb, p_notify_verify jsonb, p_set_verified boolean, p_verified boolean
      ) RETURNS TABLE (
        transaction_id text, next_version integer, first_position bigint, last_position bigint,
        actual_version integer, newer_writer boolean
      ) LANGUAGE plpgsql AS $$
      DECLARE
        appended record;
      BEGIN
        SELECT * INTO appended FROM event_store_append(stream, expected_version, new_events, notify_channel);
        IF appended.next_version IS NOT NULL THEN
          INSERT INTO processed_notifications (notify_id, inbox_id) VALUES (p_notify_id, p_inbox_id)
          ON CONFLICT (notify_id) DO NOTHING;
          IF NOT FOUND THEN
            RAISE EXCEPTION 'notify_id % is already processed', p_notify_id USING ERRCODE = 'LDG02';
          END IF;
          UPDATE inbox_notifications
          SET outcome = p_outcome,
              outcome_detail = p_detail || jsonb_build_object(
                'transactionId', appended.transaction_id,
                'firstPosition', appended.first_position,
                'lastPosition', appended.last_position),
              verification = COALESCE(p_verification, verification),
              notify_verify = COALESCE(p_notify_verify, notify_verify),
              verified = CASE WHEN p_set_verified THEN p_verified ELSE verified END,
              processed_at = now()
          WHERE id = p_inbox_id;
        END IF;
        RETURN QUERY SELECT appended.transaction_id, appended.next_version, appended.first_position,
          appended.last_position, appended.actual_version, appended.newer_writer;
      END;
      $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DROP FUNCTION inbox_record_notification(text, integer, json, text, text, bigint, text, jsonb, jsonb, jsonb, boolean, boolean)`,
    );
  }
}
