import { formatBeijingTime } from '@ledger/alipay-protocol';
import { loadConfig } from '@ledger/platform';
import {
  createTestDatabase,
  freePort,
  newTradeNo,
  postNotification,
  signedNotification,
  tradeStatusSyncParams,
  startFakeAlipayGateway,
  type FakeAlipayGateway,
  type TestDatabase,
} from '@ledger/testing';
import { createLedgerApp, type LedgerApp } from '../apps/ledger/src/ledger-app';
import { ADMIN_TOKEN, LedgerClient, countOf, has, newOutTradeNo } from './fulfilment.fixture';
import { WebhookReceiver } from './webhook-receiver.fixture';

// The merchant webhooks end to end (docs/webhooks.md): a real receiver that checks every signature with its
// own HMAC, a short retry schedule (300 ms, 600 ms: three attempts) and a 3 s attempt timeout.

const SECRET = `whsec_${Buffer.alloc(32, 42).toString('base64')}`;
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

interface WebhookView {
  id: string;
  eventType: string;
  state: string;
  attempts: number;
  attemptLog: { attempt: number; outcome: string; status: number | null }[];
}

async function startLedger(
  database: TestDatabase,
  gateway: FakeAlipayGateway,
  env: Record<string, string>,
): Promise<{ ledger: LedgerApp; client: LedgerClient }> {
  const config = loadConfig(
    {
      LEDGER_MODE: 'demo',
      ADMIN_TOKEN,
      ALIPAY_GATEWAY: gateway.url,
      LOG_LEVEL: 'fatal',
      MERCHANT_WEBHOOK_SECRET: SECRET,
      MERCHANT_WEBHOOK_TIMEOUT_MS: '3000',
      MERCHANT_WEBHOOK_CONNECT_TIMEOUT_MS: '500',
      ...env,
    },
    { envFile: false },
  );
  const ledger = await createLedgerApp(config, { database });
  await ledger.app.listen(0, '127.0.0.1');
  return { ledger, client: new LedgerClient(await ledger.app.getUrl()) };
}

async function webhooksOf(client: LedgerClient, subject: string): Promise<WebhookView[]> {
  const response = await fetch(`${client.baseUrl}/admin/webhooks?subject=${subject}&limit=100`, {
    headers: auth,
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { items: WebhookView[] }).items;
}

async function webhookWhen(
  client: LedgerClient,
  subject: string,
  type: string,
  done: (webhook: WebhookView) => boolean,
  timeoutMs = 30_000,
): Promise<WebhookView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const webhook = (await webhooksOf(client, subject)).find((w) => w.eventType === type);
    if (webhook !== undefined && done(webhook)) return webhook;
    if (Date.now() > deadline) throw new Error(`${type} of ${subject}: ${JSON.stringify(webhook)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('merchant webhooks', () => {
  let database: TestDatabase;
  let gateway: FakeAlipayGateway;
  let receiver: WebhookReceiver;
  let ledger: LedgerApp;
  let client: LedgerClient;

  beforeAll(async () => {
    gateway = await startFakeAlipayGateway();
    receiver = await WebhookReceiver.start(SECRET);
    database = await createTestDatabase('webhooks_e2e');
    ({ ledger, client } = await startLedger(database, gateway, {
      MERCHANT_WEBHOOK_URL: receiver.url,
      MERCHANT_WEBHOOK_RETRY_SCHEDULE: '300ms,600ms',
      // Within the four busy seconds below, the outbox enqueues the orders paid meanwhile.
      FULFILMENT_BATCH_INTERVAL_WHILE_BUSY_MS: '1000',
    }));
  });

  afterAll(async () => {
    await ledger?.close();
    await receiver?.close();
    await database?.close();
    await gateway?.close();
  });

  async function paidOrder(prefix: string): Promise<{ outTradeNo: string; tradeNo: string }> {
    const outTradeNo = newOutTradeNo(prefix);
    const tradeNo = newTradeNo();
    await client.placeOrder(outTradeNo, 'create_direct_pay_by_user');
    await client.notify({ outTradeNo, tradeNo, tradeStatus: 'TRADE_SUCCESS' });
    return { outTradeNo, tradeNo };
  }

  it('delivers a paid order once: the 2xx answer to order.delivery_requested is the delivery', async () => {
    const { outTradeNo } = await paidOrder('PAID');
    const events = await client.historyWhen(outTradeNo, has('DeliveryCompleted'));
    await receiver.until(() => receiver.of(outTradeNo, 'order.delivered').length > 0, 'order.delivered');

    const requested = receiver.of(outTradeNo, 'order.delivery_requested');
    expect(requested).toHaveLength(1);
    expect(receiver.of(outTradeNo).every((webhook) => webhook.verified)).toBe(true);
    expect(
      receiver
        .of(outTradeNo)
        .map((webhook) => webhook.type)
        .sort(),
    ).toEqual(['order.delivered', 'order.delivery_requested', 'order.paid']);
    expect(requested[0].body).toMatchObject({
      type: 'order.delivery_requested',
      data: { outTradeNo, status: 'paid', paidFee: '25.99', delivery: { state: 'pending' } },
    });
    expect(Math.abs(requested[0].timestamp * 1000 - Date.now())).toBeLessThan(60_000);

    const delivered = events.find((event) => event.type === 'DeliveryCompleted')!;
    expect(countOf(events, 'DeliveryCompleted')).toBe(1);
    expect(delivered.data).toMatchObject({
      via: 'webhook',
      webhookId: requested[0].id,
      reference: expect.stringMatching(/^R-\d+$/),
      reply: { status: 200 },
    });
    const log = await webhookWhen(
      client,
      outTradeNo,
      'order.delivery_requested',
      (w) => w.state === 'succeeded',
    );
    expect(log).toMatchObject({
      id: requested[0].id,
      attempts: 1,
      attemptLog: [{ outcome: 'succeeded', status: 200 }],
    });
  });

  it('retries a hanging and a failing receiver on schedule, with one id, while other orders are delivered', async () => {
    const hanging = newOutTradeNo('HANG');
    const failing = newOutTradeNo('FAIL');
    receiver.script(hanging, 'hang', { status: 500 }, { status: 200, body: '{"reference":"LATE"}' });
    receiver.script(failing, { status: 503 }, { status: 200 });
    for (const [outTradeNo, tradeNo] of [
      [hanging, newTradeNo()],
      [failing, newTradeNo()],
    ]) {
      await client.placeOrder(outTradeNo, 'create_direct_pay_by_user');
      await client.notify({ outTradeNo, tradeNo, tradeStatus: 'TRADE_SUCCESS' });
    }
    await receiver.until(
      () => receiver.of(hanging, 'order.delivery_requested').length === 1,
      'the hanging attempt',
    );
    // While the first receiver hangs (3 s), newer orders go through.
    const others = await Promise.all([paidOrder('OTHER'), paidOrder('OTHER')]);
    const hungAt = receiver.of(hanging, 'order.delivery_requested')[0].receivedAt;
    for (const { outTradeNo } of others) {
      await client.historyWhen(outTradeNo, has('DeliveryCompleted'));
      expect(receiver.of(outTradeNo, 'order.delivery_requested')[0].receivedAt).toBeLessThan(hungAt + 3_000);
    }

    const events = await client.historyWhen(hanging, has('DeliveryCompleted'));
    await client.historyWhen(failing, has('DeliveryCompleted'));
    const attempts = receiver.of(hanging, 'order.delivery_requested');
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((attempt) => attempt.id)).size).toBe(1);
    // The hung attempt ends at the 3 s timeout; then 300 ms and 600 ms, each within ±20 %.
    expect(attempts[1].receivedAt - attempts[0].receivedAt).toBeGreaterThanOrEqual(3_000 + 240 - 50);
    expect(attempts[2].receivedAt - attempts[1].receivedAt).toBeGreaterThanOrEqual(480 - 50);
    expect(countOf(events, 'DeliveryCompleted')).toBe(1);
    expect(events.find((event) => event.type === 'DeliveryCompleted')?.data).toMatchObject({
      reference: 'LATE',
    });
    const log = await webhookWhen(
      client,
      hanging,
      'order.delivery_requested',
      (w) => w.state === 'succeeded',
    );
    expect(log.attemptLog.map((attempt) => attempt.outcome)).toEqual(['timeout', 'failed', 'succeeded']);
    expect(receiver.of(failing, 'order.delivery_requested')).toHaveLength(2);
  });

  it('sends one webhook at a time while Alipay waits on notifications, and many at once after', async () => {
    // docs/operations.md, "Alipay first". Each order's order.delivery_requested takes the receiver 300 ms.
    const slowReply = { status: 200, body: '{"reference":"SLOW"}', delayMs: 300 };
    // One after another: six notifications at once would make the ledger busy themselves.
    const payAll = async (prefix: string): Promise<string[]> => {
      const orders = Array.from({ length: 6 }, () => newOutTradeNo(prefix));
      for (const outTradeNo of orders) {
        receiver.script(outTradeNo, slowReply);
        await client.placeOrder(outTradeNo, 'create_direct_pay_by_user');
        await client.notify({ outTradeNo, tradeNo: newTradeNo(), tradeStatus: 'TRADE_SUCCESS' });
      }
      return orders;
    };
    const delivered = (orders: readonly string[]) =>
      receiver.until(
        () => orders.every((outTradeNo) => receiver.of(outTradeNo, 'order.delivered').length > 0),
        'every order.delivered',
      );

    // Five notifications held by a slow notify_verify keep the ledger busy for 4 s.
    const held = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const outTradeNo = newOutTradeNo('HELD');
        const notifyId = `held-${outTradeNo}`;
        gateway.script('notify_verify', notifyId, { delayMs: 4_000, then: 'true' });
        await client.placeOrder(outTradeNo, 'create_direct_pay_by_user');
        return { outTradeNo, notifyId };
      }),
    );
    const holding = Promise.all(
      held.map(({ outTradeNo, notifyId }) =>
        client.notify({ outTradeNo, tradeNo: newTradeNo(), tradeStatus: 'TRADE_SUCCESS', notifyId }),
      ),
    );
    await Promise.all(
      held.map(({ notifyId }) => gateway.waitForRequest((request) => request.key === notifyId)),
    );
    const whileBusy = await payAll('BUSY');
    await holding;
    const busyUntil = performance.now();
    const busyEnded = Date.now();
    await delivered(whileBusy);
    // Meanwhile the outbox took a batch a second at most (docs/event-store.md, "Background consumers"):
    // each batch enqueues in one transaction, so its rows share their created_at.
    const batches = (
      await database.dataSource.query<{ at: Date }[]>(
        `SELECT DISTINCT created_at AS at FROM webhook_messages WHERE subject = ANY($1::text[]) ORDER BY 1`,
        [whileBusy],
      )
    )
      .map(({ at }) => new Date(at).getTime())
      .filter((at) => at < busyEnded);
    expect(batches.length).toBeGreaterThan(1);
    for (let i = 1; i < batches.length; i++) expect(batches[i] - batches[i - 1]).toBeGreaterThanOrEqual(800);
    // The attempts begun while the five were held: one at a time. Those begun after may overlap.
    const begunWhileBusy = receiver.answered.filter(
      (span) => whileBusy.includes(span.subject) && span.from < busyUntil,
    );
    expect(begunWhileBusy.length).toBeGreaterThan(2);
    const overlapping = begunWhileBusy.filter((span) =>
      begunWhileBusy.some((other) => other !== span && other.from < span.to && span.from < other.to),
    );
    expect(overlapping).toEqual([]);

    const afterwards = await payAll('IDLE');
    await delivered(afterwards);
    const requested = receiver.answered.filter(
      (span) => afterwards.includes(span.subject) && span.type === 'order.delivery_requested',
    );
    expect(
      requested.some((span) =>
        requested.some((other) => other !== span && other.from < span.to && span.from < other.to),
      ),
    ).toBe(true);
  });

  it('gives a webhook up after the schedule, and sends it again when the operator retries it', async () => {
    const outTradeNo = newOutTradeNo('DEAD');
    receiver.script(outTradeNo, { status: 500, body: '{"error":"warehouse closed"}' });
    await client.placeOrder(outTradeNo, 'create_direct_pay_by_user');
    await client.notify({ outTradeNo, tradeNo: newTradeNo(), tradeStatus: 'TRADE_SUCCESS' });
    const dead = await webhookWhen(client, outTradeNo, 'order.delivery_requested', (w) => w.state === 'dead');
    expect(dead.attemptLog.map((attempt) => attempt.status)).toEqual([500, 500, 500]);
    const listed = await fetch(`${client.baseUrl}/admin/webhooks?state=dead`, { headers: auth });
    expect(((await listed.json()) as { items: WebhookView[] }).items.map((w) => w.id)).toContain(dead.id);
    const [health] = (await (
      await fetch(`${client.baseUrl}/admin/webhooks/endpoints`, { headers: auth })
    ).json()) as {
      counts: { dead: number };
      failuresSinceSuccess: number;
      url: string;
    }[];
    expect(health.counts.dead).toBeGreaterThanOrEqual(1);
    expect(health.url).toBe(receiver.url);
    expect((await client.history(outTradeNo)).map((event) => event.type)).not.toContain('DeliveryCompleted');

    receiver.script(outTradeNo, { status: 200 });
    const retry = await fetch(`${client.baseUrl}/admin/webhooks/${dead.id}/retry`, {
      method: 'POST',
      headers: auth,
    });
    expect(await retry.json()).toEqual({ retried: [dead.id] });
    const events = await client.historyWhen(outTradeNo, has('DeliveryCompleted'));
    expect(countOf(events, 'DeliveryCompleted')).toBe(1);
    expect(receiver.of(outTradeNo, 'order.delivery_requested')).toHaveLength(4);
  });

  it('records a delivery completed by hand with who and why, and cancels the webhook still pending', async () => {
    const outTradeNo = newOutTradeNo('HAND');
    receiver.script(outTradeNo, { status: 500 });
    await client.placeOrder(outTradeNo, 'create_direct_pay_by_user');
    await client.notify({ outTradeNo, tradeNo: newTradeNo(), tradeStatus: 'TRADE_SUCCESS' });
    await receiver.until(
      () => receiver.of(outTradeNo, 'order.delivery_requested').length === 1,
      'an attempt',
    );

    const post = (body: unknown) =>
      fetch(`${client.baseUrl}/admin/orders/${outTradeNo}/delivery`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const refused = await post({ operator: 'li.na@example.com' });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('reason');
    const done = await post({
      operator: 'li.na@example.com',
      reason: 'handed over at the counter',
      reference: 'DESK-7',
    });
    expect(done.status).toBe(200);
    expect(await done.json()).toMatchObject({ recorded: true });
    expect(await (await post({ operator: 'li.na@example.com', reason: 'again' })).json()).toMatchObject({
      recorded: false,
    });

    const events = await client.history(outTradeNo);
    expect(countOf(events, 'DeliveryCompleted')).toBe(1);
    expect(events.find((event) => event.type === 'DeliveryCompleted')?.data).toMatchObject({
      via: 'operator',
      operator: 'li.na@example.com',
      reason: 'handed over at the counter',
      reference: 'DESK-7',
    });
    const cancelled = await webhookWhen(
      client,
      outTradeNo,
      'order.delivery_requested',
      (w) => w.state === 'cancelled',
    );
    expect(cancelled.attempts).toBeLessThanOrEqual(3);
    await receiver.until(() => receiver.of(outTradeNo, 'order.delivered').length === 1, 'order.delivered');
    expect(receiver.of(outTradeNo, 'order.delivered')[0].body).toMatchObject({
      data: { details: { via: 'operator', reason: 'handed over at the counter' } },
    });
    const unknown = await fetch(`${client.baseUrl}/admin/orders/NO-SUCH-ORDER/delivery`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ operator: 'x', reason: 'y' }),
    });
    expect(unknown.status).toBe(404);
  });

  it('takes goods back through order.return_requested after a full refund, and by hand after a partial one', async () => {
    const full = await paidOrder('FULL');
    const partial = await paidOrder('PART');
    await client.historyWhen(full.outTradeNo, has('DeliveryCompleted'));
    await client.historyWhen(partial.outTradeNo, has('DeliveryCompleted'));
    const refund = (order: { outTradeNo: string; tradeNo: string }, tradeStatus: string) =>
      client.notify({
        ...order,
        tradeStatus,
        refundStatus: 'REFUND_SUCCESS',
        extra: { gmt_refund: formatBeijingTime(new Date()) },
      });
    await refund(full, 'TRADE_CLOSED');
    await refund(partial, 'TRADE_SUCCESS');

    const fullEvents = await client.historyWhen(full.outTradeNo, has('ReturnCompleted'));
    const requested = receiver.of(full.outTradeNo, 'order.return_requested');
    expect(requested).toHaveLength(1);
    expect(fullEvents.find((event) => event.type === 'ReturnCompleted')?.data).toMatchObject({
      via: 'webhook',
      webhookId: requested[0].id,
    });
    await receiver.until(() => receiver.of(full.outTradeNo, 'order.refunded').length === 1, 'order.refunded');
    await receiver.until(
      () => receiver.of(partial.outTradeNo, 'order.partially_refunded').length === 1,
      'order.partially_refunded',
    );
    expect(receiver.of(partial.outTradeNo, 'order.return_requested')).toHaveLength(0);

    const response = await fetch(`${client.baseUrl}/admin/orders/${partial.outTradeNo}/return`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ operator: 'wang.wei', reason: 'the buyer sent the item back' }),
    });
    expect(response.status).toBe(200);
    const partialEvents = await client.history(partial.outTradeNo);
    expect(partialEvents.find((event) => event.type === 'ReturnCompleted')?.data).toMatchObject({
      via: 'operator',
      operator: 'wang.wei',
      reason: 'the buyer sent the item back',
    });
  });

  it('pages the delivery log newest first, every webhook once, and refuses a cursor it did not make', async () => {
    // order.paid: no order is paid meanwhile, while the earlier orders' other webhooks may still come.
    const all = (await (
      await fetch(`${client.baseUrl}/admin/webhooks?type=order.paid&limit=100`, { headers: auth })
    ).json()) as {
      items: WebhookView[];
      nextCursor: string | null;
    };
    expect(all.nextCursor).toBeNull();
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const response = await fetch(
        `${client.baseUrl}/admin/webhooks?type=order.paid&limit=3${cursor === null ? '' : `&cursor=${cursor}`}`,
        { headers: auth },
      );
      const page = (await response.json()) as { items: WebhookView[]; nextCursor: string | null };
      paged.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(all.items.length).toBeGreaterThan(6);
    expect(paged).toEqual(all.items.map((item) => item.id));
    const refused = await fetch(`${client.baseUrl}/admin/webhooks?cursor=bm90LWEtY3Vyc29y`, {
      headers: auth,
    });
    expect(refused.status).toBe(400);
    const filtered = await fetch(`${client.baseUrl}/admin/webhooks?state=asleep`, { headers: auth });
    expect(filtered.status).toBe(400);
  });
});

describe('a receiver that is down', () => {
  let database: TestDatabase;
  let gateway: FakeAlipayGateway;
  let receiver: WebhookReceiver | undefined;
  let ledger: LedgerApp;
  let client: LedgerClient;
  let port: number;

  beforeAll(async () => {
    gateway = await startFakeAlipayGateway();
    database = await createTestDatabase('webhooks_down_e2e');
    port = await freePort();
    ({ ledger, client } = await startLedger(database, gateway, {
      MERCHANT_WEBHOOK_URL: `http://127.0.0.1:${port}/webhooks`,
      MERCHANT_WEBHOOK_RETRY_SCHEDULE: Array(20).fill('200ms').join(','),
    }));
  });

  afterAll(async () => {
    await ledger?.close();
    await receiver?.close();
    await database?.close();
    await gateway?.close();
  });

  it('keeps trying while nothing listens, and delivers once the receiver is up', async () => {
    const outTradeNo = newOutTradeNo('DOWN');
    await client.placeOrder(outTradeNo, 'create_direct_pay_by_user');
    await client.notify({ outTradeNo, tradeNo: newTradeNo(), tradeStatus: 'TRADE_SUCCESS' });
    const failing = await webhookWhen(client, outTradeNo, 'order.delivery_requested', (w) => w.attempts >= 2);
    expect(failing.attemptLog.every((attempt) => attempt.outcome === 'unreachable')).toBe(true);
    expect(failing.state).not.toBe('dead');

    receiver = await WebhookReceiver.start(SECRET, port);
    const events = await client.historyWhen(outTradeNo, has('DeliveryCompleted'));
    expect(countOf(events, 'DeliveryCompleted')).toBe(1);
    expect(receiver.of(outTradeNo, 'order.delivery_requested')).toHaveLength(1);
    expect(receiver.received.every((webhook) => webhook.verified)).toBe(true);
  });
});

describe('live mode without MERCHANT_WEBHOOK_URL', () => {
  const PARTNER = '2088123456789014';
  const KEY = 'livewebhookkey0123456789abcdefgh';
  let database: TestDatabase;
  let gateway: FakeAlipayGateway;
  let ledger: LedgerApp;
  let client: LedgerClient;

  beforeAll(async () => {
    gateway = await startFakeAlipayGateway({ partner: PARTNER, md5Keys: [KEY] });
    database = await createTestDatabase('webhooks_live_e2e');
    const config = loadConfig(
      {
        ALIPAY_PARTNER: PARTNER,
        ALIPAY_KEY: KEY,
        ALIPAY_GATEWAY: gateway.url,
        PUBLIC_BASE_URL: 'https://ledger.example.com',
        ADMIN_TOKEN,
        EMBEDDED_DATABASE_ACCEPT_DATA_LOSS: 'true',
        LOG_LEVEL: 'fatal',
      },
      { envFile: false },
    );
    expect(config.mode).toBe('live');
    ledger = await createLedgerApp(config, { database });
    await ledger.app.listen(0, '127.0.0.1');
    client = new LedgerClient(await ledger.app.getUrl());
  });

  afterAll(async () => {
    await ledger?.close();
    await database?.close();
    await gateway?.close();
  });

  it('records nothing as delivered: the order waits pending, its webhook visible and unsent', async () => {
    const outTradeNo = newOutTradeNo('LIVE');
    await client.placeOrder(outTradeNo, 'create_direct_pay_by_user');
    const notification = signedNotification(
      tradeStatusSyncParams({
        outTradeNo,
        tradeNo: newTradeNo(),
        tradeStatus: 'TRADE_SUCCESS',
        totalFee: '25.99',
        sellerId: PARTNER,
      }),
      KEY,
    );
    expect((await postNotification(`${client.baseUrl}/alipay/notify`, notification)).text).toBe('success');

    const waiting = await webhookWhen(client, outTradeNo, 'order.delivery_requested', () => true);
    expect(waiting).toMatchObject({ state: 'pending', attempts: 0, attemptLog: [] });
    // Long enough for a sender to have sent it, were there one.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await webhookWhen(client, outTradeNo, 'order.delivery_requested', () => true)).toMatchObject({
      state: 'pending',
      attempts: 0,
    });
    expect((await client.history(outTradeNo)).map((event) => event.type)).toEqual([
      'OrderPlaced',
      'PaymentSucceeded',
    ]);
    const order = await fetch(`${client.baseUrl}/admin/orders/${outTradeNo}`, { headers: auth });
    expect(await order.json()).toMatchObject({ delivery: { state: 'pending' } });
    const [endpoint] = (await (
      await fetch(`${client.baseUrl}/admin/webhooks/endpoints`, { headers: auth })
    ).json()) as { url: string | null; sending: boolean; counts: { pending: number } }[];
    expect(endpoint).toMatchObject({ url: null, sending: false });
    expect(endpoint.counts.pending).toBeGreaterThanOrEqual(2);
  });
});
