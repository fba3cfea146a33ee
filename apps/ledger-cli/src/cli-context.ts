import {
  type DynamicModule,
  type INestApplicationContext,
  Module,
  type ModuleMetadata,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LEDGER_EVENT_CATALOGUE } from '@ledger/domain';
import { EventStoreModule } from '@ledger/event-store';
import {
  type DatabaseToolConfig,
  LedgerConfig,
  type LedgerDatabase,
  LedgerLogger,
  loadConfig,
  loadDatabaseConfig,
  openDatabase,
  pendingMigrations,
  PlatformModule,
} from '@ledger/platform';
import { ProjectionsModule } from '@ledger/projections';
import { CLI_MIGRATIONS } from './cli-migrations';
import { CliError } from './cli-exit';

/** How much a command logs on stderr: warnings and errors, or with `--verbose` what `LOG_LEVEL` says. */
export interface Verbosity {
  verbose: boolean;
}

function loggerFor(config: Pick<LedgerConfig, 'logLevel'>, { verbose }: Verbosity): LedgerLogger {
  // stdout carries the command's result (a JSON document, an export): logs go to stderr.
  return new LedgerLogger(verbose ? config.logLevel : 'warn', process.stderr);
}

/**
 * Opens the configured database (docs/operations.md, "The CLI"): anything that stops it, a server that
 * does not answer or an embedded directory a running ledger holds, is `DATABASE_UNAVAILABLE` (exit 69).
 */
async function openFor(
  config: DatabaseToolConfig,
  logger: LedgerLogger,
  poolSize: number,
): Promise<LedgerDatabase> {
  try {
    return await openDatabase({
      databaseUrl: config.database.url,
      dataDir: config.database.dataDir,
      poolSize,
      statementTimeoutMs: config.database.statementTimeoutMs,
      lockTimeoutMs: config.database.lockTimeoutMs,
      acquireTimeoutMs: config.database.acquireTimeoutMs,
      preparedStatements: config.database.preparedStatements,
      applicationName: 'ledger-cli',
      logger,
    });
  } catch (error) {
    throw new CliError('DATABASE_UNAVAILABLE', error instanceof Error ? error.message : String(error));
  }
}

/** Refuses a schema behind the code: `PENDING_MIGRATIONS` (exit 78), naming them. */
export async function refusePendingMigrations(database: LedgerDatabase): Promise<void> {
  const pending = await pendingMigrations(database.dataSource, CLI_MIGRATIONS);
  if (pending.length > 0) {
    throw new CliError(
      'PENDING_MIGRATIONS',
      `pending migrations (${pending.join(', ')}): run \`ledger migrate\` first`,
    );
  }
}

/** The database alone, for what needs no more than its settings (`migrate`, `purge-unverified`). */
export async function withDatabase<T>(
  verbosity: Verbosity,
  work: (database: LedgerDatabase, config: DatabaseToolConfig, logger: LedgerLogger) => Promise<T>,
): Promise<T> {
  // Migrations need the database alone: no mode, no Alipay credentials (README, "Configuration").
  const config = loadDatabaseConfig();
  const logger = loggerFor(config, verbosity);
  const database = await openFor(config, logger, 2);
  try {
    return await work(database, config, logger);
  } finally {
    await database.close();
  }
}

/** What a command that needs the ledger's modules asks for. */
export interface LedgerContextOptions extends Verbosity {
  /** The lib modules whose providers the command uses. */
  imports: NonNullable<ModuleMetadata['imports']>;
  /** Connections in the pool; default 4. */
  poolSize?: number;
  /** Adjusts the loaded configuration (a tool turns off the ledger's own workers). */
  configure?: (config: LedgerConfig) => LedgerConfig;
}

@Module({})
class CliRootModule {
  static of(
    runtime: Parameters<typeof PlatformModule.forRoot>[0],
    imports: NonNullable<ModuleMetadata['imports']>,
  ): DynamicModule {
    return {
      module: CliRootModule,
      imports: [
        PlatformModule.forRoot(runtime),
        EventStoreModule.forRoot({ catalogue: LEDGER_EVENT_CATALOGUE }),
        // The ledger's instances consume the event store; a command reads, rebuilds and verifies.
        ProjectionsModule.forRoot({ consume: false }),
        ...imports,
      ],
    };
  }
}

/**
 * The one way a command reaches the ledger's modules: the configuration loaded as the ledger loads it (a
 * bad one throws `ConfigError`: exit 78), the database opened (exit 69 when it cannot be) and refused with
 * pending migrations (exit 78), a Nest application context of `imports`; closed, context then database,
 * whatever `work` does.
 */
export async function withLedgerContext<T>(
  options: LedgerContextOptions,
  work: (app: INestApplicationContext, config: LedgerConfig) => Promise<T>,
): Promise<T> {
  const loaded = loadConfig();
  const config = options.configure === undefined ? loaded : options.configure(loaded);
  const logger = loggerFor(config, options);
  const database = await openFor(config, logger, options.poolSize ?? 4);
  try {
    await refusePendingMigrations(database);
    const app = await NestFactory.createApplicationContext(
      CliRootModule.of({ config, database, logger }, options.imports),
      { logger, abortOnError: false },
    );
    try {
      return await work(app, config);
    } finally {
      await app.close();
    }
  } finally {
    await database.close();
  }
}
