import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { formatBeijingTime, formatYuan } from '@ledger/alipay-protocol';
import { orderStreamId, outTradeNoOfStream } from '@ledger/domain';
import { DataSource } from 'typeorm';
import { MONEY_MOVEMENTS_TABLE } from '../money-movements/money-movements.projection';
import { ORDER_STATUS_TABLE } from '../order-status.projection';
import { CSV_BOM, csvRecord } from './csv';
import { parseExportRequest, type ExportInput, type ExportKind, type ExportRequest } from './export-request';

/** One exported row: its columns in order, each a string, a number or null (an empty CSV field). */
export type ExportRecord = Record<string, string | number | null>;

/** The columns of each kind, in order (docs/operations.md, "Exports"). */
export const EXPORT_COLUMNS: Readonly<Record<ExportKind, readonly string[]>> = {
  orders: [
    'out_trade_no',
    'trade_no',
    'subject',
    'buyer_email',
    'buyer_id',
    'total_yuan',
    'paid_yuan',
    'refunded_yuan',
    'status',
    'trade_status',
    'placed_at',
    'paid_at',
    'closed_at',
  ],
  payments: [
    'paid_at',
    'out_trade_no',
    'trade_no',
    'subject',
    'amount_yuan',
    'trade_status',
    'notify_id',
    'event_position',
    'recorded_at',
  ],
  refunds: [
    'occurred_at',
    'out_trade_no',
    'trade_no',
    'batch_no',
    'channel',
    'outcome',
    'code',
    'amount_yuan',
    'counted_yuan',
    'subject',
    'notify_id',
    'event_position',
    'recorded_at',
  ],
  movements: [
    'occurred_at',
    'kind',
    'out_trade_no',
    'trade_no',
    'batch_no',
    'income_yuan',
    'expense_yuan',
    'subject',
    'event_position',
  ],
};

/** Rows read per query: however long the range, one page is in memory at a time. */
export const EXPORT_PAGE_SIZE = 500;

/** Keyset position after the last row read: the time as the database wrote it, and the tie-breaker. */
interface Cursor {
  at: string;
  key: string;
}

interface OrderRow {
  out_trade_no: string;
  trade_no: string | null;
  subject: string | null;
  buyer_email: string | null;
  buyer_id: string | null;
  total_fee: string | null;
  paid_fee: string;
  refunded_fee: string;
  status: string | null;
  trade_status: string | null;
  placed_at: Date;
  placed_key: string;
  last_position: string;
}

interface OrderTimeRow {
  stream_id: string;
  type: string;
  gmt_payment: string | null;
  gmt_close: string | null;
  notify_time: string | null;
}

interface MovementRow {
  global_position: string;
  kind: 'payment' | 'refund';
  out_trade_no: string;
  trade_no: string | null;
  batch_no: string | null;
  channel: string | null;
  outcome: string;
  code: string | null;
  amount: string | null;
  counted: string;
  notify_id: string | null;
  occurred_at: Date;
  occurred_key: string;
  recorded_at: Date;
  subject: string | null;
}

/** An instant in Beijing time with the zone: `2024-05-01 10:00:00+08:00`. */
export function beijingInstant(instant: Date | string | null): string | null {
  return instant === null ? null : `${formatBeijingTime(new Date(instant))}+08:00`;
}

/** Fen from the database (bigint arrives as text) as yuan with two decimals. */
const yuan = (fen: string | number | null): string | null => (fen === null ? null : formatYuan(Number(fen)));

/**
 * Exports for accounting (docs/operations.md, "Exports"): orders by placement time, payments and refund
 * outcomes by Alipay's time of the movement, as CSV or JSON lines. Streamed: rows are read in keyset pages
 * of `EXPORT_PAGE_SIZE` on the indexes of `order_status` and `money_movements`, and encoded page by page,
 * so a year of orders never sits in memory. Each page reads the projections as they are then: rows written
 * while an export runs may or may not be in it, and a closed period exports the same every time.
 */
@Injectable()
export class AccountingExports {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The export as text chunks to write out in order: for CSV the byte order mark and the header first, then
   * a chunk per page. Checks the request before it returns, so that nothing has been sent when it is
   * refused.
   *
   * `onRows` is told how many rows each chunk holds.
   *
   * @throws ProjectionsError `INVALID_FILTER` naming `kind`, `from`, `to` or `format` (see `parseExportRequest`).
   */
  stream(
    input: ExportInput | ExportRequest,
    options: { onRows?: (rows: number) => void } = {},
  ): AsyncIterable<string> {
    const request = parseExportRequest(input);
    return this.encode(request, options.onRows);
  }

  /**
   * The export's rows page by page, for a caller that renders them itself.
   * @throws ProjectionsError as `stream`.
   */
  pages(input: ExportInput | ExportRequest): AsyncIterable<ExportRecord[]> {
    const request = parseExportRequest(input);
    return request.kind === 'orders' ? this.orderPages(request) : this.movementPages(request);
  }

  /** How many rows the export has now (for a progress bar; rows may be added while it runs). */
  async count(input: ExportInput | ExportRequest): Promise<number> {
    const request = parseExportRequest(input);
    const [{ count }] =
      request.kind === 'orders'
        ? await this.dataSource.query<{ count: string }[]>(
            `SELECT count(*) AS count FROM ${ORDER_STATUS_TABLE}
             WHERE placed_at IS NOT NULL AND placed_at >= $1 AND placed_at < $2`,
            [request.from, request.to],
          )
        : await this.dataSource.query<{ count: string }[]>(
            `SELECT count(*) AS count FROM ${MONEY_MOVEMENTS_TABLE} m
             WHERE ${movementFilter(request.kind)} AND m.occurred_at >= $1 AND m.occurred_at < $2`,
            [request.from, request.to],
          );
    return Number(count);
  }

  private async *encode(request: ExportRequest, onRows?: (rows: number) => void): AsyncGenerator<string> {
    const columns = EXPORT_COLUMNS[request.kind];
    if (request.format === 'csv') yield `${CSV_BOM}${csvRecord(columns)}`;
    const pages = request.kind === 'orders' ? this.orderPages(request) : this.movementPages(request);
    for await (const page of pages) {
      onRows?.(page.length);
      yield request.format === 'csv'
        ? page.map((record) => csvRecord(columns.map((column) => record[column]))).join('')
        : page.map((record) => `${JSON.stringify(record)}\n`).join('');
    }
  }

  private async *orderPages(request: ExportRequest): AsyncGenerator<ExportRecord[]> {
    let cursor: Cursor = { at: request.from.toISOString(), key: '' };
    for (;;) {
      const rows = await this.dataSource.query<OrderRow[]>(
        `SELECT out_trade_no, trade_no, subject, buyer_email, buyer_id, total_fee, paid_fee, refunded_fee,
                status, trade_status, placed_at, placed_at::text AS placed_key, last_position
         FROM ${ORDER_STATUS_TABLE}
         WHERE placed_at IS NOT NULL AND placed_at < $1
           AND (placed_at, out_trade_no) > ($2::timestamptz, $3::text)
         ORDER BY placed_at, out_trade_no LIMIT ${EXPORT_PAGE_SIZE}`,
        [request.to, cursor.at, cursor.key],
      );
      if (rows.length === 0) return;
      const times = await this.orderTimes(rows);
      yield rows.map((row) => {
        const time = times.get(row.out_trade_no);
        return {
          out_trade_no: row.out_trade_no,
          trade_no: row.trade_no,
          subject: row.subject,
          buyer_email: row.buyer_email,
          buyer_id: row.buyer_id,
          total_yuan: yuan(row.total_fee),
          paid_yuan: yuan(row.paid_fee),
          refunded_yuan: yuan(row.refunded_fee),
          status: row.status,
          trade_status: row.trade_status,
          placed_at: beijingInstant(row.placed_at),
          paid_at: beijingInstant(time?.paidAt ?? null),
          closed_at: beijingInstant(time?.closedAt ?? null),
        };
      });
      if (rows.length < EXPORT_PAGE_SIZE) return;
      const last = rows[rows.length - 1];
      cursor = { at: last.placed_key, key: last.out_trade_no };
    }
  }

  /**
   * When each order of a page was paid and closed, in Alipay's times, from its events up to the position
   * its row reflects: the times agree with the row's status.
   */
  private async orderTimes(
    rows: readonly OrderRow[],
  ): Promise<Map<string, { paidAt?: string; closedAt?: string }>> {
    const events = await this.dataSource.query<OrderTimeRow[]>(
      `SELECT e.stream_id, e.type, e.data ->> 'gmtPayment' AS gmt_payment, e.data ->> 'gmtClose' AS gmt_close,
              e.data ->> 'notifyTime' AS notify_time
       FROM unnest($1::text[], $2::bigint[]) AS o(stream_id, last_position)
       JOIN events e ON e.stream_id = o.stream_id AND e.global_position <= o.last_position
       WHERE e.type IN ('PaymentSucceeded', 'TradeFinished', 'TradeClosed')
       ORDER BY e.global_position`,
      [rows.map((row) => orderStreamId(row.out_trade_no)), rows.map((row) => row.last_position)],
    );
    const times = new Map<string, { paidAt?: string; closedAt?: string }>();
    for (const event of events) {
      const outTradeNo = outTradeNoOfStream(event.stream_id)!;
      const time = times.get(outTradeNo) ?? {};
      if (event.type === 'PaymentSucceeded')
        time.paidAt = event.gmt_payment ?? event.notify_time ?? undefined;
      else time.closedAt = event.gmt_close ?? event.notify_time ?? undefined;
      times.set(outTradeNo, time);
    }
    return times;
  }

  private async *movementPages(request: ExportRequest): AsyncGenerator<ExportRecord[]> {
    let cursor: Cursor = { at: request.from.toISOString(), key: '0' };
    for (;;) {
      const rows = await this.dataSource.query<MovementRow[]>(
        `SELECT m.global_position, m.kind, m.out_trade_no, m.trade_no, m.batch_no, m.channel, m.outcome, m.code,
                m.amount, m.counted, m.notify_id, m.occurred_at, m.occurred_at::text AS occurred_key,
                m.recorded_at, o.subject
         FROM ${MONEY_MOVEMENTS_TABLE} m LEFT JOIN ${ORDER_STATUS_TABLE} o ON o.out_trade_no = m.out_trade_no
         WHERE ${movementFilter(request.kind)} AND m.occurred_at < $1
           AND (m.occurred_at, m.global_position) > ($2::timestamptz, $3::bigint)
         ORDER BY m.occurred_at, m.global_position LIMIT ${EXPORT_PAGE_SIZE}`,
        [request.to, cursor.at, cursor.key],
      );
      if (rows.length === 0) return;
      yield rows.map((row) => movementRecord(request.kind, row));
      if (rows.length < EXPORT_PAGE_SIZE) return;
      const last = rows[rows.length - 1];
      cursor = { at: last.occurred_key, key: last.global_position };
    }
  }
}

/** Which money movement rows a kind lists: `movements` only those that moved money as the ledger counts it. */
function movementFilter(kind: ExportKind): string {
  switch (kind) {
    case 'payments':
      return `m.kind = 'payment'`;
    case 'refunds':
      return `m.kind = 'refund'`;
    case 'movements':
      return `m.counted > 0`;
    case 'orders':
      throw new Error('orders are not money movements');
    default:
      return kind satisfies never;
  }
}

function movementRecord(kind: ExportKind, row: MovementRow): ExportRecord {
  const position = Number(row.global_position);
  switch (kind) {
    case 'payments':
      return {
        paid_at: beijingInstant(row.occurred_at),
        out_trade_no: row.out_trade_no,
        trade_no: row.trade_no,
        subject: row.subject,
        amount_yuan: yuan(row.amount),
        trade_status: row.code,
        notify_id: row.notify_id,
        event_position: position,
        recorded_at: beijingInstant(row.recorded_at),
      };
    case 'refunds':
      return {
        occurred_at: beijingInstant(row.occurred_at),
        out_trade_no: row.out_trade_no,
        trade_no: row.trade_no,
        batch_no: row.batch_no,
        channel: row.channel,
        outcome: row.outcome,
        code: row.code,
        amount_yuan: yuan(row.amount),
        counted_yuan: yuan(row.counted),
        subject: row.subject,
        notify_id: row.notify_id,
        event_position: position,
        recorded_at: beijingInstant(row.recorded_at),
      };
    case 'movements':
      return {
        occurred_at: beijingInstant(row.occurred_at),
        kind: row.kind,
        out_trade_no: row.out_trade_no,
        trade_no: row.trade_no,
        batch_no: row.batch_no,
        income_yuan: row.kind === 'payment' ? yuan(row.counted) : null,
        expense_yuan: row.kind === 'refund' ? yuan(row.counted) : null,
        subject: row.subject,
        event_position: position,
      };
    case 'orders':
      throw new Error('orders are not money movements');
    default:
      return kind satisfies never;
  }
}
