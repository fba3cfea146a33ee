import { DomainError } from '../domain-error';
import type { Instant } from '../values';
import { statusOfFacts, type OrderStatus, type PhpStatusCode } from './order-decisions';
import type { OrderEvent } from './order-events';
import type { OrderState } from './order-state';

/** The status the PHP integration's order table showed, by its code (docs/product-rules.md, "Order status"). */
export const PHP_STATUS_CODES: Readonly<Record<PhpStatusCode, OrderStatus>> = {
  0: 'awaiting_payment',
  8: 'paid',
  4: 'finished',
  32: 'closed',
  105: 'refunded',
  106: 'refund_closed',
};

export function isPhpStatusCode(code: number): code is PhpStatusCode {
  return Object.hasOwn(PHP_STATUS_CODES, code);
}

/** Record what the PHP integration's order table showed for an order the ledger placed from it. */
export interface ImportOrderStatus {
  type: 'ImportOrderStatus';
  outTradeNo: string;
  statusCode: PhpStatusCode;
  tradeNo?: string;
  source: string;
  importedAt: Instant;
}

/**
 * `OrderStatusImported` when neither the recorded facts nor an earlier import already show the table's
 * status; nothing otherwise, so that importing the table again appends nothing. Only for an order placed
 * from the table: a status imported on the ledger's own order would hide what the ledger knows.
 */
export function decideImportOrderStatus(command: ImportOrderStatus, state: OrderState): OrderEvent[] {
  if (state.placed?.imported === undefined) {
    throw new DomainError(
      'INVALID_ORDER',
      `order ${command.outTradeNo} was not placed from the PHP integration's order table`,
      'outTradeNo',
    );
  }
  const status = PHP_STATUS_CODES[command.statusCode];
  const explained = statusOfFacts(state);
  if (explained.statusCode === command.statusCode) return [];
  if (state.importedStatus?.statusCode === command.statusCode) return [];
  return [
    {
      type: 'OrderStatusImported',
      data: {
        outTradeNo: command.outTradeNo,
        statusCode: command.statusCode,
        status,
        ...(command.tradeNo === undefined ? {} : { tradeNo: command.tradeNo }),
        // Placement alone explains nothing beyond awaiting payment.
        explainedStatus: explained.status,
        source: command.source,
        importedAt: command.importedAt,
      },
    },
  ];
}
