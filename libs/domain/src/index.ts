export { DomainError } from './domain-error';
export type { DomainErrorCode } from './domain-error';
export { foldEvents } from './decider';
export type { Decider } from './decider';
export type { Fen, Instant, NotificationSource } from './values';
export type { AnomalyKind } from './anomaly';
export { checkResolution, MAX_RESOLUTION_REASON_LENGTH } from './operator-resolution';
export { LEDGER_EVENT_CATALOGUE, eventCatalogue } from './event-catalogue';
export type { EventDataUpcaster, LedgerEventCatalogue } from './event-catalogue';

export {
  MAX_OUT_TRADE_NO_LENGTH,
  isValidOutTradeNo,
  orderStreamId,
  outTradeNoOfStream,
} from './order/order-stream';
export { ORDER_EVENT_SCHEMA_VERSIONS, asOrderEvent } from './order/order-events';
export type {
  OrderEvent,
  OrderEventType,
  PaymentService,
  NotificationRef,
  OpenRefundStatus,
  TradeClosedReason,
  OrderPlaced,
  OrderStatusImported,
  PaymentAwaited,
  PaymentSucceeded,
  GoodsShipped,
  TradeFinished,
  TradeClosed,
  RefundRequested,
  RefundRefused,
  RefundSucceeded,
  RefundFailed,
  RefundClosed,
  DeliveryCompleted,
  ReturnCompleted,
  ShippingConfirmed,
  ShippingConfirmationFailed,
  AnomalyResolved,
  OrderAnomalyDetected,
} from './order/order-events';
export { ORDER_STATE_VERSION, initialOrderState, evolveOrder } from './order/order-state';
export type { OrderState, BatchRefundEntry, RecordedAnomaly } from './order/order-state';
export { decideOrder, orderDecider } from './order/order-decider';
export type { OrderCommand } from './order/order-decider';
export type { PlaceOrder } from './order/place-order';
export { PHP_STATUS_CODES, isPhpStatusCode } from './order/import-order-status';
export type { ImportOrderStatus } from './order/import-order-status';
export type { RecordTradeStatus } from './order/record-trade-status';
export type {
  ReserveBatchRefund,
  ReleaseBatchReservation,
  RecordBatchRefundResult,
} from './order/batch-refunds';
export type { CompleteDelivery, CompleteReturn, ConfirmShipping, FulfilmentSource } from './order/fulfilment';
export { openAnomalies } from './order/anomaly-resolution';
export type { ResolveAnomalies } from './order/anomaly-resolution';
export {
  orderStatusOf,
  statusOfFacts,
  STATUS_PRECEDENCE,
  deliveryDecision,
  returnDecision,
  shippingDecision,
  refundableFee,
  reservedFee,
  isFullyRefunded,
  isRefundRequestOpen,
} from './order/order-decisions';
export type {
  OrderStatus,
  PhpStatusCode,
  OrderStatusView,
  DeliveryDecision,
  ReturnDecision,
  ShippingDecision,
} from './order/order-decisions';

export { refundBatchStreamId, batchNoOfStream } from './refund-batch/refund-batch-stream';
export { REFUND_BATCH_EVENT_SCHEMA_VERSIONS, asRefundBatchEvent } from './refund-batch/refund-batch-events';
export type {
  RefundBatchEvent,
  RefundBatchEventType,
  RefundMode,
  RefundBatchItem,
  RefundRecordResult,
  ReconciledRecord,
  BatchAnomaly,
  RefundBatchSubmitted,
  RefundBatchAccepted,
  RefundBatchRejected,
  RefundBatchCompleted,
  RefundBatchOutcomeUnknown,
  RefundBatchResendRejected,
  RefundBatchCancelled,
  RefundBatchExpired,
  RefundBatchOutcomeMarked,
  OperatorResolution,
  RefundBatchAnomalyDetected,
} from './refund-batch/refund-batch-events';
export {
  initialRefundBatchState,
  evolveRefundBatch,
  decideRefundBatch,
  refundBatchDecider,
  reconcileRefundBatch,
  orderCommandsForBatchEvent,
  orderCommandsForBatchEvents,
  expiryReason,
} from './refund-batch/refund-batch-decider';
export type {
  BatchOrderCommand,
  RefundBatchCommand,
  RefundBatchState,
  RefundBatchStatus,
  SubmitRefundBatch,
  AcceptRefundBatch,
  RejectRefundBatch,
  CompleteRefundBatch,
  FlagOverdueRefundBatch,
  MarkRefundBatchOutcomeUnknown,
  CancelRefundBatch,
  ExpireRefundBatch,
  MarkRefundBatchOutcome,
  RefundBatchResolution,
} from './refund-batch/refund-batch-decider';
