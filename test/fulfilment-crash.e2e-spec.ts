import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  createTestDatabase,
  newTradeNo,
  startFakeAlipayGateway,
  testDatabaseKind,
  type FakeAlipayGateway,
  type TestDatabase,
} from '@ledger/testing';
import { ADMIN_TOKEN, LedgerClient, countOf, has, newOutTradeNo } from './fulfilment.fixture';

// The worker killed (SIGKILL) while send_goods_confirm_by_platform is in flight, after the delivery was
// recorded: the restarted ledger confirms the shipment and the ledger still holds one delivery.

const ROOT = join(__dirname, '..');

interface RunningChild {
  process: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
}

/** `main.ts` with the fulfilment worker, in a child process that can be killed for real. */
function startLedgerProcess(env: NodeJS.ProcessEnv): RunningChild {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/ledger/src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { process: child, exited, output: () => output };
}

async function untilHealthy(child: RunningChild, baseUrl: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void child.exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`the ledger exited with ${exitCode}:\n${child.output()}`);
    const healthy = await fetch(`${baseUrl}/health`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (healthy) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the ledger did not answer /health in time:\n${child.output()}`);
}

describe('the fulfilment worker killed mid-way', () => {
  let gateway: FakeAlipayGateway;
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;
  const children: RunningChild[] = [];

  beforeAll(async () => {
    gateway = await startFakeAlipayGateway();
    if (testDatabaseKind() === 'postgres') database = await createTestDatabase('fulfilment_crash');
    else dataDir = mkdtempSync(join(tmpdir(), 'ledger-fulfilment-crash-'));
  });

  afterAll(async () => {
    for (const child of children) {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
      await child.exited;
    }
    await database?.close();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    await gateway?.close();
  });

  it('confirms the shipment after a restart and records one delivery', async () => {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      LEDGER_MODE: 'demo',
      ADMIN_TOKEN,
      ALIPAY_GATEWAY: gateway.url,
      LOG_LEVEL: 'warn',
      ...(database?.url === undefined ? { DATA_DIR: dataDir } : { DATABASE_URL: database.url }),
    };
    const client = new LedgerClient(baseUrl);
    const tradeNo = newTradeNo();
    // The first confirmation never gets its answer: the process dies while it waits.
    gateway.script('send_goods_confirm_by_platform', tradeNo, { delayMs: 600_000, then: 'T' }, 'T');

    const first = startLedgerProcess(env);
    children.push(first);
    await untilHealthy(first, baseUrl);
    const outTradeNo = newOutTradeNo('CRASH');
    await client.placeOrder(outTradeNo, 'trade_create_by_buyer');
    const facts = { outTradeNo, tradeNo, service: 'trade_create_by_buyer' } as const;
    await client.notify({ ...facts, tradeStatus: 'WAIT_BUYER_PAY' });
    await client.notify({ ...facts, tradeStatus: 'WAIT_SELLER_SEND_GOODS' });
    await gateway.waitForRequest((request) => request.key === tradeNo, 60_000);
    expect(countOf(await client.history(outTradeNo), 'DeliveryCompleted')).toBe(1);
    first.process.kill('SIGKILL');
    await first.exited;

    const second = startLedgerProcess(env);
    children.push(second);
    await untilHealthy(second, baseUrl);
    const events = await client.historyWhen(outTradeNo, has('ShippingConfirmed'), 60_000);
    expect(events.map((event) => event.type)).toEqual([
      'OrderPlaced',
      'PaymentAwaited',
      'PaymentSucceeded',
      'DeliveryCompleted',
      'ShippingConfirmed',
    ]);
    const calls = gateway.requestsFor('send_goods_confirm_by_platform', tradeNo);
    expect(calls).toHaveLength(2);
    expect(calls[0].answer).toBeUndefined();
    expect(calls[1].answer).toBe('T');

    second.process.kill('SIGTERM');
    const code = await second.exited;
    expect({ code, output: code === 0 ? '' : second.output() }).toEqual({ code: 0, output: '' });
  });
});
