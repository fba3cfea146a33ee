import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `inbox_record_notification`: a verified notification's events, its notify_id's de-duplication key and
 * its inbox outcome in one statement, hence one round trip and one implicit transaction (libs/ingest,
 * docs/operations.md "What a notification costs"). It takes the key first: a concurrent delivery of the
 * same notify_id waits on it and then finds it taken (`key_taken`, nothing written). A refused append
 * (`next_version` null: the stream moved, or the stream-order guard) gives the key back with the
 * sub-block, so that the caller can decide again; the refusal row is returned as `event_store_append`
 * returned it. The outcome's detail is completed with where the events landed.
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
        key_taken boolean, transaction_id text, next_version integer, first_position bigint,
        last_position bigint, actual_version integer, newer_writer boolean
      ) LANGUAGE plpgsql AS $$
      DECLARE
        appended record;
        taken boolean := false;
      BEGIN
        BEGIN
          INSERT INTO processed_notifications (notify_id, inbox_id) VALUES (p_notify_id, p_inbox_id)
          ON CONFLICT (notify_id) DO NOTHING;
          IF NOT FOUND THEN
            taken := true;
          ELSE
            SELECT * INTO appended FROM event_store_append(stream, expected_version, new_events, notify_channel);
            IF appended.next_version IS NULL THEN
              RAISE EXCEPTION 'append refused' USING ERRCODE = 'LDG01';
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
        EXCEPTION WHEN SQLSTATE 'LDG01' THEN
          NULL; -- the key and anything else of the block are undone; the refusal is reported below
        END;
        IF taken THEN
          RETURN QUERY SELECT true, NULL::text, NULL::integer, NULL::bigint, NULL::bigint, NULL::integer, NULL::boolean;
        ELSE
          RETURN QUERY SELECT false, appended.transaction_id, appended.next_version, appended.first_position,
            appended.last_position, appended.actual_version, appended.newer_writer;
        END IF;
      END;
      $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DROP FUNCTION inbox_record_notification(text, integer, json, text, text, bigint, text, jsonb, jsonb, jsonb, boolean, boolean)`,
    );
  }
}
