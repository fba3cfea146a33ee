export {
  metadataOf,
  decideOnStream,
  decideOnLoaded,
  loadStream,
  runCommand,
  COMMAND_ATTEMPTS,
  type CommandContext,
  type LoadedStream,
  type AppendedEvent,
  type StreamDecision,
  type WithOptionalLanding,
} from './stream/command-step';
export type { StreamSession, StreamSessions, StoredStream, StreamEvent } from './stream/stream-session';
export {
  PostgresStreamSession,
  PostgresTransactionSession,
  PostgresStreamSessions,
} from './stream/postgres-stream-session';
export { InMemoryStreamSession, IN_MEMORY_TRANSACTION } from './stream/in-memory-stream-session';
export {
  foldStream,
  orderStream,
  refundBatchStream,
  type StreamDefinition,
} from './stream/stream-definitions';
export {
  decideOnRefundBatch,
  type OrderDecision,
  type RefundBatchDecision,
} from './stream/refund-batch-step';
export { loadOrder, loadRefundBatch } from './stream/run-on-streams';
export {
  PlaceOrderCommand,
  RecordTradeStatusCommand,
  CompleteDeliveryCommand,
  CompleteReturnCommand,
  ConfirmShippingCommand,
} from './orders/order-stream-commands';
export { OrderCommands, type OrderCommandResult, type OrderSnapshot } from './orders/order-commands';
export {
  SubmitRefundBatchCommand,
  AnswerRefundBatchCommand,
  CompleteRefundBatchCommand,
  FlagOverdueRefundBatchCommand,
} from './refunds/refund-batch-commands';
export { RefundBatchCommands, type RefundBatchCommandResult } from './refunds/refund-batch-adapter';
export {
  RequestRefundBatchCommand,
  RefundSubmissions,
  type RefundRequest,
  type RefundRequestItem,
  type RefundBatchView,
  type RefundSubmission,
} from './refunds/request-refund-batch';
export { RecordTradeNotificationCommand } from './pipeline/record-trade-notification';
export { RecordRefundNotificationCommand } from './refunds/record-refund-notification';
export { notificationMetadata, type AppliedNotification } from './pipeline/notification-channel';
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
export { CommandsModule } from './commands.module';
export { REFUND_SUBMISSION_MIGRATIONS } from './refunds/migrations';
