export { IngestError, type IngestErrorCode } from './ingest-error';
export {
  INBOX_CHANNELS,
  INBOX_OUTCOMES,
  DEFAULT_INBOX_PAGE_SIZE,
  MAX_INBOX_PAGE_SIZE,
  type InboxChannel,
  type InboxOutcome,
  type InboxOutcomeDetail,
  type InboxNotificationView,
  type InboxFilters,
  type InboxPageRequest,
  type InboxPage,
  type NotifyVerifyEvidence,
  type RejectionReason,
  type FailureReason,
  type AppendedEventRef,
} from './inbox/inbox-notification';
export { InboxQueries } from './inbox/inbox-queries';
export { InboxRecovery, INTERRUPTED_AFTER_MS } from './inbox/inbox-recovery';
export { InboxPurge, PURGE_BATCH_SIZE, type PurgeReport, type PurgeRequest } from './inbox/inbox-purge';
export {
  OrderCommands,
  type CommandContext,
  type OrderCommandResult,
  type OrderSnapshot,
} from './orders/order-commands';
export type { AppendedOrderEvent, OrderDecision } from './orders/order-stream-writer';
export {
  RefundBatchCommands,
  decideOnRefundBatch,
  foldRefundBatchStream,
  type AppendedBatchEvent,
  type RefundBatchDecision,
} from './refunds/refund-batch-writer';
export {
  RefundSubmissions,
  type RefundRequest,
  type RefundRequestItem,
  type RefundBatchView,
  type RefundSubmission,
} from './refunds/refund-submission';
export {
  MAX_NOTIFICATION_BYTES,
  NOTIFY_ID_CHECK,
  type RawNotification,
  type NotifyIdCheck,
  type NotificationReply,
  type IngestResult,
} from './pipeline/raw-notification';
export { NotificationPipeline } from './pipeline/notification-pipeline';
export { notificationMetadata } from './pipeline/apply-trade-notification';
export { NotificationReplayer, MAX_REPLAY_IDS } from './replay/notification-replayer';
export type {
  ReplaySelection,
  ReplayOptions,
  ReplaySkipReason,
  ReplayedOrder,
  ReplayedBatch,
  ReplayReport,
} from './replay/replay-report';
export { IngestModule } from './ingest.module';
