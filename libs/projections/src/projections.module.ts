import { Global, Module } from '@nestjs/common';
import { OrderQueries } from './order-queries';
import { ProjectionsService } from './projections.service';
import { RefundBatchQueries } from './refund-batch-queries';

/**
 * The read side (docs/product-rules.md, "Projections"): hosts the projector (started on application
 * bootstrap, stopped on shutdown) and provides `ProjectionsService` (read-your-writes waits, rebuilds),
 * `OrderQueries` and `RefundBatchQueries`. Global: the ingest pipeline and the fulfilment worker inject them
 * without importing this module. Needs PlatformModule's DataSource and LedgerLogger.
 */
@Global()
@Module({
  providers: [ProjectionsService, OrderQueries, RefundBatchQueries],
  exports: [ProjectionsService, OrderQueries, RefundBatchQueries],
})
export class ProjectionsModule {}
