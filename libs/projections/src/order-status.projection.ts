import {
  asOrderEvent,
  deliveryDecision,
  evolveOrder,
  initialOrderState,
  ORDER_EVENT_SCHEMA_VERSIONS,
  orderStatusOf,
  outTradeNoOfStream,
  returnDecision,
  shippingDecision,
  ORDER_STATE_VERSION,
  type OrderState,
} from '@ledger/domain';
import type { Projection, ProjectionContext, RecordedEvent } from '@ledger/event-store';
import { ProjectionsError } from './projections-error';

/** The name of the order status projection: its checkpoint, its lock, its parked events. */
export const ORDER_STATUS_PROJECTION = 'order_status';

/** The table it owns (migration 1732000000004); rebuilt as a shadow and swapped in. */
export const ORDER_STATUS_TABLE = 'order_status';

type Table = typeof ORDER_STATUS_TABLE;

/** A row being evolved in memory during one batch. */
interface WorkingRow {
  outTradeNo: string;
  state: OrderState;
  version: number;
  lastPosition: number;
  createdAt: string;
  updatedAt: string;
}

interface StoredRow {
  out_trade_no: string;
  state: OrderState;
  state_version: number;
  version: number;
  last_position: string | number;
  created_at: Date;
  updated_at: Date;
}

/**
 * Order status, delivery, return and shipping decisions, one row per order stream (docs/product-rules.md,
 * "Projections"). The row keeps the folded `OrderState` next to the columns read from it: each batch loads
 * the rows it touches once, evolves them with the domain's `evolveOrder`, and reads them with the domain's
 * decisions, so a rebuild from the events alone reaches the same answers. `state_version` says which shape
 * of `OrderState` the row holds: a row of another `ORDER_STATE_VERSION` is never evolved (its events are
 * parked) until a rebuild has folded every order again (docs/events.md, "Evolving the order state").
 * Every column comes from the events
 * (times from `recordedAt`, never the clock), which makes a rebuilt table equal to the live one.
 *
 * Refund batch streams use some of the same type names (`AnomalyDetected`); only order streams are read.
 */
export const orderStatusProjection: Projection<Table> = {
  name: ORDER_STATUS_PROJECTION,
  handles: Object.keys(ORDER_EVENT_SCHEMA_VERSIONS),
  tables: [ORDER_STATUS_TABLE],
  apply: applyOrderEvents,
};

async function applyOrderEvents(
  events: readonly RecordedEvent[],
  { session, table }: ProjectionContext<Table>,
): Promise<void> {
  const orderEvents = events.flatMap((event) => {
    const outTradeNo = outTradeNoOfStream(event.streamId);
    return outTradeNo === undefined ? [] : [{ outTradeNo, event }];
  });
  if (orderEvents.length === 0) return;

  const keys = [...new Set(orderEvents.map(({ outTradeNo }) => outTradeNo))];
  const stored = await session.query<StoredRow>(
    `SELECT out_trade_no, state, state_version, version, last_position, created_at, updated_at
     FROM ${table(ORDER_STATUS_TABLE)} WHERE out_trade_no = ANY($1::text[])`,
    [keys],
  );
  const stale = stored.find((row) => row.state_version !== ORDER_STATE_VERSION);
  if (stale !== undefined) {
    throw new ProjectionsError(
      'STALE_ORDER_STATE',
      `order ${stale.out_trade_no} holds an order state of version ${stale.state_version}, not ` +
        `${ORDER_STATE_VERSION}; rebuild the projections (docs/operations.md, "Rebuild")`,
    );
  }
  const rows = new Map<string, WorkingRow>(
    stored.map((row) => [
      row.out_trade_no,
      {
        outTradeNo: row.out_trade_no,
        state: row.state,
        version: row.version,
        lastPosition: Number(row.last_position),
        createdAt: row.created_at.toISOString(),
        updatedAt: row.updated_at.toISOString(),
      },
    ]),
  );
  const touched = new Set<string>();
  for (const { outTradeNo, event } of orderEvents) {
    const orderEvent = asOrderEvent(event.type, event.data);
    if (orderEvent === undefined) continue;
    const row = rows.get(outTradeNo);
    // A row remembers the last version it applied: an event seen twice changes nothing.
    if (row !== undefined && event.version <= row.version) continue;
    const recordedAt = event.metadata.recordedAt;
    const next: WorkingRow = {
      outTradeNo,
      state: evolveOrder(row?.state ?? initialOrderState(), orderEvent),
      version: event.version,
      lastPosition: event.globalPosition,
      createdAt: row?.createdAt ?? recordedAt,
      updatedAt: recordedAt,
    };
    rows.set(outTradeNo, next);
    touched.add(outTradeNo);
  }
  if (touched.size === 0) return;
  await upsertRows(
    session,
    table(ORDER_STATUS_TABLE),
    [...touched].map((key) => toColumns(rows.get(key)!)),
  );
}

/** The row's columns, each read from the state by the domain's own functions. */
function toColumns(row: WorkingRow): Record<string, unknown> {
  const { state } = row;
  const view = orderStatusOf(state);
  return {
    out_trade_no: row.outTradeNo,
    placed: state.placed !== undefined,
    service: state.placed?.service ?? null,
    subject: state.placed?.subject ?? null,
    total_fee: state.placed?.totalFee ?? null,
    placed_at: state.placed?.placedAt ?? null,
    trade_no: state.tradeNo ?? null,
    status: view?.status ?? null,
    status_code: view?.statusCode ?? null,
    trade_status: state.tradeStatus ?? null,
    refund_status: state.refundStatus ?? null,
    payment_type: state.paymentType ?? null,
    paid_fee: state.paidFee,
    refunded_fee: state.refundedFee,
    buyer_id: state.buyerId ?? null,
    buyer_email: state.buyerEmail ?? null,
    delivery_state: deliveryDecision(state),
    return_state: returnDecision(state),
    shipping_state: shippingDecision(state),
    anomalies: state.anomalies.map(({ kind, detail, resolution }) => ({
      kind,
      detail,
      ...(resolution === undefined ? {} : { resolution }),
    })),
    state,
    state_version: ORDER_STATE_VERSION,
    version: row.version,
    last_position: row.lastPosition,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

/** One statement for the whole batch: the rows travel as one JSON array. */
async function upsertRows(
  session: ProjectionContext['session'],
  table: string,
  rows: Record<string, unknown>[],
): Promise<void> {
  await session.query(
    `INSERT INTO ${table} (
       out_trade_no, placed, service, subject, total_fee, placed_at, trade_no, status, status_code, trade_status,
       refund_status, payment_type, paid_fee, refunded_fee, buyer_id, buyer_email, delivery_state,
       return_state, shipping_state, anomalies, state, state_version, version, last_position, created_at,
       updated_at)
     SELECT r.out_trade_no, r.placed, r.service, r.subject, r.total_fee, r.placed_at, r.trade_no, r.status,
            r.status_code, r.trade_status, r.refund_status, r.payment_type, r.paid_fee, r.refunded_fee,
            r.buyer_id, r.buyer_email, r.delivery_state, r.return_state, r.shipping_state, r.anomalies,
            r.state, r.state_version, r.version, r.last_position, r.created_at, r.updated_at
     FROM jsonb_to_recordset($1::jsonb) AS r(
       out_trade_no text, placed boolean, service text, subject text, total_fee bigint, placed_at timestamptz,
       trade_no text, status text, status_code smallint, trade_status text, refund_status text, payment_type text,
       paid_fee bigint, refunded_fee bigint, buyer_id text, buyer_email text, delivery_state text,
       return_state text, shipping_state text, anomalies jsonb, state jsonb, state_version integer,
       version integer, last_position bigint, created_at timestamptz, updated_at timestamptz)
     ON CONFLICT (out_trade_no) DO UPDATE SET
       placed = EXCLUDED.placed, service = EXCLUDED.service, subject = EXCLUDED.subject,
       total_fee = EXCLUDED.total_fee, placed_at = EXCLUDED.placed_at, trade_no = EXCLUDED.trade_no,
       status = EXCLUDED.status, status_code = EXCLUDED.status_code, trade_status = EXCLUDED.trade_status,
       refund_status = EXCLUDED.refund_status, payment_type = EXCLUDED.payment_type,
       paid_fee = EXCLUDED.paid_fee, refunded_fee = EXCLUDED.refunded_fee, buyer_id = EXCLUDED.buyer_id,
       buyer_email = EXCLUDED.buyer_email, delivery_state = EXCLUDED.delivery_state,
       return_state = EXCLUDED.return_state, shipping_state = EXCLUDED.shipping_state,
       anomalies = EXCLUDED.anomalies, state = EXCLUDED.state, state_version = EXCLUDED.state_version,
       version = EXCLUDED.version,
       last_position = EXCLUDED.last_position, updated_at = EXCLUDED.updated_at`,
    [JSON.stringify(rows)],
  );
}
