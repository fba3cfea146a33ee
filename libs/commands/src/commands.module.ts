import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { OrderCommands } from './orders/order-commands';
import { ORDER_STREAM_HANDLERS } from './orders/order-stream-commands';
import { RecordRefundNotificationHandler } from './refunds/record-refund-notification';
import { RefundBatchCommands } from './refunds/refund-batch-adapter';
import { REFUND_BATCH_STREAM_HANDLERS } from './refunds/refund-batch-commands';
import { RefundSubmissions, RequestRefundBatchHandler } from './refunds/request-refund-batch';
import { RecordTradeNotificationHandler } from './pipeline/record-trade-notification';
import { ReplayNotificationsHandler } from './replay/replay-notifications';
import { PostgresStreamSessions } from './stream/postgres-stream-session';

/**
 * The write side: one handler on the command bus per command (docs/commands.md), the PostgreSQL sessions
 * they run the command step in, and `OrderCommands`, `RefundBatchCommands` and `RefundSubmissions` for the
 * callers that do not dispatch on the bus themselves. Needs PlatformModule's DataSource, LedgerConfig and
 * LedgerLogger, and EventStoreModule's EventStore. The notification pipeline needs a `NOTIFY_ID_CHECK` and
 * is provided by the module that serves the Alipay edge.
 */
@Module({
  imports: [CqrsModule.forRoot()],
  providers: [
    PostgresStreamSessions,
    ...ORDER_STREAM_HANDLERS,
    ...REFUND_BATCH_STREAM_HANDLERS,
    RequestRefundBatchHandler,
    RecordTradeNotificationHandler,
    RecordRefundNotificationHandler,
    ReplayNotificationsHandler,
    OrderCommands,
    RefundBatchCommands,
    RefundSubmissions,
  ],
  exports: [CqrsModule, PostgresStreamSessions, OrderCommands, RefundBatchCommands, RefundSubmissions],
})
export class CommandsModule {}
