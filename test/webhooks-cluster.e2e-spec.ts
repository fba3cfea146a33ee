import { loadConfig } from '@ledger/platform';
import {
  createTestDatabase,
  newTradeNo,
  startFakeAlipayGateway,
  testDatabaseKind,
  type FakeAlipayGateway,
  type TestDatabase,
} from '@ledger/testing';
import { createLedgerApp, type LedgerApp } from '../apps/ledger/src/ledger-app';
import { ADMIN_TOKEN, LedgerClient, countOf, has, newOutTradeNo } from './fulfilment.fixture';
import { WebhookReceiver } from './webhook-receiver.fixture';

// Three ledgers on one PostgreSQL, each with its own pool, consumer and dispatcher (docs/webhooks.md,
// "Several instances"): every webhook is sent once per attempt, whichever instance claims it, and every
// delivery is recorded once. The embedded database has one instance by construction: PostgreSQL only.

const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
const INSTANCES = 3;
const ORDERS = 30;

const onPostgres = testDatabaseKind() === 'postgres' ? describe : describe.skip;

onPostgres('webhooks from several instances on one PostgreSQL', () => {
  let database: TestDatabase;
  let gateway: FakeAlipayGateway;
  let receiver: WebhookReceiver;
  const ledgers: LedgerApp[] = [];
  const clients: LedgerClient[] = [];

  beforeAll(async () => {
    gateway = await startFakeAlipayGateway();
    receiver = await WebhookReceiver.start(SECRET);
    database = await createTestDatabase('webhooks_cluster');
    for (let i = 0; i < INSTANCES; i++) {
      const config = loadConfig(
        {
          LEDGER_MODE: 'demo',
          ADMIN_TOKEN,
          ALIPAY_GATEWAY: gateway.url,
          LOG_LEVEL: 'fatal',
          DATABASE_URL: database.url!,
          DATABASE_POOL_SIZE: '6',
          MERCHANT_WEBHOOK_URL: receiver.url,
          MERCHANT_WEBHOOK_SECRET: SECRET,
          MERCHANT_WEBHOOK_RETRY_SCHEDULE: '200ms,200ms',
          MERCHANT_WEBHOOK_TIMEOUT_MS: '2000',
          MERCHANT_WEBHOOK_CONNECT_TIMEOUT_MS: '500',
        },
        { envFile: false },
      );
      const ledger = await createLedgerApp(config);
      await ledger.app.listen(0, '127.0.0.1');
      ledgers.push(ledger);
      clients.push(new LedgerClient(await ledger.app.getUrl()));
    }
  });

  afterAll(async () => {
    for (const ledger of ledgers) await ledger.close();
    await receiver?.close();
    await database?.close();
    await gateway?.close();
  });

  it('sends each webhook once per attempt and records each delivery once', async () => {
    const orders: string[] = [];
    // Every third order's receiver fails once: its webhook has exactly two attempts.
    await Promise.all(
      Array.from({ length: ORDERS }, async (_, i) => {
        const outTradeNo = newOutTradeNo(`CLUSTER${i}`);
        orders.push(outTradeNo);
        if (i % 3 === 0) receiver.script(outTradeNo, { status: 500 }, { status: 200 });
        const client = clients[i % INSTANCES];
        await client.placeOrder(outTradeNo, 'create_direct_pay_by_user');
        await client.notify({ outTradeNo, tradeNo: newTradeNo(), tradeStatus: 'TRADE_SUCCESS' });
      }),
    );
    for (const outTradeNo of orders) {
      const events = await clients[0].historyWhen(outTradeNo, has('DeliveryCompleted'), 60_000);
      expect(countOf(events, 'DeliveryCompleted')).toBe(1);
    }
    await receiver.until(
      () => orders.every((outTradeNo) => receiver.of(outTradeNo, 'order.delivered').length > 0),
      'every order.delivered',
    );
    // A moment for a duplicate to show up, if there were one.
    await new Promise((resolve) => setTimeout(resolve, 500));

    const byId = new Map<string, number>();
    for (const webhook of receiver.received) byId.set(webhook.id, (byId.get(webhook.id) ?? 0) + 1);
    orders.forEach((outTradeNo, i) => {
      const requested = receiver.of(outTradeNo, 'order.delivery_requested');
      expect({ outTradeNo, sends: requested.length }).toEqual({ outTradeNo, sends: i % 3 === 0 ? 2 : 1 });
      expect(new Set(requested.map((webhook) => webhook.id)).size).toBe(1);
      for (const type of ['order.paid', 'order.delivered']) {
        expect({ outTradeNo, type, sends: receiver.of(outTradeNo, type).length }).toEqual({
          outTradeNo,
          type,
          sends: 1,
        });
      }
    });
    expect(receiver.received.every((webhook) => webhook.verified)).toBe(true);
    // Every webhook settled: none left pending, none dead.
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const health = (await (
      await fetch(`${clients[1].baseUrl}/admin/webhooks/endpoints`, { headers: auth })
    ).json()) as {
      counts: { succeeded: number; dead: number; pending: number };
    }[];
    expect(health[0].counts).toMatchObject({ succeeded: ORDERS * 3, dead: 0, pending: 0 });
  });
});
