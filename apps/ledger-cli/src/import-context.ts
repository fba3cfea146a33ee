import { NestFactory } from '@nestjs/core';
import { Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { LEDGER_EVENT_CATALOGUE } from '@ledger/domain';
import { EventStoreModule } from '@ledger/event-store';
import { LegacyImportModule } from '@ledger/legacy-import';
import {
  LedgerLogger,
  loadConfig,
  openDatabase,
  pendingMigrations,
  PlatformModule,
  type LedgerDatabase,
} from '@ledger/platform';
import { CLI_MIGRATIONS } from './cli-migrations';

/** Notifications of different orders imported side by side (`LogImporter.importFiles`). */
export const IMPORT_LANES = 4;

@Module({})
class ImportRootModule {
  static of(runtime: Parameters<typeof PlatformModule.forRoot>[0]): DynamicModule {
    return {
      module: ImportRootModule,
      imports: [
        PlatformModule.forRoot(runtime),
        EventStoreModule.forRoot({ catalogue: LEDGER_EVENT_CATALOGUE }),
        LegacyImportModule,
      ],
    };
  }
}

/** What an import command runs in: the ledger's full configuration (the Alipay keys verify), its database. */
export interface ImportContext {
  app: INestApplicationContext;
  close(): Promise<void>;
}

/**
 * Loads the configuration as the ledger does (a bad one throws `ConfigError`: exit 78), opens the database
 * and boots the import module. Undefined, with the reason written, when migrations are pending.
 */
export async function openImportContext(): Promise<ImportContext | undefined> {
  const config = loadConfig();
  const logger = new LedgerLogger(config.logLevel);
  const database: LedgerDatabase = await openDatabase({
    databaseUrl: config.database.url,
    dataDir: config.database.dataDir,
    // One connection per lane of import-log, and one to spare.
    poolSize: IMPORT_LANES + 1,
    statementTimeoutMs: config.database.statementTimeoutMs,
    lockTimeoutMs: config.database.lockTimeoutMs,
    acquireTimeoutMs: config.database.acquireTimeoutMs,
    preparedStatements: config.database.preparedStatements,
    applicationName: 'ledger-cli',
    logger,
  });
  const pending = await pendingMigrations(database.dataSource, CLI_MIGRATIONS);
  if (pending.length > 0) {
    await database.close();
    process.stderr.write(`pending migrations (${pending.join(', ')}): run ledger-cli migrate first\n`);
    return undefined;
  }
  const app = await NestFactory.createApplicationContext(ImportRootModule.of({ config, database, logger }), {
    logger,
    abortOnError: false,
  });
  return {
    app,
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}
