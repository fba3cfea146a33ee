export {
  FulfilmentHook,
  LoggingFulfilmentHook,
  type DeliveryReceipt,
  type FulfilmentOrder,
  type ReturnReceipt,
  type ShipmentDetails,
} from './fulfilment/fulfilment-hook';
export {
  DEFAULT_FULFILMENT_OPTIONS,
  FULFILMENT_OPTIONS,
  type FulfilmentOptions,
} from './fulfilment/fulfilment-options';
export { FulfilmentWorker } from './fulfilment/fulfilment-worker';
export { FulfilmentModule } from './fulfilment/fulfilment.module';
export { NopwdSender, type NopwdSendResult, type SendGuard } from './refunds/nopwd-sender';
export { nopwdAttemptOutcome, type NopwdAttemptOutcome } from './refunds/nopwd-outcome';
export { NopwdRefundsModule } from './refunds/nopwd-refunds.module';
export {
  REFUND_OVERDUE_OPTIONS,
  RefundOverdueCheck,
  refundOverdueOptions,
  type RefundOverdueOptions,
} from './refunds/refund-overdue-check';
export { RefundOverdueModule } from './refunds/refund-overdue.module';
export { RefundRequests } from './refunds/refund-requests';
export { RefundResender } from './refunds/refund-resender';
export { DEFAULT_REFUNDS_OPTIONS, REFUNDS_OPTIONS, type RefundsOptions } from './refunds/refunds-options';
export { RECONCILE_OPTIONS, reconcileOptions, type ReconcileOptions } from './reconcile/reconcile-options';
export {
  Reconciler,
  type ReconcileReport,
  type ReconcileSelection,
  type ReconcileStatus,
  type ReconciledOrder,
} from './reconcile/reconciler';
export { ReconcileModule } from './reconcile/reconcile.module';
