export {
  DEFAULT_FULFILMENT_OPTIONS,
  FULFILMENT_OPTIONS,
  type FulfilmentOptions,
} from './fulfilment/fulfilment-options';
export { FULFILMENT_OUTBOX, DEFAULT_ENDPOINT, webhookIdOf } from './fulfilment/fulfilment-outbox';
export { FulfilmentProcess } from './fulfilment/fulfilment-process';
export { ShippingConfirmations } from './fulfilment/shipping-confirmations';
export { FulfilmentModule } from './fulfilment/fulfilment.module';
export {
  WebhookDispatcher,
  type ClaimedWebhook,
  type WebhookAnswer,
  type WebhookReaction,
} from './webhooks/webhook-dispatcher';
export { WEBHOOK_EVENT_TYPES, orderWebhooksOf, type WebhookEventType } from './webhooks/webhook-events';
export { DEMO_SHOP_PATH, WEBHOOK_OPTIONS, type WebhookOptions } from './webhooks/webhook-options';
export {
  WEBHOOK_STATES,
  WebhookQueries,
  type EndpointHealth,
  type WebhookAttemptSummary,
  type WebhookListFilters,
  type WebhookPage,
  type WebhookPagePosition,
  type UnsettledWebhookState,
  type WebhookState,
  type WebhookSummary,
} from './webhooks/webhook-queries';
export { PROCESS_MIGRATIONS } from './migrations';
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
export { RefundBatchSends, type SendClaim } from './refunds/refund-batch-sends';
export {
  REFUND_BATCH_WORK,
  RefundBatchWork,
  refundBatchWork,
  type RefundBatchCheck,
} from './refunds/refund-batch-work';
export { ProcessConsumers } from './consumers/process-consumers';
export { ProcessConsumersModule } from './consumers/process-consumers.module';
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
export { LedgerStatus, type LedgerStatusReport } from './status/ledger-status';
export { LedgerStatusModule } from './status/ledger-status.module';
