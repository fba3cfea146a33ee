import { type DynamicModule, Global, Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { EventStore } from './event-store';
import type { EventUpcaster } from './upcasting';

/** Provides one `EventStore` over the application's data source (PlatformModule's TypeORM connection). */
@Global()
@Module({})
export class EventStoreModule {
  static forRoot(options: { upcasters?: readonly EventUpcaster[] } = {}): DynamicModule {
    return {
      module: EventStoreModule,
      providers: [
        {
          provide: EventStore,
          inject: [getDataSourceToken()],
          useFactory: (dataSource: DataSource) =>
            new EventStore(dataSource, { upcasters: options.upcasters }),
        },
      ],
      exports: [EventStore],
    };
  }
}
