import { type DynamicModule, Module } from '@nestjs/common';
import { EventStoreModule } from '@ledger/event-store';
import { PlatformModule } from '@ledger/platform';
import { AccountingExports } from './exports/accounting-exports';
import { OrderQueries } from './order-queries';
import { PROJECTIONS_OPTIONS, ProjectionsService, type ProjectionsOptions } from './projections.service';
import { RefundBatchQueries } from './refund-batch-queries';

/** Holds what `ProjectionsModule.forRoot` received, for the one `ProjectionsService`. */
@Module({})
class ProjectionsOptionsHost {
  static of(options: ProjectionsOptions): DynamicModule {
    return {
      module: ProjectionsOptionsHost,
      global: true,
      providers: [{ provide: PROJECTIONS_OPTIONS, useValue: options }],
      exports: [PROJECTIONS_OPTIONS],
    };
  }
}

/**
 * The read side (docs/product-rules.md, "Projections"): hosts the projector (started on application
 * bootstrap, stopped on shutdown) and provides `ProjectionsService` (read-your-writes waits, rebuilds,
 * verifications), `OrderQueries`, `RefundBatchQueries` and `AccountingExports`.
 */
@Module({
  // The projector upcasts with the event store's one catalogue (EventSchemas).
  imports: [PlatformModule, EventStoreModule],
  providers: [ProjectionsService, OrderQueries, RefundBatchQueries, AccountingExports],
  exports: [ProjectionsService, OrderQueries, RefundBatchQueries, AccountingExports],
})
export class ProjectionsModule {
  /**
   * Only sets the options (EventStoreModule's pattern): `{consume: false}` in a tool, where the projector
   * must not run (docs/operations.md, "The CLI"). The root imports it once, beside the plain module that
   * every user of the read side imports.
   */
  static forRoot(options: ProjectionsOptions): DynamicModule {
    return ProjectionsOptionsHost.of(options);
  }
}
