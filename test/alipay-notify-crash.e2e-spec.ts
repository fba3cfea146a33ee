import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LEDGER_EVENT_CATALOGUE } from '@ledger/domain';
import { EventSchemas, EventStore } from '@ledger/event-store';
import { PostgresStreamSession, decideOnStream, orderStream, type PlaceOrderCommand } from '@ledger/commands';
import { InboxRecovery, InboxStore } from '@ledger/inbox';
import { LedgerLogger, openDatabase, runMigrations, type LedgerDatabase } from '@ledger/platform';
import {
  freePort,
  createTestDatabase,
  newTradeNo,
  postNotification,
  startFakeAlipayGateway,
  testDatabaseKind,
  type FakeAlipayGateway,
  type SignedNotification,
  type TestDatabase,
  TEST_MIGRATIONS,
} from '@ledger/testing';
import { ADMIN_TOKEN, placeOrder, tradeNotification } from './alipay-notify.fixture';

// Nothing acknowledged is ever lost. The ledger runs as a child process on a test database;
// signed notifications are fired at it concurrently; it is killed with SIGKILL in the middle of the load;
// restarted; Alipay's retry then resends (same notify_id) every notification that did not get `success`.
// Every acknowledged notification must be applied exactly once, and every other one completed by its retry.

const ROOT = join(__dirname, '..');
const ORDERS = 160;
const CONCURRENCY = 16;
/** The kill comes once this many notifications were acknowledged: mid-load, decided by progress. */
const KILL_AFTER_ACKNOWLEDGED = 50;
const MAX_RETRIES = 10;

interface Target {
  /** Where the child keeps its data: DATABASE_URL or DATA_DIR. */
  env: Record<string, string>;
  /** Opens the database in this process (not while an embedded child holds it). */
  open(): Promise<LedgerDatabase>;
  dispose(): Promise<void>;
}

async function prepareTarget(): Promise<Target> {
  if (testDatabaseKind() === 'postgres') {
    const database: TestDatabase = await createTestDatabase('alipay_crash');
    return {
      env: { DATABASE_URL: database.url! },
      open: () => openDatabase({ databaseUrl: database.url!, dataDir: tmpdir() }),
      dispose: () => database.close(),
    };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-crash-'));
  return {
    env: { DATA_DIR: dataDir },
    open: async () => {
      const database = await openDatabase({ dataDir });
      await runMigrations(database.dataSource, TEST_MIGRATIONS);
      return database;
    },
    dispose: () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })),
  };
}

class LedgerProcess {
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  private stderr = '';

  constructor(
    private readonly env: Record<string, string>,
    readonly baseUrl: string,
  ) {}

  async start(): Promise<void> {
    this.stderr = '';
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/ledger/src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...this.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    for (;;) {
      const up = await fetch(`${this.baseUrl}/health`).then(
        (response) => response.ok,
        () => false,
      );
      if (up) return;
      const gone = await Promise.race([this.exited, new Promise((r) => setTimeout(() => r('waiting'), 200))]);
      if (gone !== 'waiting')
        throw new Error(`the ledger exited with ${String(gone)} at start: ${this.stderr}`);
    }
  }

  /** SIGKILL: no shutdown hook runs, no buffer is flushed, in-flight requests are cut. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<number | null> {
    this.child?.kill('SIGTERM');
    return (await this.exited) ?? null;
  }
}

describe('the ledger killed with SIGKILL under load', () => {
  let gateway: FakeAlipayGateway;
  let target: Target;
  let ledger: LedgerProcess;

  beforeAll(async () => {
    gateway = await startFakeAlipayGateway();
    target = await prepareTarget();
    const port = await freePort();
    ledger = new LedgerProcess(
      {
        ...target.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        LEDGER_MODE: 'demo',
        ADMIN_TOKEN,
        ALIPAY_GATEWAY: gateway.url,
        LOG_LEVEL: 'error',
        FULFILMENT_WORKER: 'false',
      },
      `http://127.0.0.1:${port}`,
    );
  });

  afterAll(async () => {
    await ledger?.stop().catch(() => undefined);
    await target?.dispose();
    await gateway?.close();
  });

  it('loses nothing acknowledged, and Alipay’s retry completes the rest exactly once', async () => {
    const outTradeNos = Array.from({ length: ORDERS }, (_, i) => `CRASH-${String(i).padStart(4, '0')}`);
    const setup = await target.open();
    try {
      // The orders are placed before the ledger starts: straight through the command step.
      const session = new PostgresStreamSession(
        new EventStore(setup.dataSource, new EventSchemas(LEDGER_EVENT_CATALOGUE)),
      );
      const commands = {
        execute: ({ command }: PlaceOrderCommand) => decideOnStream(session, orderStream, command, {}),
      };
      for (const outTradeNo of outTradeNos) await placeOrder(commands, outTradeNo);
    } finally {
      await setup.close();
    }
    const notifications: SignedNotification[] = outTradeNos.map((outTradeNo) =>
      tradeNotification({
        outTradeNo,
        tradeNo: newTradeNo(),
        tradeStatus: 'TRADE_SUCCESS',
        totalFee: '12.34',
      }),
    );

    await ledger.start();
    const acknowledged = new Set<number>();
    let killing: Promise<void> | undefined;
    let next = 0;
    const url = `${ledger.baseUrl}/alipay/notify`;
    const worker = async () => {
      while (killing === undefined && next < notifications.length) {
        const index = next++;
        const reply = await postNotification(url, notifications[index]).catch(() => undefined);
        if (reply?.text === 'success') acknowledged.add(index);
        if (acknowledged.size >= KILL_AFTER_ACKNOWLEDGED) killing ??= ledger.kill();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await killing;
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKNOWLEDGED);
    expect(acknowledged.size).toBeLessThan(ORDERS);

    await ledger.start();
    // Alipay's retry of every notification that got no `success`, and, as happens, of some that did.
    const retried = notifications.map((_, index) => index).filter((index) => !acknowledged.has(index));
    const resentAcknowledged = [...acknowledged].slice(0, 10);
    for (const index of [...retried, ...resentAcknowledged]) {
      let reply: { text: string } | undefined;
      for (let attempt = 0; attempt < MAX_RETRIES && reply?.text !== 'success'; attempt++) {
        reply = await postNotification(url, notifications[index]).catch(() => undefined);
      }
      expect(reply?.text).toBe('success');
    }
    expect(await ledger.stop()).toBe(0);

    const check = await target.open();
    try {
      const store = new EventStore(check.dataSource, new EventSchemas(LEDGER_EVENT_CATALOGUE));
      for (const outTradeNo of outTradeNos) {
        const types = (await store.readStream(`order-${outTradeNo}`)).map((event) => event.type);
        expect({ outTradeNo, types }).toEqual({ outTradeNo, types: ['OrderPlaced', 'PaymentSucceeded'] });
      }
      const [{ keys }] = await check.dataSource.query<{ keys: string }[]>(
        `SELECT count(*) AS keys FROM processed_notifications`,
      );
      expect(Number(keys)).toBe(ORDERS);

      // Rows the killed process had stored but not finished are the only ones left without an outcome,
      // and the recovery sweep gives them one.
      const [{ unfinished }] = await check.dataSource.query<{ unfinished: string }[]>(
        `SELECT count(*) AS unfinished FROM inbox_notifications WHERE outcome = 'received'`,
      );
      expect(Number(unfinished)).toBeLessThanOrEqual(CONCURRENCY);
      const swept = await new InboxRecovery(
        new InboxStore(check.dataSource),
        new LedgerLogger('fatal'),
      ).sweep(0);
      expect(swept).toHaveLength(Number(unfinished));
      const outcomes = await check.dataSource.query<{ outcome: string; count: string }[]>(
        `SELECT outcome, count(*) AS count FROM inbox_notifications GROUP BY outcome ORDER BY outcome`,
      );
      expect(outcomes.map((row) => row.outcome)).not.toContain('received');
      expect(outcomes.find((row) => row.outcome === 'applied')?.count).toBe(String(ORDERS));
    } finally {
      await check.close();
    }
  });
});
