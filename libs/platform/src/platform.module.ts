import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LedgerConfig } from './config/ledger-config';
import type { LedgerDatabase } from './database';
import { LedgerLogger } from './logging/ledger-logger';
import { LedgerMetrics } from './metrics/ledger-metrics';
import { ForegroundWork } from './workers/foreground-work';

/** Injection token of the opened database (PostgreSQL or embedded), for code that needs more than the DataSource. */
export const LEDGER_DATABASE = Symbol('LEDGER_DATABASE');

/** What the application opened before Nest started: the validated config, the logger, the database. */
export interface PlatformRuntime {
  config: LedgerConfig;
  database: LedgerDatabase;
  logger: LedgerLogger;
}

// Private to this file: only PlatformModule's providers read it.
const PLATFORM_RUNTIME = Symbol('PLATFORM_RUNTIME');

/**
 * Holds the runtime that `PlatformModule.forRoot` received, so that a plain `imports: [PlatformModule]`
 * anywhere reaches it without the root's arguments (Nest's config and TypeORM modules work the same way).
 * Global, but its only token is private: a module still gets the config, the logger or the database only
 * by importing PlatformModule. TypeORM's own module (the DataSource, closed when Nest shuts down) is
 * registered here, once.
 */
@Module({})
class PlatformRuntimeHost {
  static of(runtime: PlatformRuntime): DynamicModule {
    return {
      module: PlatformRuntimeHost,
      global: true,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => runtime.database.dataSource.options,
          dataSourceFactory: () => Promise.resolve(runtime.database.dataSource),
        }),
      ],
      providers: [{ provide: PLATFORM_RUNTIME, useValue: runtime }],
      exports: [PLATFORM_RUNTIME],
    };
  }
}

/**
 * The validated config, the logger and the database, opened and migrated before Nest starts (a migration
 * failure stops the start before any route answers). The app closes the database after Nest has shut down.
 * The root imports `PlatformModule.forRoot(runtime)` once, which only hands over the runtime; every module
 * whose providers inject `LedgerConfig`, `LedgerLogger`, `LEDGER_DATABASE`, the DataSource,
 * `LedgerMetrics` or `ForegroundWork` (one each per application: where things happen, they count on them)
 * imports `PlatformModule`, the root included.
 */
@Module({
  providers: [
    LedgerMetrics,
    { provide: ForegroundWork, useFactory: () => new ForegroundWork() },
    { provide: LedgerConfig, inject: [PLATFORM_RUNTIME], useFactory: (r: PlatformRuntime) => r.config },
    { provide: LedgerLogger, inject: [PLATFORM_RUNTIME], useFactory: (r: PlatformRuntime) => r.logger },
    { provide: LEDGER_DATABASE, inject: [PLATFORM_RUNTIME], useFactory: (r: PlatformRuntime) => r.database },
  ],
  exports: [LedgerConfig, LedgerLogger, LEDGER_DATABASE, LedgerMetrics, ForegroundWork],
})
export class PlatformModule {
  static forRoot(runtime: PlatformRuntime): DynamicModule {
    return PlatformRuntimeHost.of(runtime);
  }
}
