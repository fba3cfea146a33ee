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
