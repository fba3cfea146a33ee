import { type DynamicModule, Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { PlatformModule } from '@ledger/platform';
import { EventStore } from './event-store';
import type { EventUpcaster } from './upcasting';

interface EventStoreOptions {
  upcasters?: readonly EventUpcaster[];
}

// Private to this file: only EventStoreModule's provider reads it.
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
 * Provides one `EventStore` over the application's data source (PlatformModule's TypeORM connection). The
 * root imports `EventStoreModule.forRoot(options)` once, which only sets the options; the modules that append
 * or read import `EventStoreModule`, and all share its one store (and the store's commit notifier).
 */
@Module({
  imports: [PlatformModule],
  providers: [
    {
      provide: EventStore,
      inject: [getDataSourceToken(), EVENT_STORE_OPTIONS],
      useFactory: (dataSource: DataSource, options: EventStoreOptions) =>
        new EventStore(dataSource, { upcasters: options.upcasters }),
    },
  ],
  exports: [EventStore],
})
export class EventStoreModule {
  static forRoot(options: EventStoreOptions = {}): DynamicModule {
    return EventStoreOptionsHost.of(options);
  }
}
