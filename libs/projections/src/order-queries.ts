import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PaymentType, RefundStatus, TradeStatus } from '@ledger/alipay-protocol';
import type {
  DeliveryDecision,
  Fen,
  OrderStatus,
  PaymentService,
  PhpStatusCode,
  ReturnDecision,
  ShippingDecision,
} from '@ledger/domain';
import { DataSource } from 'typeorm';
import { OPEN_ANOMALY } from './migrations/1732000000310-order-status-attention';
import { decodeOrderCursor, encodeOrderCursor } from './page-cursor';
import { ORDER_STATUS_TABLE } from './order-status.projection';
import type { OrderAnomaly, OrderSummary } from './order-summary';
import { ProjectionsError } from './projections-error';

/** Filters of `OrderQueries.list` and `OrderQueries.totals`; all optional, combined with AND. */
export interface OrderListFilters {
  /** The merchant's order number, exactly. */
  outTradeNo?: string;
  /** Alipay's trade_no, exactly. */
  tradeNo?: string;
  /** The buyer, exactly: Alipay's buyer_id or buyer_email. */
  buyer?: string;
  status?: OrderStatus;
  deliveryState?: DeliveryDecision;
  returnState?: ReturnDecision;
  /** Orders the ledger first recorded at or after this instant. */
  from?: Date;
  /** Orders the ledger first recorded strictly before this instant. */
  to?: Date;
  /** Page size, 1 to `MAX_PAGE_SIZE`; default `DEFAULT_PAGE_SIZE`. */
  limit?: number;
}

/** A page of orders, newest first; `nextCursor` is null on the last page. */
export interface OrderPage {
  items: OrderSummary[];
  nextCursor: string | null;
}

/** The count and the sums of the orders a filter selects (amounts in fen). */
export interface OrderTotals {
  count: number;
  /** What the orders asked for (orders never placed count nothing). */
  totalFee: Fen;
  paidFee: Fen;
  refundedFee: Fen;
}

/** One kind of order that waits for a person (docs/console.md, "Needs attention"): how many, the oldest ones. */
export interface AttentionList {
  count: number;
  items: OrderSummary[];
}

/** The orders that wait for a person, by what they wait for. */
export interface OrdersNeedingAttention {
  /** An anomaly no operator has accepted or confirmed: delivery is blocked until one does. */
  openAnomalies: AttentionList;
  /** Delivered, then partly refunded: whether the goods come back is a person's call. */
  returnReviews: AttentionList;
  /** An escrow trade whose shipping confirmation Alipay refused for good. */
  shippingFailures: AttentionList;
}

/** Identifier filters are compared exactly and bounded like an index key. */
const MAX_ID_FILTER = 256;

/**
 * Orders that wait for a decision (docs/operations.md, "Metrics"): `delivery`, `shipping` and `return` are
 * due to the fulfilment worker; `return_review` (a delivered order partly refunded) and `anomaly` (an
 * anomaly no operator resolved) wait for a person.
 */
export interface PendingDecisionCounts {
  delivery: number;
  shipping: number;
  return: number;
  return_review: number;
  anomaly: number;
}

/** Admin pages are small by default and bounded (docs/operations.md, "Bounded storage"). */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/** The most orders one pass of a worker reads from a work list. */
const MAX_WORK_LIST = 500;

interface OrderRow {
  out_trade_no: string;
  placed: boolean;
  service: PaymentService | null;
  subject: string | null;
  total_fee: string | number | null;
  trade_no: string | null;
  status: OrderStatus | null;
  status_code: PhpStatusCode | null;
  trade_status: TradeStatus | null;
  refund_status: RefundStatus | null;
  payment_type: PaymentType | null;
  paid_fee: string | number;
  refunded_fee: string | number;
  buyer_id: string | null;
  buyer_email: string | null;
  delivery_state: DeliveryDecision;
  return_state: ReturnDecision;
  shipping_state: ShippingDecision;
  anomalies: OrderAnomaly[];
  version: number;
  last_position: string | number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `out_trade_no, placed, service, subject, total_fee, trade_no, status, status_code, trade_status,
  refund_status, payment_type, paid_fee, refunded_fee, buyer_id, buyer_email, delivery_state, return_state,
  shipping_state, anomalies, version, last_position, created_at, updated_at`;

function toSummary(row: OrderRow): OrderSummary {
  return {
    outTradeNo: row.out_trade_no,
    placed: row.placed,
    service: row.service,
    subject: row.subject,
    totalFee: row.total_fee === null ? null : Number(row.total_fee),
    tradeNo: row.trade_no,
    status: row.status,
    statusCode: row.status_code,
    tradeStatus: row.trade_status,
    refundStatus: row.refund_status,
    paymentType: row.payment_type,
    paidFee: Number(row.paid_fee),
    refundedFee: Number(row.refunded_fee),
    buyerId: row.buyer_id,
    buyerEmail: row.buyer_email,
    deliveryState: row.delivery_state,
    returnState: row.return_state,
    shippingState: row.shipping_state,
    anomalies: row.anomalies,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    version: row.version,
    lastPosition: Number(row.last_position),
  };
}

function checkLimit(limit: number, field: string, max = MAX_PAGE_SIZE): number {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > max) {
    throw new ProjectionsError('INVALID_FILTER', `${field} must be an integer from 1 to ${max}`, field);
  }
  return limit;
}

function checkInstant(value: Date | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new ProjectionsError('INVALID_FILTER', `${field} must be a valid instant`, field);
  }
  return value.toISOString();
}

function checkIdFilter(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || value.length > MAX_ID_FILTER) {
    throw new ProjectionsError('INVALID_FILTER', `${field} must be 1 to ${MAX_ID_FILTER} characters`, field);
  }
  return value;
}

/** The WHERE conditions of a filter, each value a parameter. */
function filterConditions(filters: Omit<OrderListFilters, 'limit'>): {
  conditions: string[];
  parameters: unknown[];
} {
  const conditions: string[] = [];
  const parameters: unknown[] = [];
  const where = (sql: (placeholder: string) => string, value: unknown) => {
    parameters.push(value);
    conditions.push(sql(`$${parameters.length}`));
  };
  const outTradeNo = checkIdFilter(filters.outTradeNo, 'outTradeNo');
  const tradeNo = checkIdFilter(filters.tradeNo, 'tradeNo');
  const buyer = checkIdFilter(filters.buyer, 'buyer');
  if (outTradeNo !== undefined) where((p) => `out_trade_no = ${p}`, outTradeNo);
  if (tradeNo !== undefined) where((p) => `trade_no = ${p}`, tradeNo);
  if (buyer !== undefined) where((p) => `(buyer_id = ${p} OR buyer_email = ${p})`, buyer);
  if (filters.status !== undefined) where((p) => `status = ${p}`, filters.status);
  if (filters.deliveryState !== undefined) where((p) => `delivery_state = ${p}`, filters.deliveryState);
  if (filters.returnState !== undefined) where((p) => `return_state = ${p}`, filters.returnState);
  const from = checkInstant(filters.from, 'from');
  const to = checkInstant(filters.to, 'to');
  if (from !== undefined) where((p) => `created_at >= ${p}::timestamptz`, from);
  if (to !== undefined) where((p) => `created_at < ${p}::timestamptz`, to);
  return { conditions, parameters };
}

/**
 * Reads of the order status projection: one order, filtered pages (cursor pagination over the order in
 * which orders were first recorded, newest first: stable while rows change), and the work lists of the
 * decisions (docs/product-rules.md, "Projections") that the fulfilment worker acts on. Reads are eventually
 * consistent; a writer that needs its own write reflected waits with `ProjectionsService.waitForProjections`
 * first.
 */
@Injectable()
export class OrderQueries {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The order's projection, or undefined when no event of its stream has been projected. */
  async get(outTradeNo: string): Promise<OrderSummary | undefined> {
    const rows = await this.dataSource.query<OrderRow[]>(
      `SELECT ${COLUMNS} FROM ${ORDER_STATUS_TABLE} WHERE out_trade_no = $1`,
      [outTradeNo],
    );
    return rows.length === 0 ? undefined : toSummary(rows[0]);
  }

  /** The orders that have each trade_no (a trade_no names one order unless Alipay contradicted itself). */
  async outTradeNosByTradeNo(tradeNos: readonly string[]): Promise<Map<string, string[]>> {
    const orders = new Map<string, string[]>();
    if (tradeNos.length === 0) return orders;
    const rows = await this.dataSource.query<{ out_trade_no: string; trade_no: string }[]>(
      `SELECT out_trade_no, trade_no FROM ${ORDER_STATUS_TABLE} WHERE trade_no = ANY($1::text[]) ORDER BY out_trade_no`,
      [tradeNos],
    );
    for (const row of rows) orders.set(row.trade_no, [...(orders.get(row.trade_no) ?? []), row.out_trade_no]);
    return orders;
  }

  /** A page of orders matching `filters`, after `cursor` (from the previous page's `nextCursor`). */
  async list(filters: OrderListFilters = {}, cursor?: string): Promise<OrderPage> {
    const limit = checkLimit(filters.limit ?? DEFAULT_PAGE_SIZE, 'limit');
    const { conditions, parameters } = filterConditions(filters);
    if (cursor !== undefined) {
      const after = decodeOrderCursor(cursor);
      parameters.push(after.createdAt, after.outTradeNo);
      const n = parameters.length;
      conditions.push(`(created_at, out_trade_no) < ($${n - 1}::timestamptz, $${n})`);
    }
    parameters.push(limit + 1);
    const rows = await this.dataSource.query<OrderRow[]>(
      `SELECT ${COLUMNS} FROM ${ORDER_STATUS_TABLE}
       ${conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`}
       ORDER BY created_at DESC, out_trade_no DESC LIMIT $${parameters.length}`,
      parameters,
    );
    const items = rows.slice(0, limit).map(toSummary);
    const last = items.at(-1);
    return {
      items,
      nextCursor:
        rows.length > limit && last !== undefined
          ? encodeOrderCursor({ createdAt: last.createdAt, outTradeNo: last.outTradeNo })
          : null,
    };
  }

  /**
   * The count and sums of every order `filters` select (its `limit` aside), for the totals of a search.
   * @throws ProjectionsError `INVALID_FILTER`.
   */
  async totals(filters: Omit<OrderListFilters, 'limit'> = {}): Promise<OrderTotals> {
    const { conditions, parameters } = filterConditions(filters);
    const [row] = await this.dataSource.query<
      { count: string; total_fee: string | null; paid_fee: string | null; refunded_fee: string | null }[]
    >(
      `SELECT count(*) AS count, sum(total_fee) AS total_fee, sum(paid_fee) AS paid_fee,
              sum(refunded_fee) AS refunded_fee
       FROM ${ORDER_STATUS_TABLE} ${conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`}`,
      parameters,
    );
    return {
      count: Number(row.count),
      totalFee: Number(row.total_fee ?? 0),
      paidFee: Number(row.paid_fee ?? 0),
      refundedFee: Number(row.refunded_fee ?? 0),
    };
  }

  /**
   * The orders that wait for a person (docs/console.md, "Needs attention"), each list oldest first and at
   * most `limit` long, with its full count. Partial indexes keep each one short to read however many
   * orders there are (migrations 1732000000303 and 1732000000310).
   */
  async needingAttention(limit: number): Promise<OrdersNeedingAttention> {
    checkLimit(limit, 'limit');
    const [openAnomalies, returnReviews, shippingFailures] = await Promise.all([
      this.attentionList(OPEN_ANOMALY, limit),
      this.attentionList(`return_state = 'manual_review'`, limit),
      this.attentionList(`shipping_state = 'failed'`, limit),
    ]);
    return { openAnomalies, returnReviews, shippingFailures };
  }

  private async attentionList(condition: string, limit: number): Promise<AttentionList> {
    const [rows, [counted]] = await Promise.all([
      this.dataSource.query<OrderRow[]>(
        `SELECT ${COLUMNS} FROM ${ORDER_STATUS_TABLE} WHERE ${condition}
         ORDER BY updated_at, out_trade_no LIMIT $1`,
        [limit],
      ),
      this.dataSource.query<{ count: string }[]>(
        `SELECT count(*) AS count FROM ${ORDER_STATUS_TABLE} WHERE ${condition}`,
      ),
    ]);
    return { count: Number(counted.count), items: rows.map(toSummary) };
  }

  /**
   * Orders whose delivery is due (docs/product-rules.md, "Delivery decisions": paid, matched, not closed,
   * refunded or anomalous, not yet delivered), oldest first. The worker acts, then appends
   * `DeliveryCompleted`, which takes the order off this list once projected.
   */
  pendingDeliveries(limit: number): Promise<OrderSummary[]> {
    return this.pending('delivery_state', limit);
  }

  /**
   * Delivered escrow trades whose shipping is still to be confirmed to Alipay (docs/fulfilment.md,
   * "Escrow shipping"), oldest first.
   */
  pendingShippingConfirmations(limit: number): Promise<OrderSummary[]> {
    return this.pending('shipping_state', limit);
  }

  /**
   * Delivered orders fully refunded whose goods are still to be taken back (docs/product-rules.md,
   * "Return decisions"), oldest first.
   */
  pendingReturns(limit: number): Promise<OrderSummary[]> {
    return this.pending('return_state', limit);
  }

  /**
   * How many orders wait for each decision: one statement, each count on its own partial index, so it costs
   * what waits, whatever the number of orders.
   */
  async pendingDecisionCounts(): Promise<PendingDecisionCounts> {
    const [row] = await this.dataSource.query<Record<keyof PendingDecisionCounts, string>[]>(
      `SELECT
         (SELECT count(*) FROM ${ORDER_STATUS_TABLE} WHERE delivery_state = 'pending') AS delivery,
         (SELECT count(*) FROM ${ORDER_STATUS_TABLE} WHERE shipping_state = 'pending') AS shipping,
         (SELECT count(*) FROM ${ORDER_STATUS_TABLE} WHERE return_state = 'pending') AS return,
         (SELECT count(*) FROM ${ORDER_STATUS_TABLE} WHERE return_state = 'manual_review') AS return_review,
         (SELECT count(*) FROM ${ORDER_STATUS_TABLE} WHERE ${OPEN_ANOMALY}) AS anomaly`,
    );
    return {
      delivery: Number(row.delivery),
      shipping: Number(row.shipping),
      return: Number(row.return),
      return_review: Number(row.return_review),
      anomaly: Number(row.anomaly),
    };
  }

  /**
   * The age in seconds of the oldest order still awaiting payment among those placed in the last
   * `withinDays` days (the reconciler's horizon: older ones are abandoned, not waiting), 0 when there is
   * none. The first row of the status index.
   */
  async oldestAwaitingPaymentAge(withinDays: number): Promise<number> {
    const [row] = await this.dataSource.query<{ seconds: number | null }[]>(
      `SELECT EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS seconds FROM ${ORDER_STATUS_TABLE}
       WHERE status = 'awaiting_payment' AND created_at >= now() - make_interval(days => $1)`,
      [withinDays],
    );
    return Math.max(0, row?.seconds ?? 0);
  }

  private async pending(
    column: 'delivery_state' | 'shipping_state' | 'return_state',
    limit: number,
  ): Promise<OrderSummary[]> {
    const rows = await this.dataSource.query<OrderRow[]>(
      `SELECT ${COLUMNS} FROM ${ORDER_STATUS_TABLE} WHERE ${column} = 'pending'
       ORDER BY updated_at, out_trade_no LIMIT $1`,
      [checkLimit(limit, 'limit', MAX_WORK_LIST)],
    );
    return rows.map(toSummary);
  }
}
