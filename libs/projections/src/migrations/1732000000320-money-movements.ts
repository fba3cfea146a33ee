import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The money movements projection (docs/operations.md, "Exports"; libs/projections): one row per payment or
 * refund outcome recorded on an order, keyed by the event's global position, written only by the projector
 * and rebuilt as a shadow copy swapped in. `occurred_at` is Alipay's time of the movement, which the
 * accounting exports filter and page on; amounts are fen. A new projection starts from the origin: the
 * projector fills the table from every event already stored.
 */
export class MoneyMovements1732000000320 implements MigrationInterface {
  name = 'MoneyMovements1732000000320';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE money_movements (
        global_position  bigint PRIMARY KEY,
        stream_version   integer NOT NULL,
        event_type       text NOT NULL,
        kind             text NOT NULL,
        out_trade_no     text NOT NULL,
        trade_no         text,
        batch_no         text,
        channel          text,
        outcome          text NOT NULL,
        code             text,
        amount           bigint,
        counted          bigint NOT NULL,
        notify_id        text,
        occurred_at      timestamptz NOT NULL,
        recorded_at      timestamptz NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX money_movements_by_time ON money_movements (occurred_at, global_position)`,
    );
    await queryRunner.query(
      `CREATE INDEX money_movements_by_kind ON money_movements (kind, occurred_at, global_position)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE money_movements`);
  }
}
