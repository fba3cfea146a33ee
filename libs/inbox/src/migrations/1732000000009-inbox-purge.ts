import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The purge of unverified notifications (docs/operations.md, "Bounded storage"). The inbox still refuses
 * DELETE, except for a row that was never verified, is finished (`rejected` or `failed`), holds no
 * de-duplication key and caused no event, and only in a transaction that said it is purging
 * (`SET LOCAL ledger.inbox_purge = 'on'`, which `ledger-cli purge-unverified` does): an accidental DELETE is
 * still refused. Verified notifications and events are never deleted. Every purge is recorded in
 * `inbox_purges`.
 *
 * No purged row can have caused an event: a notification's events, its key and its `applied` outcome commit
 * in one statement, so a row still `rejected` or `failed` caused none (and the outcome never goes back).
 * That is why the check needs no index on the events' causation id, which would cost every append.
 * `processed_notifications (inbox_id)` serves the foreign key's own check on delete, which would otherwise
 * read the whole table for each deleted row.
 */
export class InboxPurge1732000000009 implements MigrationInterface {
  name = 'InboxPurge1732000000009';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX processed_notifications_by_inbox_id ON processed_notifications (inbox_id)`,
    );
    await queryRunner.query(`
      CREATE TABLE inbox_purges (
        id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        run_id           text NOT NULL,
        purged_at        timestamptz NOT NULL DEFAULT now(),
        older_than_days  integer NOT NULL,
        received_before  timestamptz NOT NULL,
        rows_purged      integer NOT NULL CHECK (rows_purged > 0),
        bytes_purged     bigint NOT NULL,
        first_id         bigint NOT NULL,
        last_id          bigint NOT NULL,
        operator         text NOT NULL
      )`);
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION inbox_keep_raw() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          IF current_setting('ledger.inbox_purge', true) = 'on'
             AND OLD.verified IS NOT TRUE
             AND OLD.outcome IN ('rejected', 'failed')
             AND NOT EXISTS (SELECT 1 FROM processed_notifications WHERE inbox_id = OLD.id) THEN
            RETURN OLD;
          END IF;
          RAISE EXCEPTION 'inbox notifications are kept: cannot delete notification % (only ledger-cli purge-unverified deletes, and only unverified, finished notifications that caused nothing)', OLD.id
            USING ERRCODE = '42501';
        END IF;
        IF (NEW.channel, NEW.received_at, NEW.remote_address, NEW.method, NEW.path, NEW.headers,
            NEW.content_type, NEW.raw_body, NEW.received_bytes, NEW.body_truncated)
           IS DISTINCT FROM
           (OLD.channel, OLD.received_at, OLD.remote_address, OLD.method, OLD.path, OLD.headers,
            OLD.content_type, OLD.raw_body, OLD.received_bytes, OLD.body_truncated) THEN
          RAISE EXCEPTION 'inbox notifications are raw and immutable: cannot change what notification % received', OLD.id
            USING ERRCODE = '42501';
        END IF;
        RETURN NEW;
      END $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION inbox_keep_raw() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          RAISE EXCEPTION 'inbox notifications are kept: cannot delete notification %', OLD.id
            USING ERRCODE = '42501';
        END IF;
        IF (NEW.channel, NEW.received_at, NEW.remote_address, NEW.method, NEW.path, NEW.headers,
            NEW.content_type, NEW.raw_body, NEW.received_bytes, NEW.body_truncated)
           IS DISTINCT FROM
           (OLD.channel, OLD.received_at, OLD.remote_address, OLD.method, OLD.path, OLD.headers,
            OLD.content_type, OLD.raw_body, OLD.received_bytes, OLD.body_truncated) THEN
          RAISE EXCEPTION 'inbox notifications are raw and immutable: cannot change what notification % received', OLD.id
            USING ERRCODE = '42501';
        END IF;
        RETURN NEW;
      END $$`);
    await queryRunner.query(`DROP TABLE inbox_purges`);
    await queryRunner.query(`DROP INDEX processed_notifications_by_inbox_id`);
  }
}
