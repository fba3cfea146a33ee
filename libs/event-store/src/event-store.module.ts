import { type DynamicModule, Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { LedgerMetrics, PlatformModule } from '@ledger/platform';
import { EventSchemas, type EventCatalogue } from './event-schemas';
import { EventStore } from './event-store';

interface EventStoreOptions {
  catalogue: EventCatalogue;
}

// Private to this file: only EventStoreModule's providers read it.
const EVENT_STORE_OPTIONS = Symbol('EVENT_STORE_OPTIONS');

/**
 * Holds what `EventStoreModule.forRoot` received, so that a plain `imports: [EventStoreModule]` builds the
 * store with it (PlatformModule's pattern: global, but its only token is private).
 */
@Module({})
class EventStoreOptionsHost {
  static of(options: EventStoreOptions): DynamicModule {
    return {
      module: EventStoreOptionsHost,
      global: true,
      providers: [{ provide: EVENT_STORE_OPTIONS, useValue: options }],
      exports: [EVENT_STORE_OPTIONS],
    };
  }
}

/**
 * Provides one `EventStore` over the application's data source (PlatformModule's TypeORM connection), and
 * the `EventSchemas` it was built with: the projector takes the same instance, so appends, reads and
 * projections use one catalogue of versions and upcasters. The root imports
 * `EventStoreModule.forRoot({ catalogue })` once, which only sets the options; the modules that append or
 * read import `EventStoreModule`, and all share its one store (and the store's commit notifier).
 */
@Module({
  imports: [PlatformModule],
  providers: [
    {
      provide: EventSchemas,
      inject: [EVENT_STORE_OPTIONS],
      useFactory: (options: EventStoreOptions) => new EventSchemas(options.catalogue),
    },
    {
      provide: EventStore,
      inject: [getDataSourceToken(), EventSchemas, LedgerMetrics],
      useFactory: (dataSource: DataSource, schemas: EventSchemas, metrics: LedgerMetrics) =>
        new EventStore(dataSource, schemas, metrics),
    },
  ],
  exports: [EventSchemas, EventStore],
})
export class EventStoreModule {
  static forRoot(options: EventStoreOptions): DynamicModule {
    return EventStoreOptionsHost.of(options);
  }
}
