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
export {
  ProjectionsService,
  LEDGER_PROJECTIONS,
  LEDGER_PROJECTION_NAMES,
  PROJECTIONS_OPTIONS,
  type ProjectionOverview,
  type ProjectionsOptions,
  type RebuildReport,
} from './projections.service';
export {
  MONEY_MOVEMENTS_PROJECTION,
  MONEY_MOVEMENTS_TABLE,
  moneyMovementsProjection,
} from './money-movements/money-movements.projection';
export {
  MONEY_EVENT_TYPES,
  moneyMovementOf,
  type MoneyMovement,
  type MoneyMovementKind,
  type MoneyMovementOutcome,
} from './money-movements/money-movement';
export {
  AccountingExports,
  EXPORT_COLUMNS,
  EXPORT_PAGE_SIZE,
  beijingInstant,
  type ExportRecord,
} from './exports/accounting-exports';
export {
  EXPORT_FORMATS,
  EXPORT_KINDS,
  exportContentType,
  exportFileName,
  parseExportRequest,
  type ExportFormat,
  type ExportInput,
  type ExportKind,
  type ExportRequest,
} from './exports/export-request';
export { CSV_BOM, csvField, csvRecord, guardFormula } from './exports/csv';
export { ProjectionsModule } from './projections.module';
export { PROJECTION_MIGRATIONS } from './migrations';
