import type { MigrationInterface, QueryRunner } from 'typeorm';
import { InboxRecordNotification1732000000007 } from './1732000000007-inbox-record-notification';

/**
 * `inbox_record_notification` called the event store's `event_store_append` from the inbox's SQL. A
 * notification's events, its key and its outcome now commit through the event store's own protocol, one
 * statement composed by `EventStore.appendWith` (docs/event-store.md, "Writes that commit with an append"),
 * so the function goes, and with it SQLSTATE LDG02: a key already taken is the key's unique violation.
 */
export class DropInboxRecordNotification1732000000013 implements MigrationInterface {
  name = 'DropInboxRecordNotification1732000000013';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `DROP FUNCTION inbox_record_notification(text, integer, json, text, text, bigint, text, jsonb, jsonb, jsonb, boolean, boolean)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await new InboxRecordNotification1732000000007().up(queryRunner);
  }
}
