import { Global, Module } from '@nestjs/common';
import { InboxQueries } from './inbox/inbox-queries';
import { InboxRecovery } from './inbox/inbox-recovery';
import { OrderCommands } from './orders/order-commands';
import { RefundBatchCommands } from './refunds/refund-batch-writer';
import { NotificationReplayer } from './replay/notification-replayer';

/**
 * The write side shared by the HTTP edges and the workers: `OrderCommands` (POST /orders, fulfilment),
 * `RefundBatchCommands` (POST /refunds, the overdue check),
 * `InboxQueries` and `NotificationReplayer` (admin API), and the sweep that gives interrupted notifications
 * an outcome. Global, so that other modules inject them without importing this one. Needs PlatformModule's
 * DataSource, LedgerConfig and LedgerLogger, and EventStoreModule's EventStore. The notification pipeline
 * itself needs a `NOTIFY_ID_CHECK` and is provided by the module that serves the Alipay edge.
 */
@Global()
@Module({
  providers: [OrderCommands, RefundBatchCommands, InboxQueries, NotificationReplayer, InboxRecovery],
  exports: [OrderCommands, RefundBatchCommands, InboxQueries, NotificationReplayer, InboxRecovery],
})
export class IngestModule {}
