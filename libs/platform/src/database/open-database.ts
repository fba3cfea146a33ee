import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { DataSource, type Logger as TypeOrmLogger } from 'typeorm';
import type { PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions';
import { lockDataDir } from './data-dir-lock';
import { EmbeddedPostgresServer } from './embedded-postgres-server';
import { PGliteWorker } from './pglite-worker';
import { PreparingClient } from './preparing-client';

export type DatabaseKind = 'postgres' | 'embedded';

export type DatabaseLogger = Pick<LoggerService, 'log' | 'warn'>;

export interface OpenDatabaseOptions {
  /** PostgreSQL connection string (`DATABASE_URL`); unset opens the embedded database in `dataDir`. */
  databaseUrl?: string;
  /** Where the embedded database lives (`DATA_DIR`), created if missing; unused with `databaseUrl`. */
  dataDir: string;
  /** Connections in the pool: 10 on PostgreSQL, 4 embedded (PGlite runs one transaction at a time). */
  poolSize?: number;
  /**
   * How long a session may sit idle inside a transaction before the server ends it (default 60 s; 0 never).
   * It bounds how long one stuck transaction can hold back the consumers, which read only below the oldest
   * running transaction.
   */
  idleInTransactionTimeoutMs?: number;
  /**
   * The longest a statement may run before PostgreSQL cancels it (57014); default 30 s, 0 never. Sessions
   * that legitimately run longer (migrations) lift it for themselves (docs/operations.md, "Liveness under
   * faults").
   */
  statementTimeoutMs?: number;
  /** The longest a statement waits for a lock before PostgreSQL cancels it (55P03); default 10 s, 0 never. */
  lockTimeoutMs?: number;
  /**
   * The longest a caller waits for a pooled connection, busy pool or new connection alike; default 5 s.
   * Past it the caller gets an error the HTTP edge answers with 503 and `Retry-After`.
   */
  acquireTimeoutMs?: number;
  /**
   * Prepare the statements a connection runs repeatedly (`PreparingClient`); default true on PostgreSQL.
   * Off behind a pooler in transaction mode (PgBouncer), which hands a session's statements to other server
   * connections, and always on the embedded database, whose connections share PGlite's one session.
   */
  preparedStatements?: boolean;
  /** Shown in `pg_stat_activity` (PostgreSQL). */
  applicationName?: string;
  logger?: DatabaseLogger;
}

/** An open database: PostgreSQL, or PGlite behind a local socket; the same driver, SQL and migrations. */
export interface LedgerDatabase {
  /**
   * Initialized; migrations are applied by `runMigrations` with the application's list, never on connect,
   * and nothing is synchronized.
   */
  readonly dataSource: DataSource;
  readonly kind: DatabaseKind;
  /** Closes the pool, then (embedded) the socket server and PGlite, and releases the data directory. */
  close(): Promise<void>;
}

const DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;
const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
const DEFAULT_ACQUIRE_TIMEOUT_MS = 5_000;
/**
 * TCP keepalive, both ends: a peer that vanished without closing (a frozen VM, a cut link) is found within
 * about a minute instead of the OS default of two hours, and the server ends its session, which frees its
 * advisory locks (the projector's). Client side Node sets only the idle delay; the probes' interval and
 * count are the operating system's (Linux: 75 s, 9), so a dead server is found later than a dead client.
 */
const KEEPALIVE_IDLE_S = 30;
const KEEPALIVE_INTERVAL_S = 10;
const KEEPALIVE_COUNT = 3;
const DEFAULT_APPLICATION_NAME = 'alipay-ledger';
/** Room for the pool plus dedicated connections (a LISTEN client, tools); beyond it a leak is refused. */
const EMBEDDED_MAX_CONNECTIONS = 32;

/**
 * Opens the database docs/product-rules.md, "Configuration" describes: PostgreSQL when `databaseUrl` is set,
 * else PGlite in `dataDir`.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<LedgerDatabase> {
  return options.databaseUrl === undefined || options.databaseUrl === ''
    ? openEmbedded(options)
    : openPostgres(options.databaseUrl, options);
}

async function openPostgres(databaseUrl: string, options: OpenDatabaseOptions): Promise<LedgerDatabase> {
  const dataSource = new DataSource({
    ...commonOptions(options),
    url: withSessionSettings(databaseUrl, sessionSettings(options)),
    ...(options.preparedStatements === false
      ? {}
      : { extra: { ...extraOf(options), Client: PreparingClient } }),
    poolSize: options.poolSize ?? 10,
    applicationName: options.applicationName ?? DEFAULT_APPLICATION_NAME,
  });
  try {
    await dataSource.initialize();
  } catch (error) {
    throw new Error(`could not connect to PostgreSQL at ${redacted(databaseUrl)}: ${describe(error)}`, {
      cause: error,
    });
  }
  options.logger?.log(`connected to PostgreSQL at ${redacted(databaseUrl)}`, 'Database');
  return {
    dataSource,
    kind: 'postgres',
    // Nest's TypeOrmModule may have destroyed it already when the application closed.
    close: once(async () => (dataSource.isInitialized ? dataSource.destroy() : undefined)),
  };
}

async function openEmbedded(options: OpenDatabaseOptions): Promise<LedgerDatabase> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const undo: Array<() => unknown> = [];
  try {
    const lock = lockDataDir(dataDir);
    undo.push(() => lock.release());
    const pglite = await PGliteWorker.start(join(dataDir, 'pglite'));
    undo.push(() => pglite.close());
    const server = await EmbeddedPostgresServer.start(pglite, {
      host: '127.0.0.1',
      maxConnections: EMBEDDED_MAX_CONNECTIONS,
      idleInTransactionTimeoutMs:
        options.idleInTransactionTimeoutMs ?? DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      onWarning: (message) => void options.logger?.warn(message, 'Database'),
    });
    undo.push(() => server.stop());
    const dataSource = new DataSource({
      ...commonOptions(options),
      host: server.host,
      port: server.port,
      username: 'postgres',
      database: 'postgres',
      poolSize: options.poolSize ?? 4,
    });
    await dataSource.initialize();
    // Nest's TypeOrmModule may have destroyed it already when the application closed.
    undo.push(() => (dataSource.isInitialized ? dataSource.destroy() : undefined));
    options.logger?.log(`opened the embedded database in ${dataDir}`, 'Database');
    return { dataSource, kind: 'embedded', close: once(() => unwind(undo)) };
  } catch (error) {
    await unwind(undo);
    throw error;
  }
}

function commonOptions(options: OpenDatabaseOptions) {
  return {
    type: 'postgres',
    synchronize: false,
    migrationsRun: false,
    entities: [],
    logging: false,
    logger: typeOrmLogger(options.logger),
    extra: extraOf(options),
  } satisfies Partial<PostgresDataSourceOptions>;
}

/**
 * TypeORM prints a failed migration with console.log whatever `logging` says, a plain line among the JSON
 * logs: it goes to the ledger's logger instead (the error itself reaches whoever ran the migrations).
 * Everything else stays off, as `logging: false` has it.
 */
function typeOrmLogger(logger: DatabaseLogger | undefined): TypeOrmLogger {
  const off = () => undefined;
  return {
    logQuery: off,
    logQueryError: off,
    logQuerySlow: off,
    logSchemaBuild: off,
    log: off,
    logMigration: (message) => void logger?.warn(message, 'Migrations'),
  };
}

/** Handed to pg's Pool: its connection timeout bounds the wait for a busy pool as well as a new connection. */
function extraOf(options: OpenDatabaseOptions) {
  return {
    connectionTimeoutMillis: options.acquireTimeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_IDLE_S * 1000,
  };
}

/**
 * The settings of every PostgreSQL session of the ledger. (The embedded database has one shared session and
 * no timers inside PGlite: there the idle-in-transaction limit is the socket server's, and the others do not
 * apply; docs/operations.md, "Liveness under faults".)
 */
function sessionSettings(options: OpenDatabaseOptions): Record<string, string> {
  return {
    statement_timeout: String(options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS),
    lock_timeout: String(options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS),
    idle_in_transaction_session_timeout: String(
      options.idleInTransactionTimeoutMs ?? DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    ),
    tcp_keepalives_idle: String(KEEPALIVE_IDLE_S),
    tcp_keepalives_interval: String(KEEPALIVE_INTERVAL_S),
    tcp_keepalives_count: String(KEEPALIVE_COUNT),
  };
}

/**
 * Adds `-c name=value` settings to the connection's startup `options`, so they hold on every pooled session
 * from its first statement. Settings already in the URL's own `options` come after ours and win.
 */
function withSessionSettings(databaseUrl: string, settings: Record<string, string>): string {
  const url = new URL(databaseUrl);
  const ours = Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`);
  const theirs = url.searchParams.get('options');
  url.searchParams.set('options', [...ours, ...(theirs === null ? [] : [theirs])].join(' '));
  return url.toString();
}

/** Undoes in reverse order, every step even if one fails; the first failure is rethrown. */
async function unwind(undo: Array<() => unknown>): Promise<void> {
  let failure: unknown;
  for (const step of undo.reverse()) {
    try {
      await step();
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(describe(failure));
}

function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

function redacted(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
