import { Module } from '@nestjs/common';
import { CommandsModule } from '@ledger/commands';
import { InboxModule } from '@ledger/inbox';
import { AdminNotificationsController } from './admin-notifications.controller';
import { AdminOrdersController } from './admin-orders.controller';
import { AdminProjectionsController } from './admin-projections.controller';
import { AdminRefundBatchesController } from './admin-refund-batches.controller';

/**
 * The admin API of issue 4 §7, behind the admin bearer token: orders (projection and history), the raw
 * inbox, replay (on the command bus) and projection rebuilds; refund batches (issue 5 §5). Reads
 * ProjectionsModule's global providers.
 */
@Module({
  imports: [CommandsModule, InboxModule],
  controllers: [
    AdminOrdersController,
    AdminNotificationsController,
    AdminProjectionsController,
    AdminRefundBatchesController,
  ],
})
export class AdminModule {}
