import { ProjectionsService } from '@ledger/projections';
import { newTradeNo, postNotification, signedNotification, tradeStatusSyncParams } from '@ledger/testing';
import { FORGED_KEY } from './alipay-notify.fixture';
import {
  eventually,
  LedgerUnderTest,
  newOutTradeNo,
  openCashier,
  SandboxUnderTest,
} from './ledger-sandbox.fixture';

// GET /metrics (docs/operations.md, "Metrics") after a payment, a forged notification and a refund, the
// ledger against the sandbox as in demo mode: the counters agree with what the database holds, and the
// gauges read from it are there.

jest.setTimeout(120_000);

let sandbox: SandboxUnderTest;
let ledger: LedgerUnderTest;

beforeAll(async () => {
  sandbox = await SandboxUnderTest.start(1000);
  ledger = await LedgerUnderTest.start('metrics', sandbox);
});

afterAll(async () => {
  await ledger?.close();
  await sandbox?.close();
});

/** The samples of a scrape: `name{labels}` (as prom-client writes them) to value. */
async function scrape(): Promise<Map<string, number>> {
  const response = await fetch(`${ledger.baseUrl}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** A sample's key, its labels in the order given (the order of the metric's label names). */
function sample(name: string, labels: Record<string, string> = {}): string {
  const entries = Object.entries(labels);
  return entries.length === 0
    ? name
    : `${name}{${entries.map(([label, value]) => `${label}="${value}"`).join(',')}}`;
}

/** The samples of one metric, by their labels' text. */
function family(samples: Map<string, number>, name: string): Map<string, number> {
  return new Map([...samples].filter(([key]) => key === name || key.startsWith(`${name}{`)));
}

async function rows<T>(sql: string): Promise<T[]> {
  return ledger.database.dataSource.query<T[]>(sql);
}

describe('GET /metrics', () => {
  it('counts a payment, a forged notification and a refund as the database records them', async () => {
    const before = await scrape();
    // The series start at zero, so that a first notification is an increase.
    expect(
      before.get(
        sample('ledger_notifications_received_total', {
          channel: 'notify',
          outcome: 'applied',
          reason: '',
        }),
      ),
    ).toBe(0);

    // A payment on the sandbox's cashier, notified to the ledger and delivered to the demo shop.
    const outTradeNo = newOutTradeNo('METRICS');
    await openCashier(await ledger.placeOrder(outTradeNo));
    const { tradeNo } = await sandbox.trade(outTradeNo);
    await sandbox.act(tradeNo, 'pay-instant');
    await eventually(
      `${outTradeNo} delivered`,
      () => ledger.order(outTradeNo),
      (order) => order.delivery.state === 'delivered',
    );

    // A forgery: the order's facts, signed with a key that is not the merchant's.
    const forged = signedNotification(
      tradeStatusSyncParams({
        outTradeNo,
        tradeNo: newTradeNo(),
        tradeStatus: 'TRADE_SUCCESS',
        totalFee: '12.34',
      }),
      FORGED_KEY,
    );
    expect(await postNotification(`${ledger.baseUrl}/alipay/notify`, forged)).toEqual({
      status: 400,
      text: 'fail',
    });

    // A nopwd refund: the gateway accepts it and the sandbox notifies its result.
    const refund = await ledger.refund('nopwd', [{ outTradeNo, amount: '2.34', reason: 'damaged box' }]);
    expect(refund.status).toBe(201);
    const { batchNo } = refund.json;
    await eventually(
      `batch ${batchNo} completed`,
      () => ledger.refundBatch(batchNo),
      (batch) => batch.state === 'completed',
    );
    await eventually(
      'every notification acknowledged',
      async () => [
        ...(await sandbox.notifications(outTradeNo)),
        ...(await sandbox.batchNotifications(batchNo)),
      ],
      (list) => list.length >= 2 && list.every((n) => n.state === 'acknowledged'),
    );
    await eventually(
      'every webhook settled',
      () =>
        rows<{ count: string }>(
          `SELECT count(*) AS count FROM webhook_messages WHERE state IN ('pending', 'delivering')`,
        ),
      ([{ count }]) => count === '0',
    );
    await ledger.nest.get(ProjectionsService).catchUp(5_000);

    const after = await scrape();

    // Notifications: by channel, outcome and reason, as many as the inbox holds (the only ones received).
    const inbox = await rows<{ channel: string; outcome: string; reason: string | null; count: string }>(
      `SELECT channel, outcome, outcome_detail->>'reason' AS reason, count(*) AS count
       FROM inbox_notifications GROUP BY 1, 2, 3`,
    );
    expect(inbox.map(({ channel, outcome }) => `${channel} ${outcome}`)).toEqual(
      expect.arrayContaining(['notify applied', 'notify rejected', 'refund_notify applied']),
    );
    const counted = family(after, 'ledger_notifications_received_total');
    for (const { channel, outcome, reason, count } of inbox) {
      expect([
        channel,
        outcome,
        reason,
        counted.get(
          sample('ledger_notifications_received_total', {
            channel,
            outcome,
            reason: reason ?? '',
          }),
        ),
      ]).toEqual([channel, outcome, reason, Number(count)]);
    }
    expect([...counted.values()].reduce((sum, value) => sum + value, 0)).toBe(
      inbox.reduce((sum, { count }) => sum + Number(count), 0),
    );

    // The forgery, by the signature check's outcome.
    expect(
      after.get(
        sample('ledger_notification_verification_failures_total', {
          channel: 'notify',
          reason: 'SIGNATURE_MISMATCH',
        }),
      ),
    ).toBe(1);

    // Events: every one committed, by type, as many as the event store holds.
    const events = await rows<{ type: string; count: string }>(
      `SELECT type, count(*) AS count FROM events GROUP BY type`,
    );
    expect(events.map(({ type }) => type)).toEqual(
      expect.arrayContaining([
        'OrderPlaced',
        'PaymentSucceeded',
        'DeliveryCompleted',
        'RefundRequested',
        'RefundBatchSubmitted',
        'RefundBatchCompleted',
      ]),
    );
    for (const { type, count } of events) {
      expect([type, after.get(sample('ledger_events_appended_total', { type }))]).toEqual([
        type,
        Number(count),
      ]);
    }

    // notify_verify: one timed call for each notification that asked it, none failed.
    const asked = await rows<{ count: string }>(
      `SELECT count(*) AS count FROM inbox_notifications WHERE notify_verify ? 'latencyMs'`,
    );
    expect(Number(asked[0].count)).toBeGreaterThanOrEqual(2);
    const gateway = (service: string) =>
      after.get(sample('ledger_alipay_gateway_request_duration_seconds_count', { service }));
    expect(gateway('notify_verify')).toBe(Number(asked[0].count));
    expect(gateway('refund_fastpay_by_platform_nopwd')).toBe(1);
    expect([...family(after, 'ledger_alipay_gateway_errors_total').values()]).toEqual([]);

    // The notify endpoints: one reply timed for each POST, the forgery's included.
    const posted = await rows<{ channel: string; count: string }>(
      `SELECT channel, count(*) AS count FROM inbox_notifications GROUP BY channel`,
    );
    for (const { channel, count } of posted) {
      expect([
        channel,
        after.get(sample('ledger_notification_ingest_duration_seconds_count', { channel })),
      ]).toEqual([channel, Number(count)]);
    }

    // Webhooks to the demo shop: each attempt by type and outcome, as the attempts log holds them.
    const attempts = await rows<{ event_type: string; outcome: string; count: string }>(
      `SELECT m.event_type, a.outcome, count(*) AS count
       FROM webhook_attempts a JOIN webhook_messages m ON m.id = a.message_id GROUP BY 1, 2`,
    );
    expect(attempts.map(({ event_type }) => event_type)).toContain('order.delivery_requested');
    for (const { event_type, outcome, count } of attempts) {
      expect([
        event_type,
        outcome,
        after.get(sample('ledger_webhook_attempts_total', { event_type, outcome })),
      ]).toEqual([event_type, outcome, Number(count)]);
    }

    // The gauges read from the database.
    expect(after.get('ledger_database_up')).toBe(1);
    for (const projection of ['order_status', 'refund_batches', 'fulfilment_outbox', 'refund_batch_work']) {
      expect(after.get(sample('ledger_projection_lag_events', { projection }))).toEqual(expect.any(Number));
      expect(after.get(sample('ledger_projection_lag_seconds', { projection }))).toEqual(expect.any(Number));
    }
    expect(after.get(sample('ledger_projection_lag_events', { projection: 'order_status' }))).toBe(0);
    // The delivered order, partly refunded, waits for a person to decide about the goods.
    expect(family(after, 'ledger_pending_decisions')).toEqual(
      new Map(
        Object.entries({ delivery: 0, shipping: 0, return: 0, return_review: 1, anomaly: 0 }).map(
          ([kind, count]) => [sample('ledger_pending_decisions', { kind }), count],
        ),
      ),
    );
    expect(family(after, 'ledger_refund_batches')).toEqual(
      new Map(
        ['submitted', 'outcome_unknown', 'accepted'].map((state) => [
          sample('ledger_refund_batches', { state }),
          0,
        ]),
      ),
    );
    expect(after.get(sample('ledger_webhook_messages', { state: 'dead' }))).toBe(0);
    expect(after.get('ledger_orders_awaiting_payment_oldest_age_seconds')).toBe(0);
    expect(
      after.get(
        sample('ledger_info', {
          mode: 'demo',
          database: ledger.database.url === undefined ? 'embedded' : 'postgres',
        }),
      ),
    ).toBe(1);
    expect(after.get('ledger_process_cpu_user_seconds_total')).toEqual(expect.any(Number));
  });

  it('reports the age of the oldest order awaiting payment', async () => {
    const outTradeNo = newOutTradeNo('AWAITING');
    await ledger.placeOrder(outTradeNo);
    const samples = await scrape();
    expect(samples.get('ledger_orders_awaiting_payment_oldest_age_seconds')).toBeGreaterThan(0);
  });

  it('still answers, with the counters, when the database does not answer within the budget', async () => {
    const runner = ledger.database.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      // The order status is locked: the scrape's count of pending decisions waits behind it (and on the
      // embedded database, whose connections share one session, every statement does).
      await runner.query('LOCK TABLE order_status IN ACCESS EXCLUSIVE MODE');
      const samples = await scrape();
      expect(samples.get('ledger_database_up')).toBe(0);
      expect(samples.get(sample('ledger_events_appended_total', { type: 'OrderPlaced' }))).toBeGreaterThan(0);
      expect([...family(samples, 'ledger_pending_decisions').keys()]).toEqual([]);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
    expect((await scrape()).get('ledger_database_up')).toBe(1);
  });
});
