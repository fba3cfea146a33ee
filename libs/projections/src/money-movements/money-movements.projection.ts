import type { Projection, ProjectionContext, RecordedEvent } from '@ledger/event-store';
import { MONEY_EVENT_TYPES, moneyMovementOf, type MoneyMovement } from './money-movement';

/** The name of the money movements projection: its checkpoint, its lock, its parked events. */
export const MONEY_MOVEMENTS_PROJECTION = 'money_movements';

/** The table it owns (migration 1732000000320); rebuilt as a shadow and swapped in. */
export const MONEY_MOVEMENTS_TABLE = 'money_movements';

type Table = typeof MONEY_MOVEMENTS_TABLE;

/**
 * Payments and refund outcomes, one row per order event that records one (docs/operations.md, "Exports"),
 * indexed by Alipay's time of the movement: what the accounting exports page through. Rows are only ever
 * inserted, keyed by the event's global position.
 */
export const moneyMovementsProjection: Projection<Table> = {
  name: MONEY_MOVEMENTS_PROJECTION,
  handles: MONEY_EVENT_TYPES,
  tables: [MONEY_MOVEMENTS_TABLE],
  apply: applyMoneyEvents,
};

async function applyMoneyEvents(
  events: readonly RecordedEvent[],
  { session, table }: ProjectionContext<Table>,
): Promise<void> {
  const movements = events.flatMap((event) => moneyMovementOf(event) ?? []);
  if (movements.length === 0) return;
  await session.query(
    `INSERT INTO ${table(MONEY_MOVEMENTS_TABLE)} (
       global_position, stream_version, event_type, kind, out_trade_no, trade_no, batch_no, channel, outcome,
       code, amount, counted, notify_id, occurred_at, recorded_at)
     SELECT r.global_position, r.stream_version, r.event_type, r.kind, r.out_trade_no, r.trade_no, r.batch_no,
            r.channel, r.outcome, r.code, r.amount, r.counted, r.notify_id, r.occurred_at, r.recorded_at
     FROM jsonb_to_recordset($1::jsonb) AS r(
       global_position bigint, stream_version integer, event_type text, kind text, out_trade_no text,
       trade_no text, batch_no text, channel text, outcome text, code text, amount bigint, counted bigint,
       notify_id text, occurred_at timestamptz, recorded_at timestamptz)
     ON CONFLICT (global_position) DO NOTHING`,
    [JSON.stringify(movements.map(toColumns))],
  );
}

function toColumns(movement: MoneyMovement): Record<string, unknown> {
  return {
    global_position: movement.globalPosition,
    stream_version: movement.streamVersion,
    event_type: movement.eventType,
    kind: movement.kind,
    out_trade_no: movement.outTradeNo,
    trade_no: movement.tradeNo,
    batch_no: movement.batchNo,
    channel: movement.channel,
    outcome: movement.outcome,
    code: movement.code,
    amount: movement.amount,
    counted: movement.counted,
    notify_id: movement.notifyId,
    occurred_at: movement.occurredAt,
    recorded_at: movement.recordedAt,
  };
}
