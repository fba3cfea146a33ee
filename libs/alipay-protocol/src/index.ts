export {
  TRADE_STATUSES,
  REFUND_STATUSES,
  isTradeStatus,
  isRefundStatus,
  tradeStatusRank,
  isPaidStatus,
  isTerminalTradeStatus,
  inferPaymentType,
  refundOutcome,
  isExpectedRefundTransition,
} from './status';
export type { TradeStatus, RefundStatus, PaymentType, RefundOutcome } from './status';
export { ok, fail, failWith } from './errors';
export type { ProtocolError, ProtocolErrorCode, Result, Failure } from './errors';
export { MAX_AMOUNT_FEN, parseYuan, formatYuan, isRequestAmount } from './money';
export type { ParseYuanOptions } from './money';
export { parseBeijingTime, formatBeijingTime, formatBeijingCompactDate, isCompactDate } from './beijing-time';
