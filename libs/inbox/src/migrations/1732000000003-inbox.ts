import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The raw inbox of Alipay notifications (docs/product-rules.md, "The problem"; docs/operations.md,
 * "What happens to a notification"; libs/ingest). A row is INSERTed and committed before anything else
 * happens to a notification, so that nothing Alipay sent is ever lost; its raw columns never change
 * afterwards (a trigger refuses it), and only the outcome of its processing is written later.
 * `processed_notifications` is the de-duplication key of deliveries (docs/alipay-protocol.md, "notify_id":
 * `notify_id` is the same on every retry), written in the same transaction as the events the notification
 * caused.
 */
export class Inbox1732000000003 implements MigrationInterface {
  name = 'Inbox1732000000003';

  async up(queryRunner: QueryRunner): Promise<void> {
    // notify_id .. batch_no are read from the raw bytes before verification, for filters only: they may be
    // forged on a rejected row. raw_body holds at most the 1 MB the edge accepts; received_bytes is how much
    // arrived (more when the body was cut).
    await queryRunner.query(`
      CREATE TABLE inbox_notifications (
        id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        channel         text NOT NULL CHECK (channel IN ('notify', 'return', 'refund_notify')),
        received_at     timestamptz NOT NULL,
        remote_address  text,
        method          text NOT NULL,
        path            text NOT NULL,
        headers         jsonb NOT NULL,
        content_type    text,
        raw_body        bytea NOT NULL,
        received_bytes  bigint NOT NULL,
        body_truncated  boolean NOT NULL,
        notify_id       text,
        notify_type     text,
        out_trade_no    text,
        trade_no        text,
        batch_no        text,
        verification    jsonb,
        notify_verify   jsonb,
        verified        boolean,
        outcome         text NOT NULL DEFAULT 'received'
                        CHECK (outcome IN ('received', 'rejected', 'applied', 'no_new_fact', 'failed')),
        outcome_detail  jsonb,
        processed_at    timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX inbox_by_received_at ON inbox_notifications (received_at, id)`);
    await queryRunner.query(`CREATE INDEX inbox_by_notify_id ON inbox_notifications (notify_id, id)`);
    await queryRunner.query(`CREATE INDEX inbox_by_out_trade_no ON inbox_notifications (out_trade_no, id)`);
    await queryRunner.query(`CREATE INDEX inbox_by_trade_no ON inbox_notifications (trade_no, id)`);
    await queryRunner.query(`CREATE INDEX inbox_by_batch_no ON inbox_notifications (batch_no, id)`);
    await queryRunner.query(`CREATE INDEX inbox_by_outcome ON inbox_notifications (outcome, id)`);

    await queryRunner.query(`
      CREATE FUNCTION inbox_keep_raw() RETURNS trigger LANGUAGE plpgsql AS $$
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
    await queryRunner.query(`
      CREATE TRIGGER inbox_keep_raw BEFORE UPDATE OR DELETE ON inbox_notifications
      FOR EACH ROW EXECUTE FUNCTION inbox_keep_raw()`);

    await queryRunner.query(`
      CREATE TABLE processed_notifications (
        notify_id     text PRIMARY KEY,
        inbox_id      bigint NOT NULL REFERENCES inbox_notifications (id),
        processed_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE processed_notifications`);
    await queryRunner.query(`DROP TABLE inbox_notifications`);
    await queryRunner.query(`DROP FUNCTION inbox_keep_raw()`);
  }
}
