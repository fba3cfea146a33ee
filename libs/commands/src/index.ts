// The public face of the command path: the module, the commands and their results, what the readers of a
// stream need, and the step itself for setting up streams before a ledger runs (tests, benchmarks).
export { CommandsModule } from './commands.module';
export { CommandError, type CommandErrorCode } from './command-error';
export {
  decideOnStream,
  type CommandContext,
  type LoadedStream,
  type AppendedEvent,
  type StreamDecision,
} from './stream/command-step';
export type { StreamSession } from './stream/stream-session';
export { PostgresStreamSession } from './stream/postgres-stream-session';
export { orderStream, refundBatchStream } from './stream/stream-definitions';
export type { OrderDecision, RefundBatchDecision } from './stream/refund-batch-step';
export { StreamReads, type RefundBatchView } from './stream/stream-reads';
export {
  PlaceOrderCommand,
  ImportOrderStatusCommand,
  RecordTradeStatusCommand,
  CompleteDeliveryCommand,
  CompleteReturnCommand,
  ConfirmShippingCommand,
} from './orders/order-stream-commands';
export {
  SubmitRefundBatchCommand,
  AnswerRefundBatchCommand,
  CompleteRefundBatchCommand,
  FlagOverdueRefundBatchCommand,
} from './refunds/refund-batch-commands';
export {
  MarkRefundBatchOutcomeUnknownCommand,
  CancelRefundBatchCommand,
  ExpireRefundBatchCommand,
  MarkRefundBatchOutcomeCommand,
  ResolveAnomaliesCommand,
} from './resolutions/resolution-commands';
export {
  RequestRefundBatchCommand,
  type RefundRequest,
  type RefundRequestItem,
  type RefundSubmission,
} from './refunds/request-refund-batch';
export {
  PreviewRefundBatchQuery,
  type RefundBatchPreview,
  type RefundPreviewRecord,
} from './refunds/preview-refund-batch';
export { RecordTradeNotificationCommand } from './pipeline/record-trade-notification';
export { RecordRefundNotificationCommand } from './refunds/record-refund-notification';
export { NotificationPipeline, ReceiveNotificationCommand } from './pipeline/notification-pipeline';
export { ReplayNotificationsCommand, MAX_REPLAY_IDS } from './replay/replay-notifications';
export type {
  ReplaySelection,
  ReplayOptions,
  ReplaySkipReason,
  ReplayedOrder,
  ReplayedBatch,
  ReplayReport,
} from './replay/replay-report';
export { REFUND_SUBMISSION_MIGRATIONS } from './refunds/migrations';
export {
  RecordTradeQueryCommand,
  type RecordedQuery,
  type TradeQueryAnswer,
} from './reconcile/record-trade-query';
export { queryFactKey, readQueriedTrade } from './reconcile/query-command';
export {
  ReconcileSchedule,
  nextQueryDelayMs,
  type ClaimedQuery,
  type QuerySettlement,
  type ReconcileCandidate,
  type ReconcileReason,
  type ReconcileScheduleStatus,
} from './reconcile/reconcile-schedule';
export { RECONCILE_MIGRATIONS } from './reconcile/migrations';
