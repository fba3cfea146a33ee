import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The refund batch projection (docs/operations.md, "The refund batch projection"; libs/projections): one row
 * per refund batch stream, written only by the projector in the transaction that moves its checkpoint, and
 * rebuilt as a shadow copy (`LIKE ... INCLUDING ALL`) swapped in. `items` holds each record in fen with its
 * result (`{amount, code, outcome}` or null), `anomalies` the batch's findings in the order they were
 * recorded; times are the events' recorded times. `out_trade_nos` lists the orders of the batch for the
 * "batches of this order" filter.
 */
export class RefundBatchProjection1732000000005 implements MigrationInterface {
  name = 'RefundBatchProjection1732000000005';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE refund_batches (
        batch_no        text PRIMARY KEY,
        mode            text,
        state           text,
        error_code      text,
        batch_num       integer,
        total_amount    bigint,
        success_num     integer,
        items           jsonb NOT NULL,
        out_trade_nos   text[] NOT NULL,
        anomalies       jsonb NOT NULL,
        submitted_at    timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL,
        version         integer NOT NULL,
        last_position   bigint NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX refund_batches_by_submitted ON refund_batches (submitted_at, batch_no)`,
    );
    await queryRunner.query(
      `CREATE INDEX refund_batches_by_state ON refund_batches (state, submitted_at, batch_no)`,
    );
    await queryRunner.query(
      `CREATE INDEX refund_batches_by_mode ON refund_batches (mode, submitted_at, batch_no)`,
    );
    await queryRunner.query(
      `CREATE INDEX refund_batches_by_order ON refund_batches USING gin (out_trade_nos)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE refund_batches`);
  }
}
