import { Module } from '@nestjs/common';
import { AdminNotificationsController } from './admin-notifications.controller';
import { AdminOrdersController } from './admin-orders.controller';
import { AdminProjectionsController } from './admin-projections.controller';

/**
 * The admin API of issue 4 §7, behind the admin bearer token: orders (projection and history), the raw
 * inbox, replay and projection rebuilds. Reads ProjectionsModule's and IngestModule's global providers.
 */
@Module({
  controllers: [AdminOrdersController, AdminNotificationsController, AdminProjectionsController],
})
export class AdminModule {}
