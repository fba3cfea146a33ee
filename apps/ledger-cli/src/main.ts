import 'reflect-metadata';
import {
  ConfigError,
  LedgerLogger,
  loadDatabaseConfig,
  openDatabase,
  pendingMigrations,
  runMigrations,
} from '@ledger/platform';
import { CLI_MIGRATIONS } from './cli-migrations';
import { IMPORT_LOG_USAGE, importLog } from './import-log.command';
import { IMPORT_ORDERS_USAGE, importOrders } from './import-orders.command';
import {
  osOperator,
  parsePurgeOptions,
  PURGE_USAGE,
  purgeUnverified,
  type PurgeOptions,
} from './purge-unverified.command';
import { parseReconcileOptions, reconcile, RECONCILE_USAGE } from './reconcile.command';

// Exit codes (coded errors mapped at each edge; sysexits.h values).
const EXIT = { ok: 0, failure: 1, usage: 64, config: 78 } as const;

const USAGE = `usage: ledger <command> (npx ledger, or npm run cli --)

commands:
  migrate          apply the pending migrations to the configured database
  migrate:status   list the pending migrations (exit code 1 when some are pending)
${PURGE_USAGE}${RECONCILE_USAGE}${IMPORT_LOG_USAGE}${IMPORT_ORDERS_USAGE}`;

const COMMANDS = ['migrate', 'migrate:status', 'purge-unverified', 'reconcile'] as const;

function isCommand(name: string | undefined): name is (typeof COMMANDS)[number] {
  return (COMMANDS as readonly (string | undefined)[]).includes(name);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === 'reconcile') {
    const options = parseReconcileOptions(args);
    if (!options.ok) {
      process.stderr.write(`${options.message}\n${USAGE}`);
      return EXIT.usage;
    }
    return reconcile(options);
  }
  if (command === 'import-log') return importLog(args);
  if (command === 'import-orders') return importOrders(args);
  if (!isCommand(command) || (command !== 'purge-unverified' && args.length > 0)) {
    process.stderr.write(USAGE);
    return EXIT.usage;
  }
  const purge: PurgeOptions =
    command === 'purge-unverified' ? parsePurgeOptions(args) : { ok: true, dryRun: false };
  if (!purge.ok) {
    process.stderr.write(`${purge.message}\n${USAGE}`);
    return EXIT.usage;
  }

  // Migrations need the database alone: no mode, no Alipay credentials (README, Configuration).
  const config = loadDatabaseConfig();
  const logger = new LedgerLogger(config.logLevel);
  const database = await openDatabase({
    databaseUrl: config.database.url,
    dataDir: config.database.dataDir,
    poolSize: 2,
    statementTimeoutMs: config.database.statementTimeoutMs,
    lockTimeoutMs: config.database.lockTimeoutMs,
    acquireTimeoutMs: config.database.acquireTimeoutMs,
    applicationName: 'ledger-cli',
    logger,
  });
  try {
    if (command === 'purge-unverified') {
      const pending = await pendingMigrations(database.dataSource, CLI_MIGRATIONS);
      if (pending.length > 0) {
        // Before migration 1732000000009 the inbox refuses every DELETE: run `migrate` first.
        process.stderr.write(`pending migrations (${pending.join(', ')}): run ledger-cli migrate first\n`);
        return EXIT.failure;
      }
      await purgeUnverified(database.dataSource, logger, {
        olderThanDays: purge.olderThanDays ?? config.inbox.unverifiedRetentionDays,
        dryRun: purge.dryRun,
        operator: purge.operator ?? osOperator(),
      });
      return EXIT.ok;
    }
    if (command === 'migrate:status') {
      const pending = await pendingMigrations(database.dataSource, CLI_MIGRATIONS);
      process.stdout.write(pending.length ? `pending: ${pending.join(', ')}\n` : 'no pending migrations\n');
      return pending.length ? EXIT.failure : EXIT.ok;
    }
    const applied = await runMigrations(database.dataSource, CLI_MIGRATIONS, logger);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'no pending migrations\n');
    return EXIT.ok;
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(EXIT.config);
    }
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(EXIT.failure);
  },
);
