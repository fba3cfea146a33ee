import { Module } from '@nestjs/common';
import { EventStoreModule } from '@ledger/event-store';
import { PlatformModule } from '@ledger/platform';
import { OrderQueries } from './order-queries';
import { ProjectionsService } from './projections.service';
import { RefundBatchQueries } from './refund-batch-queries';

/**
 * The read side (docs/product-rules.md, "Projections"): hosts the projector (started on application
 * bootstrap, stopped on shutdown) and provides `ProjectionsService` (read-your-writes waits, rebuilds),
 * `OrderQueries` and `RefundBatchQueries`.
 */
@Module({
  // The projector upcasts with the event store's one catalogue (EventSchemas).
  imports: [PlatformModule, EventStoreModule],
  providers: [ProjectionsService, OrderQueries, RefundBatchQueries],
  exports: [ProjectionsService, OrderQueries, RefundBatchQueries],
})
export class ProjectionsModule {}
