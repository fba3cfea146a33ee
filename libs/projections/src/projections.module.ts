import { Module } from '@nestjs/common';
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
  imports: [PlatformModule],
  providers: [ProjectionsService, OrderQueries, RefundBatchQueries],
  exports: [ProjectionsService, OrderQueries, RefundBatchQueries],
})
export class ProjectionsModule {}
