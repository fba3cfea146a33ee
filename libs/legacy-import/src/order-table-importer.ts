import { basename } from 'node:path';
import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { decodeBytes, parseBeijingTime, parseYuan, type Charset } from '@ledger/alipay-protocol';
import { ImportOrderStatusCommand, PlaceOrderCommand, StreamReads } from '@ledger/commands';
import {
  decideOrder,
  DomainError,
  evolveOrder,
  isPhpStatusCode,
  isValidOutTradeNo,
  PHP_STATUS_CODES,
  statusOfFacts,
  type ImportOrderStatus,
  type OrderState,
  type OrderStatus,
  type PaymentService,
  type PhpStatusCode,
  type PlaceOrder,
} from '@ledger/domain';
import { LedgerConfig } from '@ledger/platform';
import { parseCsv } from './csv';
import { detectLogCharset } from './log-file';

/** The fields read from the order table, and the seed integration's column names for them. */
export const ORDER_TABLE_FIELDS = [
  'out_trade_no',
  'status',
  'trade_no',
  'total_fee',
  'subject',
  'seller_id',
  'placed_at',
] as const;
export type OrderTableField = (typeof ORDER_TABLE_FIELDS)[number];

/** `user_order`'s names (docs/operations.md, "Importing a PHP integration's history"). */
export const DEFAULT_ORDER_COLUMNS: Readonly<Record<OrderTableField, string>> = {
  out_trade_no: 'id',
  status: 'status',
  trade_no: 'trade_no',
  total_fee: 'total_fee',
  subject: 'subject',
  seller_id: 'seller_id',
  placed_at: 'create_dtime',
};

/** Fields without which a row cannot be imported. */
const REQUIRED: readonly OrderTableField[] = ['out_trade_no', 'status', 'total_fee'];

export interface OrderTableOptions {
  dryRun: boolean;
  /** Only place the orders: their statuses are imported by a later run, once the logs are in. */
  placeOnly: boolean;
  /** Field → column name; unmapped fields take `DEFAULT_ORDER_COLUMNS`. */
  columns: Partial<Record<OrderTableField, string>>;
  service: PaymentService;
  delimiter?: string;
}

/**
 * What happened to one row. `placement`: `placed` (or `would_place`), `already_placed` (an earlier import),
 * `error`. `status`: `explained` (the notifications show the table's status), `imported` (`would_import`:
 * an `OrderStatusImported` records it), `already_imported`, `skipped` (placement only, or not placed).
 */
export interface ImportedOrder {
  line: number;
  outTradeNo: string;
  placement: 'placed' | 'would_place' | 'already_placed' | 'error';
  statusCode?: PhpStatusCode;
  tableStatus?: OrderStatus;
  /** The status the recorded notifications give (`awaiting_payment` when none). */
  explainedStatus?: OrderStatus;
  status?: 'explained' | 'imported' | 'would_import' | 'already_imported' | 'skipped';
  /** What disagrees between the table and the notifications. */
  disagreements: string[];
  error?: string;
}

export interface OrderTableReport {
  dryRun: boolean;
  placeOnly: boolean;
  file: string;
  charset: Charset;
  columns: Record<OrderTableField, string | null>;
  orders: ImportedOrder[];
  totals: {
    rows: number;
    placed: number;
    alreadyPlaced: number;
    explained: number;
    statusesImported: number;
    alreadyImported: number;
    disagreements: number;
    errors: number;
  };
}

/** The table cannot be read as asked: a usage error (a missing column), not a row's problem. */
export class OrderTableError extends Error {}

/** Reads a CSV export of the PHP integration's `user_order` table into placed orders and imported statuses. */
@Injectable()
export class OrderTableImporter {
  constructor(
    private readonly bus: CommandBus,
    private readonly reads: StreamReads,
    private readonly config: LedgerConfig,
  ) {}

  async importTable(
    file: { path: string; bytes: Buffer },
    options: OrderTableOptions,
  ): Promise<OrderTableReport> {
    const { charset } = detectLogCharset(file.bytes);
    let table;
    try {
      table = parseCsv(decodeBytes(file.bytes, charset), options.delimiter);
    } catch (error) {
      throw new OrderTableError(`${file.path}: ${(error as Error).message}`);
    }
    const columns = {} as Record<OrderTableField, string | null>;
    const indexes = {} as Record<OrderTableField, number>;
    for (const field of ORDER_TABLE_FIELDS) {
      const name = options.columns[field] ?? DEFAULT_ORDER_COLUMNS[field];
      const index = table.header.indexOf(name);
      if (index === -1 && (options.columns[field] !== undefined || REQUIRED.includes(field))) {
        throw new OrderTableError(
          `${file.path}: no column ${JSON.stringify(name)} for ${field} (columns: ${table.header.join(', ')}); ` +
            `map it with --column ${field}=<name>`,
        );
      }
      columns[field] = index === -1 ? null : name;
      indexes[field] = index;
    }
    const report: OrderTableReport = {
      dryRun: options.dryRun,
      placeOnly: options.placeOnly,
      file: file.path,
      charset,
      columns,
      orders: [],
      totals: {
        rows: 0,
        placed: 0,
        alreadyPlaced: 0,
        explained: 0,
        statusesImported: 0,
        alreadyImported: 0,
        disagreements: 0,
        errors: 0,
      },
    };
    const importedAt = new Date().toISOString();
    for (const row of table.rows) {
      const cell = (field: OrderTableField): string | undefined => {
        const value = indexes[field] === -1 ? undefined : row.cells[indexes[field]].trim();
        return value === '' || value === 'NULL' ? undefined : value;
      };
      const order = await this.importRow(file.path, row.line, cell, options, importedAt);
      report.orders.push(order);
      const { totals } = report;
      totals.rows += 1;
      if (order.placement === 'placed' || order.placement === 'would_place') totals.placed += 1;
      if (order.placement === 'already_placed') totals.alreadyPlaced += 1;
      if (order.placement === 'error') totals.errors += 1;
      if (order.status === 'explained') totals.explained += 1;
      if (order.status === 'imported' || order.status === 'would_import') totals.statusesImported += 1;
      if (order.status === 'already_imported') totals.alreadyImported += 1;
      if (order.disagreements.length > 0) totals.disagreements += 1;
    }
    return report;
  }

  private async importRow(
    path: string,
    line: number,
    cell: (field: OrderTableField) => string | undefined,
    options: OrderTableOptions,
    importedAt: string,
  ): Promise<ImportedOrder> {
    const outTradeNo = cell('out_trade_no') ?? '';
    const failed = (error: string): ImportedOrder => ({
      line,
      outTradeNo,
      placement: 'error',
      disagreements: [],
      error,
    });
    if (!isValidOutTradeNo(outTradeNo)) {
      return failed(`out_trade_no ${JSON.stringify(outTradeNo.slice(0, 80))} cannot name an order`);
    }
    const code = Number(cell('status'));
    if (cell('status') === undefined || !isPhpStatusCode(code)) {
      return failed(`status ${JSON.stringify(cell('status') ?? '')} is not one of 0, 8, 4, 32, 105, 106`);
    }
    const fee = parseYuan(cell('total_fee') ?? '');
    if (!fee.ok)
      return failed(`total_fee ${JSON.stringify(cell('total_fee') ?? '')}: ${fee.errors[0].message}`);
    const placedText = cell('placed_at');
    const placedAt = placedText === undefined ? undefined : parseBeijingTime(placedText);
    if (placedAt !== undefined && !placedAt.ok) return failed(`placed_at: ${placedAt.errors[0].message}`);
    const source = `${basename(path)}:${line}`;
    const sellerId = cell('seller_id');
    const place: PlaceOrder = {
      type: 'PlaceOrder',
      outTradeNo,
      subject: cell('subject') ?? `order ${outTradeNo}`,
      totalFee: fee.value,
      service: options.service,
      sellerId:
        sellerId !== undefined && /^2088[0-9]{12}$/.test(sellerId) ? sellerId : this.config.alipay.sellerId,
      // The PHP site's request is not in its table: nothing of it is frozen here.
      requestParameters: {},
      placedAt: placedAt?.value.toISOString() ?? importedAt,
      imported: { source },
    };
    const tradeNo = cell('trade_no');
    const result: ImportedOrder = {
      line,
      outTradeNo,
      placement: 'already_placed',
      statusCode: code,
      tableStatus: PHP_STATUS_CODES[code],
      disagreements: [],
    };

    let state: OrderState;
    try {
      state = (await this.reads.order(outTradeNo)).state;
      const placing = decideOrder(place, state);
      if (state.placed !== undefined && state.placed.imported === undefined) {
        return failed('placed by this ledger, not by an import: its status is the ledger’s own');
      }
      if (placing.length > 0) {
        if (options.dryRun) {
          for (const event of placing) state = evolveOrder(state, event);
          result.placement = 'would_place';
        } else {
          state = (await this.bus.execute(new PlaceOrderCommand(place))).state;
          result.placement = 'placed';
        }
      }
    } catch (error) {
      if (error instanceof DomainError) return failed(error.message);
      throw error;
    }

    const explained = statusOfFacts(state);
    result.explainedStatus = explained.status;
    if (options.placeOnly) {
      // The logs come next: what they do not support is judged once they are in.
      result.status = 'skipped';
      return result;
    }
    result.disagreements = disagreements(state, code, fee.value, tradeNo);
    const command: ImportOrderStatus = {
      type: 'ImportOrderStatus',
      outTradeNo,
      statusCode: code,
      ...(tradeNo === undefined ? {} : { tradeNo }),
      source,
      importedAt,
    };
    if (explained.statusCode === code) {
      result.status = 'explained';
    } else if (decideOrder(command, state).length === 0) {
      result.status = 'already_imported';
    } else if (options.dryRun) {
      result.status = 'would_import';
    } else {
      await this.bus.execute(new ImportOrderStatusCommand(command));
      result.status = 'imported';
    }
    return result;
  }
}

/** What the table says that the notifications recorded on the order contradict. */
function disagreements(
  state: OrderState,
  code: PhpStatusCode,
  totalFee: number,
  tradeNo: string | undefined,
): string[] {
  const found: string[] = [];
  const facts = statusOfFacts(state);
  // An anomalous notification (an amount that differs) records no status, but it was notified all the same.
  const notified =
    state.tradeStatus !== undefined ||
    state.refundStatus !== undefined ||
    state.anomalies.some((anomaly) => anomaly.notifyId !== undefined);
  if (notified && facts.statusCode !== code) {
    found.push(
      `status ${code} (${PHP_STATUS_CODES[code]}) is not what the notifications show: ${facts.status}` +
        (facts.statusCode === null ? '' : ` (${facts.statusCode})`),
    );
  }
  if (!notified && code !== 0) {
    found.push(`status ${code} (${PHP_STATUS_CODES[code]}) is supported by no notification in the log`);
  }
  if (state.paid && state.paidFee !== totalFee) {
    found.push(`total_fee ${totalFee} fen in the table, ${state.paidFee} fen paid by the notifications`);
  }
  for (const anomaly of state.anomalies) {
    if (anomaly.kind === 'amount_mismatch')
      found.push(`notification ${anomaly.notifyId ?? ''}: ${anomaly.detail}`);
  }
  if (tradeNo !== undefined && state.tradeNo !== undefined && tradeNo !== state.tradeNo) {
    found.push(`trade_no ${tradeNo} in the table, ${state.tradeNo} in the notifications`);
  }
  return found;
}
