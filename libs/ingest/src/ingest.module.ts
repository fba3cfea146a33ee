import { Module } from '@nestjs/common';
import { EventStoreModule } from '@ledger/event-store';
import { PlatformModule } from '@ledger/platform';
import { InboxQueries } from './inbox/inbox-queries';
import { InboxRecovery } from './inbox/inbox-recovery';
import { OrderCommands } from './orders/order-commands';
import { RefundBatchCommands } from './refunds/refund-batch-writer';
import { NotificationReplayer } from './replay/notification-replayer';

/**
 * The write side shared by the HTTP edges and the workers: `OrderCommands` (POST /orders, fulfilment),
 * `RefundBatchCommands` (POST /refunds, the overdue check),
 * `InboxQueries` and `NotificationReplayer` (admin API), and the sweep that gives interrupted notifications
 * an outcome. The notification pipeline itself needs a `NOTIFY_ID_CHECK` and is provided by the module that
 * serves the Alipay edge.
 */
@Module({
  imports: [PlatformModule, EventStoreModule],
  providers: [OrderCommands, RefundBatchCommands, InboxQueries, NotificationReplayer, InboxRecovery],
  exports: [OrderCommands, RefundBatchCommands, InboxQueries, NotificationReplayer, InboxRecovery],
})
export class IngestModule {}
