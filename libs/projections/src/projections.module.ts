import { Global, Module } from '@nestjs/common';
import { OrderQueries } from './order-queries';
import { ProjectionsService } from './projections.service';

/**
 * The read side (SPEC §3 projections): hosts the projector (started on application bootstrap, stopped on
 * shutdown) and provides `ProjectionsService` (read-your-writes waits, rebuilds) and `OrderQueries`.
 * Global: the ingest pipeline and the fulfilment worker inject them without importing this module.
 * Needs PlatformModule's DataSource and LedgerLogger.
 */
@Global()
@Module({
  providers: [ProjectionsService, OrderQueries],
  exports: [ProjectionsService, OrderQueries],
})
export class ProjectionsModule {}
