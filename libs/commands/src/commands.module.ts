import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { EventStoreModule } from '@ledger/event-store';
import { InboxModule } from '@ledger/inbox';
import { PlatformModule } from '@ledger/platform';
import { ORDER_STREAM_HANDLERS } from './orders/order-stream-commands';
import { RecordRefundNotificationHandler } from './refunds/record-refund-notification';
import { REFUND_BATCH_STREAM_HANDLERS } from './refunds/refund-batch-commands';
import { PreviewRefundBatchHandler } from './refunds/preview-refund-batch';
import { RequestRefundBatchHandler } from './refunds/request-refund-batch';
import { RecordTradeNotificationHandler } from './pipeline/record-trade-notification';
import { ReconcileSchedule } from './reconcile/reconcile-schedule';
import { RecordTradeQueryHandler } from './reconcile/record-trade-query';
import { ReplayNotificationsHandler } from './replay/replay-notifications';
import { RESOLUTION_HANDLERS } from './resolutions/resolution-commands';
import { PostgresStreamSessions } from './stream/postgres-stream-session';
import { StreamReads } from './stream/stream-reads';

/**
 * The write side: one handler on the command bus per command (docs/commands.md), the PostgreSQL sessions
 * they run the command step in, and `StreamReads`, the strongly consistent reads of a stream for the
 * processes that decide from one. The notification pipeline needs a `NOTIFY_ID_CHECK` and is provided by
 * the module that serves the Alipay edge.
 */
@Module({
  imports: [CqrsModule.forRoot(), PlatformModule, EventStoreModule, InboxModule],
  providers: [
    PostgresStreamSessions,
    ...ORDER_STREAM_HANDLERS,
    ...REFUND_BATCH_STREAM_HANDLERS,
    ...RESOLUTION_HANDLERS,
    RequestRefundBatchHandler,
    PreviewRefundBatchHandler,
    RecordTradeNotificationHandler,
    RecordRefundNotificationHandler,
    ReplayNotificationsHandler,
    RecordTradeQueryHandler,
    ReconcileSchedule,
    StreamReads,
  ],
  exports: [CqrsModule, InboxModule, PostgresStreamSessions, StreamReads, ReconcileSchedule],
})
export class CommandsModule {}
