import { Module } from '@nestjs/common';
import { CommandsModule } from '@ledger/commands';
import { EventStoreModule } from '@ledger/event-store';
import { InboxModule } from '@ledger/inbox';
import { PlatformModule } from '@ledger/platform';
import { FulfilmentModule, ReconcileModule } from '@ledger/processes';
import { ProjectionsModule } from '@ledger/projections';
import { HttpEdgeModule } from '../http/http-edge.module';
import { AdminExportsController } from './admin-exports.controller';
import { AdminNotificationsController } from './admin-notifications.controller';
import { AdminOrdersController } from './admin-orders.controller';
import { AdminProjectionsController } from './admin-projections.controller';
import { AdminReconcileController } from './admin-reconcile.controller';
import { AdminRefundBatchesController } from './admin-refund-batches.controller';
import { AdminResolutionsController } from './admin-resolutions.controller';
import { AdminWebhooksController } from './admin-webhooks.controller';
import { OrderHistoryHandler } from './order-history.query';

/**
 * The admin API (docs/operations.md, "The admin API"), behind the admin bearer token: orders (projection and
 * history), the raw inbox, replay (on the command bus) and projection rebuilds; refund batches
 * (docs/operations.md, "The refund batch projection"); reconciliation with Alipay (docs/operations.md,
 * "Reconciliation"); exports for accounting (docs/operations.md, "Exports").
 */
@Module({
  imports: [
    PlatformModule,
    HttpEdgeModule,
    EventStoreModule,
    CommandsModule,
    InboxModule,
    ProjectionsModule,
    FulfilmentModule,
    ReconcileModule,
  ],
  controllers: [
    AdminOrdersController,
    AdminNotificationsController,
    AdminProjectionsController,
    AdminRefundBatchesController,
    AdminResolutionsController,
    AdminWebhooksController,
    AdminReconcileController,
    AdminExportsController,
  ],
  providers: [OrderHistoryHandler],
})
export class AdminModule {}
