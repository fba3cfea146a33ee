import 'reflect-metadata';
import {
  ConfigError,
  LedgerLogger,
  loadConfig,
  openDatabase,
  pendingMigrations,
  runMigrations,
} from '@ledger/platform';

// Exit codes (STYLE habit 7: coded errors mapped at each edge; sysexits.h values).
const EXIT = { ok: 0, failure: 1, usage: 64, config: 78 } as const;

const USAGE = `usage: ledger-cli <command>

commands:
  migrate          apply the pending migrations to the configured database
  migrate:status   list the pending migrations (exit code 1 when some are pending)
`;

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (command !== 'migrate' && command !== 'migrate:status') {
    process.stderr.write(USAGE);
    return EXIT.usage;
  }

  const config = loadConfig();
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
    if (command === 'migrate:status') {
      const pending = await pendingMigrations(database.dataSource);
      process.stdout.write(pending.length ? `pending: ${pending.join(', ')}\n` : 'no pending migrations\n');
      return pending.length ? EXIT.failure : EXIT.ok;
    }
    const applied = await runMigrations(database.dataSource, logger);
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
