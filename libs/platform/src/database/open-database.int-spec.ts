import {
  createTestDatabase,
  describeOnPostgres,
  TEST_MIGRATIONS,
  testDatabaseKind,
  type TestDatabase,
} from '@ledger/testing';
import { pendingMigrations, runMigrations } from '../migrations';
import { type LedgerDatabase, type OpenDatabaseOptions, openDatabase } from './open-database';

jest.setTimeout(180_000);

describe('openDatabase', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('open');
  });

  afterAll(async () => {
    await database?.close();
  });

  it('opens the configured kind, migrated and answering, with no schema synchronized from entities', async () => {
    expect(database.kind).toBe(testDatabaseKind());
    expect(await database.dataSource.query('SELECT 1 + 1 AS two')).toEqual([{ two: 2 }]);
    expect(await pendingMigrations(database.dataSource, TEST_MIGRATIONS)).toEqual([]);
    expect(database.dataSource.options).toMatchObject({
      synchronize: false,
      migrationsRun: false,
      entities: [],
    });
  });
});

describeOnPostgres('openDatabase on PostgreSQL', () => {
  let database: TestDatabase;
  const opened: LedgerDatabase[] = [];

  async function open(options: Partial<OpenDatabaseOptions> = {}): Promise<LedgerDatabase> {
    const ledger = await openDatabase({ databaseUrl: database.url, dataDir: '', ...options });
    opened.push(ledger);
    return ledger;
  }

  /** Runs `sql` on `count` distinct pooled connections at once (each holds its connection meanwhile). */
  async function onEveryConnection(ledger: LedgerDatabase, count: number, sql: string) {
    const runners = Array.from({ length: count }, () => ledger.dataSource.createQueryRunner());
    try {
      await Promise.all(runners.map((runner) => runner.connect()));
      return await Promise.all(runners.map(async (runner) => (await runner.query(sql)) as Array<object>));
    } finally {
      await Promise.all(runners.map((runner) => runner.release()));
    }
  }

  beforeAll(async () => {
    database = await createTestDatabase('open_pg');
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((ledger) => ledger.close()));
  });

  afterAll(async () => {
    await database?.close();
  });

  it('sets the idle-in-transaction timeout and the application name on every pooled session', async () => {
    const ledger = await open({
      poolSize: 3,
      idleInTransactionTimeoutMs: 1234,
      applicationName: 'ledger-probe',
    });
    expect(ledger.kind).toBe('postgres');
    const rows = await onEveryConnection(
      ledger,
      3,
      `SELECT pg_backend_pid() AS pid, current_setting('idle_in_transaction_session_timeout') AS timeout,
              current_setting('application_name') AS name`,
    );
    const sessions = rows.map(([row]) => row as { pid: number; timeout: string; name: string });
    expect(new Set(sessions.map((session) => session.pid)).size).toBe(3);
    for (const session of sessions)
      expect(session).toMatchObject({ timeout: '1234ms', name: 'ledger-probe' });
  });

  it('bounds idle transactions to one minute by default', async () => {
    const ledger = await open();
    expect(await ledger.dataSource.query('SHOW idle_in_transaction_session_timeout')).toEqual([
      { idle_in_transaction_session_timeout: '1min' },
    ]);
  });

  it('bounds statements, lock waits and dead peers on every pooled session', async () => {
    const ledger = await open({ poolSize: 2, statementTimeoutMs: 750, lockTimeoutMs: 250 });
    const rows = await onEveryConnection(
      ledger,
      2,
      `SELECT current_setting('statement_timeout') AS statement, current_setting('lock_timeout') AS lock,
              current_setting('tcp_keepalives_idle') AS idle, current_setting('tcp_keepalives_interval') AS every,
              current_setting('tcp_keepalives_count') AS count`,
    );
    for (const [row] of rows) {
      expect(row).toEqual({ statement: '750ms', lock: '250ms', idle: '30', every: '10', count: '3' });
    }
    await expect(ledger.dataSource.query('SELECT pg_sleep(5)')).rejects.toMatchObject({ code: '57014' });
  });

  it('cancels a lock wait past the lock timeout', async () => {
    const ledger = await open({ lockTimeoutMs: 200 });
    await ledger.dataSource.query('CREATE TABLE IF NOT EXISTS lock_probe (id integer PRIMARY KEY)');
    const holder = ledger.dataSource.createQueryRunner();
    await holder.startTransaction();
    try {
      await holder.query('LOCK TABLE lock_probe IN ACCESS EXCLUSIVE MODE');
      await expect(ledger.dataSource.query('SELECT * FROM lock_probe')).rejects.toMatchObject({
        code: '55P03',
      });
    } finally {
      await holder.rollbackTransaction();
      await holder.release();
    }
  });

  it('fails a caller that waits for a busy pool longer than the acquire timeout', async () => {
    const ledger = await open({ poolSize: 2, acquireTimeoutMs: 300 });
    const held = [ledger.dataSource.createQueryRunner(), ledger.dataSource.createQueryRunner()];
    await Promise.all(held.map((runner) => runner.connect()));
    try {
      const started = Date.now();
      await expect(ledger.dataSource.query('SELECT 1')).rejects.toThrow(
        'timeout exceeded when trying to connect',
      );
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await Promise.all(held.map((runner) => runner.release()));
    }
    expect(await ledger.dataSource.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('runs migrations with no statement timeout, and gives the session its settings back', async () => {
    const ledger = await open({ poolSize: 1, statementTimeoutMs: 500 });
    await runMigrations(ledger.dataSource, TEST_MIGRATIONS);
    expect(await ledger.dataSource.query('SHOW statement_timeout')).toEqual([{ statement_timeout: '500ms' }]);
  });

  it('keeps the settings of the connection string’s own options', async () => {
    const url = new URL(database.url!);
    url.searchParams.set('options', '-c statement_timeout=4321');
    const ledger = await open({ databaseUrl: url.toString(), idleInTransactionTimeoutMs: 2000 });
    const [settings] = await ledger.dataSource.query(
      `SELECT current_setting('statement_timeout') AS statement, current_setting('idle_in_transaction_session_timeout') AS idle`,
    );
    expect(settings).toEqual({ statement: '4321ms', idle: '2s' });
  });

  it('has a transaction left idle ended by the server, undone, and the pool unharmed', async () => {
    const ledger = await open({ idleInTransactionTimeoutMs: 300, applicationName: 'ledger-idle-probe' });
    await ledger.dataSource.query('CREATE TABLE IF NOT EXISTS idle_probe (id integer)');
    const stuck = ledger.dataSource.createQueryRunner();
    await stuck.startTransaction();
    await stuck.query('INSERT INTO idle_probe VALUES (1)');
    // Wait until the server has ended the session (it disappears from pg_stat_activity).
    for (;;) {
      const [{ n }] = await database.dataSource.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'ledger-idle-probe'
           AND state = 'idle in transaction'`,
      );
      if (n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await expect(stuck.query('SELECT 1')).rejects.toThrow();
    await stuck.release().catch(() => undefined);
    expect(await ledger.dataSource.query('SELECT count(*)::int AS n FROM idle_probe')).toEqual([{ n: 0 }]);
  });

  it('names the server it could not reach, never the password', async () => {
    const failure = openDatabase({
      databaseUrl: 'postgres://ledger:s3cret@127.0.0.1:1/nowhere',
      dataDir: '',
    });
    await expect(failure).rejects.toThrow('could not connect to PostgreSQL at 127.0.0.1:1/nowhere');
    await expect(failure).rejects.not.toThrow('s3cret');
  });
});
