export {
  orderSummaryOf,
  type OrderSummary,
  type OrderAnomaly,
  type OrderStreamPosition,
} from './order-summary';
export {
  DELIVERY_STATES,
  ORDER_STATUSES,
  OrderListItem,
  OrderPageView,
  OrderView,
  RETURN_STATES,
  toOrderListItem,
  toOrderView,
} from './order-view';
export { ProjectionsError, type ProjectionsErrorCode } from './projections-error';
export {
  ORDER_STATUS_PROJECTION,
  ORDER_STATUS_TABLE,
  orderStatusProjection,
} from './order-status.projection';
export {
  OrderQueries,
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  type AttentionList,
  type OrderListFilters,
  type OrderPage,
  type OrderTotals,
  type OrdersNeedingAttention,
  type PendingDecisionCounts,
} from './order-queries';
export type {
  RefundBatchSummary,
  RefundBatchListItem,
  RefundBatchRecord,
  RefundBatchAnomaly,
  RefundBatchState,
  RefundRecordOutcome,
} from './refund-batch-summary';
export {
  REFUND_BATCH_PROJECTION,
  REFUND_BATCH_TABLE,
  refundBatchProjection,
} from './refund-batch.projection';
export {
  RefundBatchQueries,
  REFUND_BATCH_STATES,
  type UnsettledRefundBatchState,
  type RefundBatchListFilters,
  type RefundBatchPage,
} from './refund-batch-queries';
export { ProjectionsService, LEDGER_PROJECTIONS, type RebuildReport } from './projections.service';
export { ProjectionsModule } from './projections.module';
export { PROJECTION_MIGRATIONS } from './migrations';
