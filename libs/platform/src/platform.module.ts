import { type DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LedgerConfig } from './config/ledger-config';
import type { LedgerDatabase } from './database';
import { LedgerLogger } from './logging/ledger-logger';

/** Injection token of the opened database (PostgreSQL or embedded), for code that needs more than the DataSource. */
export const LEDGER_DATABASE = Symbol('LEDGER_DATABASE');

/**
 * The validated config, the logger and the database, opened and migrated before Nest starts (a migration
 * failure stops the start before any route answers). The app closes the database after Nest has shut down.
 */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(runtime: {
    config: LedgerConfig;
    database: LedgerDatabase;
    logger: LedgerLogger;
  }): DynamicModule {
    const { config, database, logger } = runtime;
    return {
      module: PlatformModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => database.dataSource.options,
          dataSourceFactory: () => Promise.resolve(database.dataSource),
        }),
      ],
      providers: [
        { provide: LedgerConfig, useValue: config },
        { provide: LedgerLogger, useValue: logger },
        { provide: LEDGER_DATABASE, useValue: database },
      ],
      exports: [LedgerConfig, LedgerLogger, LEDGER_DATABASE, TypeOrmModule],
    };
  }
}
