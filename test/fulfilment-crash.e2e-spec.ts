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
import { WebhookReceiver } from './webhook-receiver.fixture';

// The ledger killed (SIGKILL) while send_goods_confirm_by_platform is in flight, after the delivery was
// recorded: the restarted ledger confirms the shipment and the ledger still holds one delivery. And killed
// while webhooks are in flight: after the restart every order's delivery webhook is sent (with the id it
// had) and every delivery is recorded once.

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

  it('loses no webhook and records no delivery twice when killed while webhooks are in flight', async () => {
    const secret = `whsec_${Buffer.alloc(32, 5).toString('base64')}`;
    // Each answer takes 500 ms, two at a time: the kill finds some webhooks sent, some answered and not yet
    // recorded, most not sent.
    const receiver = await WebhookReceiver.start(secret, 0, 500);
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      LEDGER_MODE: 'demo',
      ADMIN_TOKEN,
      ALIPAY_GATEWAY: gateway.url,
      LOG_LEVEL: 'warn',
      MERCHANT_WEBHOOK_URL: receiver.url,
      MERCHANT_WEBHOOK_SECRET: secret,
      MERCHANT_WEBHOOK_TIMEOUT_MS: '2000',
      MERCHANT_WEBHOOK_CONCURRENCY: '2',
      ...(database?.url === undefined ? { DATA_DIR: dataDir } : { DATABASE_URL: database.url }),
    };
    const client = new LedgerClient(baseUrl);
    try {
      const first = startLedgerProcess(env);
      children.push(first);
      await untilHealthy(first, baseUrl);
      const orders: string[] = [];
      await Promise.all(
        Array.from({ length: 16 }, async (_, i) => {
          const outTradeNo = newOutTradeNo(`KILL${i}`);
          orders.push(outTradeNo);
          await client.placeOrder(outTradeNo, 'create_direct_pay_by_user');
          await client.notify({ outTradeNo, tradeNo: newTradeNo(), tradeStatus: 'TRADE_SUCCESS' });
        }),
      );
      const requested = () => receiver.received.filter((w) => w.type === 'order.delivery_requested');
      await receiver.until(() => requested().length >= 4, 'the first delivery webhooks', 60_000);
      first.process.kill('SIGKILL');
      await first.exited;
      const idsBefore = new Map(requested().map((w) => [w.subject, w.id]));
      expect(idsBefore.size).toBeLessThan(orders.length);

      const second = startLedgerProcess(env);
      children.push(second);
      await untilHealthy(second, baseUrl);
      for (const outTradeNo of orders) {
        const events = await client.historyWhen(outTradeNo, has('DeliveryCompleted'), 90_000);
        expect({ outTradeNo, deliveries: countOf(events, 'DeliveryCompleted') }).toEqual({
          outTradeNo,
          deliveries: 1,
        });
        const sent = receiver.of(outTradeNo, 'order.delivery_requested');
        // Sent at least once, always under the same id: the receiver de-duplicates a second send.
        expect(sent.length).toBeGreaterThanOrEqual(1);
        expect(new Set(sent.map((w) => w.id)).size).toBe(1);
        if (idsBefore.has(outTradeNo)) expect(sent[0].id).toBe(idsBefore.get(outTradeNo));
        const completed = events.find((event) => event.type === 'DeliveryCompleted')!;
        expect(completed.data).toMatchObject({ via: 'webhook', webhookId: sent[0].id });
      }
      expect(receiver.received.every((w) => w.verified)).toBe(true);
      // Each delivery webhook ends succeeded: one whose answer was recorded just before the kill is taken over
      // as answered, never cancelled as if the delivery had been done another way.
      for (const outTradeNo of orders) {
        const response = await fetch(`${baseUrl}/admin/webhooks?subject=${outTradeNo}&limit=10`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        const { items } = (await response.json()) as { items: { eventType: string; state: string }[] };
        const delivery = items.filter((w) => w.eventType === 'order.delivery_requested');
        expect({ outTradeNo, states: delivery.map((w) => w.state) }).toEqual({
          outTradeNo,
          states: ['succeeded'],
        });
      }
      second.process.kill('SIGTERM');
      const code = await second.exited;
      expect({ code, output: code === 0 ? '' : second.output() }).toEqual({ code: 0, output: '' });
    } finally {
      await receiver.close();
    }
  });
});
