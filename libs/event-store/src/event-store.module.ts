import { type DynamicModule, Global, Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { EventSchemas, type EventCatalogue } from './event-schemas';
import { EventStore } from './event-store';

/**
 * Provides one `EventStore` over the application's data source (PlatformModule's TypeORM connection), and
 * the `EventSchemas` it was built with: the projector takes the same instance, so appends, reads and
 * projections use one catalogue of versions and upcasters.
 */
@Global()
@Module({})
export class EventStoreModule {
  static forRoot(options: { catalogue: EventCatalogue }): DynamicModule {
    return {
      module: EventStoreModule,
      providers: [
        { provide: EventSchemas, useFactory: () => new EventSchemas(options.catalogue) },
        {
          provide: EventStore,
          inject: [getDataSourceToken(), EventSchemas],
          useFactory: (dataSource: DataSource, schemas: EventSchemas) => new EventStore(dataSource, schemas),
        },
      ],
      exports: [EventSchemas, EventStore],
    };
  }
}
