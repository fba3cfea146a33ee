import { loadConfig } from '@ledger/platform';
import { ProjectionsService } from '@ledger/projections';
import { Reconciler } from '@ledger/processes';
import {
  describeOnPostgres,
  freePort,
  postNotification,
  signedNotification,
  tradeStatusSyncParams,
} from '@ledger/testing';
import { createLedgerApp } from '../apps/ledger/src/ledger-app';
import {
  ADMIN_TOKEN,
  countsOf,
  eventually,
  LedgerUnderTest,
  newOutTradeNo,
  openCashier,
  SandboxUnderTest,
  type SandboxNotification,
} from './ledger-sandbox.fixture';

// Reconciliation against the sandbox (docs/operations.md, "Reconciliation"): Alipay gave up sending
// notifications, or sends one late, or does not know the trade; the ledger asks with single_trade_query,
// keeps each answer on the inbox channel `query` and decides it like a notification.

const TIME_SCALE = 1000;

let sandbox: SandboxUnderTest;
let ledger: LedgerUnderTest;

beforeAll(async () => {
  sandbox = await SandboxUnderTest.start(TIME_SCALE);
  // The scheduled queries are stepped by hand: the loop's pauses are minutes long.
  ledger = await LedgerUnderTest.start('reconcile', sandbox, { RECONCILE_WORKER: 'false' });
});

afterAll(async () => {
  await ledger?.close();
  await sandbox?.close();
});

afterEach(async () => {
  await sandbox.chaos({});
});

interface ReconcileReport {
  dryRun: boolean;
  orders: { outTradeNo: string; answer: string; outcome?: string; events: string[]; inboxId?: number }[];
  totals: Record<string, number>;
  notFound: string[];
}

interface ReconcileStatus {
  schedule: {
    open: number;
    resolved: number;
    paidByQueryWithoutNotification: { total: number; last24h: number };
    notFound: { outTradeNo: string; attempts: number }[];
  };
  oldestAwaitingPayment: { outTradeNo: string; ageSeconds: number } | null;
}

interface InboxItem {
  id: number;
  channel: string;
  outcome: string;
  verified: boolean | null;
  outTradeNo: string | null;
  contentType: string | null;
  outcomeDetail: { reason?: string } | null;
  body: { charset: string; text: string };
}

async function admin<T>(
  target: LedgerUnderTest,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const response = await fetch(`${target.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as T };
}

async function reconcile(body: unknown, target = ledger): Promise<ReconcileReport> {
  const { status, json } = await admin<ReconcileReport>(target, 'POST', '/admin/reconcile', body);
  if (status !== 200) throw new Error(`POST /admin/reconcile: ${status} ${JSON.stringify(json)}`);
  return json;
}

function inbox(outTradeNo: string, channel: string, target = ledger): Promise<InboxItem[]> {
  return admin<{ items: InboxItem[] }>(
    target,
    'GET',
    `/admin/notifications?outTradeNo=${outTradeNo}&channel=${channel}`,
  ).then(({ json }) => json.items);
}

/** As if the order had been placed `minutes` ago: the reconciler enrols orders by their age. */
async function age(outTradeNo: string, minutes: number, target = ledger): Promise<void> {
  await target.database.dataSource.query(
    `UPDATE order_status SET created_at = created_at - $2 * interval '1 minute' WHERE out_trade_no = $1`,
    [outTradeNo, minutes],
  );
}

/** Places an order, opens its cashier and pays it on the sandbox. */
async function paidOnTheSandbox(prefix: string): Promise<{ outTradeNo: string; tradeNo: string }> {
  const outTradeNo = newOutTradeNo(prefix);
  await openCashier(await ledger.placeOrder(outTradeNo));
  const { tradeNo } = await sandbox.trade(outTradeNo);
  await sandbox.act(tradeNo, 'pay-instant');
  return { outTradeNo, tradeNo };
}

describe('Alipay gave up: no notification at all', () => {
  it('the scheduled reconciler pays the order once, from the query alone, and says so', async () => {
    await sandbox.chaos({ dropNotifications: true });
    const { outTradeNo } = await paidOnTheSandbox('rc-drop');
    const dropped = await sandbox.notifications(outTradeNo);
    expect(dropped.every((n: SandboxNotification) => n.state === 'abandoned')).toBe(true);
    expect((await ledger.order(outTradeNo)).status).toBe('awaiting_payment');

    // Not yet old enough: nothing is asked.
    const reconciler = ledger.nest.get(Reconciler);
    await reconciler.runOnce();
    expect(
      sandbox.gatewayCalls('single_trade_query').filter((c) => c.params.out_trade_no === outTradeNo),
    ).toEqual([]);

    await age(outTradeNo, 20);
    expect(await reconciler.runOnce()).toBeGreaterThanOrEqual(1);
    const history = await ledger.historyWith(outTradeNo, 'PaymentSucceeded');
    expect(countsOf(history).PaymentSucceeded).toBe(1);
    expect(history.find((e) => e.type === 'PaymentSucceeded')?.data).toMatchObject({ source: 'query' });
    await eventually(
      'the order paid',
      () => ledger.order(outTradeNo),
      (order) => order.status === 'paid',
    );

    const [answer] = await inbox(outTradeNo, 'query');
    expect(answer).toMatchObject({
      channel: 'query',
      outcome: 'applied',
      verified: true,
      contentType: 'text/xml',
    });
    expect(answer.body.text).toContain('<is_success>T</is_success>');

    // Resolved: a later pass does not ask again, and a second run on demand adds nothing.
    const asked = sandbox.gatewayCalls('single_trade_query').length;
    await reconciler.runOnce();
    expect(sandbox.gatewayCalls('single_trade_query').length).toBe(asked);
    const again = await reconcile({ outTradeNos: [outTradeNo] });
    expect(again.orders).toEqual([
      expect.objectContaining({ answer: 'found', outcome: 'no_new_fact', events: [] }),
    ]);
    expect(countsOf(await ledger.history(outTradeNo)).PaymentSucceeded).toBe(1);

    const { json: status } = await admin<ReconcileStatus>(ledger, 'GET', '/admin/reconcile');
    expect(status.schedule.paidByQueryWithoutNotification.total).toBeGreaterThanOrEqual(1);
    expect(status.schedule.paidByQueryWithoutNotification.last24h).toBeGreaterThanOrEqual(1);
  });
});

describeOnPostgres('two ledgers on one PostgreSQL', () => {
  it('share the schedule: each due order is asked about once, and paid once', async () => {
    const port = await freePort();
    const second = await createLedgerApp(
      loadConfig(
        {
          LEDGER_MODE: 'demo',
          ADMIN_TOKEN,
          ALIPAY_GATEWAY: sandbox.gateway,
          LOG_LEVEL: 'fatal',
          RECONCILE_WORKER: 'false',
          DATABASE_URL: ledger.database.url!,
          PORT: String(port),
        },
        { envFile: false },
      ),
    );
    try {
      // Bootstrapped, as listening would: the command handlers register then.
      await second.app.init();
      await sandbox.chaos({ dropNotifications: true });
      const orders: string[] = [];
      for (let i = 0; i < 6; i++) orders.push((await paidOnTheSandbox(`rc-shared-${i}`)).outTradeNo);
      for (const outTradeNo of orders) await age(outTradeNo, 30);

      await Promise.all([ledger.nest.get(Reconciler).runOnce(), second.app.get(Reconciler).runOnce()]);
      for (const outTradeNo of orders) {
        const asked = sandbox
          .gatewayCalls('single_trade_query')
          .filter((c) => c.params.out_trade_no === outTradeNo);
        expect({ outTradeNo, asked: asked.length }).toEqual({ outTradeNo, asked: 1 });
        expect(countsOf(await ledger.history(outTradeNo)).PaymentSucceeded).toBe(1);
      }
    } finally {
      await second.close();
    }
  });
});

describe('a notification that could not be verified', () => {
  it('puts its order on the schedule at once, young as it is, and the query pays it', async () => {
    await sandbox.chaos({ dropNotifications: true });
    const { outTradeNo, tradeNo } = await paidOnTheSandbox('rc-unverified');
    // What reached the ledger is not Alipay's: signed with another key, it is rejected and answered fail.
    const forged = signedNotification(
      tradeStatusSyncParams({ outTradeNo, tradeNo, tradeStatus: 'TRADE_SUCCESS', totalFee: '12.34' }),
      `forged${'0'.repeat(26)}`,
    );
    expect(await postNotification(`${ledger.baseUrl}/alipay/notify`, forged)).toMatchObject({ text: 'fail' });

    await ledger.nest.get(Reconciler).runOnce();
    const history = await ledger.historyWith(outTradeNo, 'PaymentSucceeded');
    expect(countsOf(history).PaymentSucceeded).toBe(1);
    expect(history.find((e) => e.type === 'PaymentSucceeded')?.data).toMatchObject({
      source: 'query',
      tradeNo,
    });
  });
});

describe('a notification that comes after the query', () => {
  it('adds nothing: the payment the query recorded is the one it reports (no_new_fact)', async () => {
    // Held until flushed: Alipay is late.
    await sandbox.chaos({ reorderWindow: 100 });
    const { outTradeNo } = await paidOnTheSandbox('rc-late');

    const dry = await reconcile({ outTradeNos: [outTradeNo], dryRun: true });
    expect(dry.orders).toEqual([
      expect.objectContaining({ answer: 'found', outcome: 'applied', events: ['PaymentSucceeded'] }),
    ]);
    expect(await inbox(outTradeNo, 'query')).toEqual([]);
    expect(countsOf(await ledger.history(outTradeNo)).PaymentSucceeded).toBeUndefined();

    const report = await reconcile({ outTradeNos: [outTradeNo] });
    expect(report.totals.paid).toBe(1);
    expect(report.orders[0]).toMatchObject({
      answer: 'found',
      outcome: 'applied',
      events: ['PaymentSucceeded'],
    });

    await sandbox.api('POST', '/notifications/flush', { all: true });
    const notified = await eventually(
      'the late notification processed',
      () => inbox(outTradeNo, 'notify'),
      (items) => items.length > 0 && items.every((item) => item.outcome !== 'received'),
    );
    expect(notified.map((item) => item.outcome)).toEqual(notified.map(() => 'no_new_fact'));
    const history = await ledger.history(outTradeNo);
    expect(countsOf(history).PaymentSucceeded).toBe(1);
    expect(history.find((e) => e.type === 'PaymentSucceeded')?.data).toMatchObject({ source: 'query' });
  });

  it('adds nothing when the notification came first: the query finds the same payment', async () => {
    const { outTradeNo } = await paidOnTheSandbox('rc-first');
    await ledger.historyWith(outTradeNo, 'PaymentSucceeded');
    const report = await reconcile({ outTradeNos: [outTradeNo] });
    expect(report.orders[0]).toMatchObject({ answer: 'found', outcome: 'no_new_fact', events: [] });
    const history = await ledger.history(outTradeNo);
    expect(countsOf(history).PaymentSucceeded).toBe(1);
    expect(history.find((e) => e.type === 'PaymentSucceeded')?.data).toMatchObject({ source: 'notify' });
  });
});

describe('on demand, by time range', () => {
  it('asks about the orders placed in [from, to) that still await payment, and no others', async () => {
    await sandbox.chaos({ dropNotifications: true });
    const from = new Date();
    const { outTradeNo } = await paidOnTheSandbox('rc-range');
    const to = new Date(Date.now() + 1000);
    const report = await reconcile({ from: from.toISOString(), to: to.toISOString() });
    expect(report.orders.map((order) => order.outTradeNo)).toEqual([outTradeNo]);
    expect(report.orders[0]).toMatchObject({ answer: 'found', events: ['PaymentSucceeded'] });
    await eventually(
      'the order paid',
      () => ledger.order(outTradeNo),
      (order) => order.status === 'paid',
    );
    const again = await reconcile({ from: from.toISOString(), to: to.toISOString() });
    expect(again.orders).toEqual([]);
  });
});

describe('TRADE_IS_NOT_EXIST', () => {
  it('closes nothing for an old unpaid order: it is kept, reported, and asked about again later', async () => {
    // Placed, never taken to the cashier: Alipay has no trade.
    const outTradeNo = newOutTradeNo('rc-none');
    await ledger.placeOrder(outTradeNo);
    await age(outTradeNo, 60);
    await ledger.nest.get(Reconciler).runOnce();

    const [answer] = await inbox(outTradeNo, 'query');
    expect(answer).toMatchObject({
      outcome: 'rejected',
      verified: null,
      outcomeDetail: { reason: 'trade_not_found' },
    });
    expect(answer.body.text).toContain('TRADE_IS_NOT_EXIST');
    expect((await ledger.history(outTradeNo)).map((e) => e.type)).toEqual(['OrderPlaced']);
    expect((await ledger.order(outTradeNo)).status).toBe('awaiting_payment');

    const { json: status } = await admin<ReconcileStatus>(ledger, 'GET', '/admin/reconcile');
    expect(status.schedule.notFound).toContainEqual(expect.objectContaining({ outTradeNo, attempts: 1 }));
    expect(status.oldestAwaitingPayment?.ageSeconds).toBeGreaterThanOrEqual(60 * 60);

    const report = await reconcile({ outTradeNos: [outTradeNo] });
    expect(report.notFound).toEqual([outTradeNo]);
    expect(report.orders[0]).toMatchObject({ answer: 'not_found', outcome: 'rejected', events: [] });
  });

  it('refuses a selection that is not exactly one of outTradeNos or from with to, with the reason', async () => {
    const cases: [unknown, RegExp][] = [
      [{}, /exactly one of outTradeNos, or from with to/],
      [{ outTradeNos: ['a'], from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z' }, /exactly one/],
      [{ from: '2024-01-01T00:00:00Z' }, /to: a time range needs both/],
      [{ from: '2024-01-02T00:00:00Z', to: '2024-01-01T00:00:00Z' }, /to: must be after from/],
      [{ outTradeNos: ['bad no'] }, /order numbers of 1 to 64/],
      [{ outTradeNos: [] }, /at least one/],
      [{ outTradeNos: ['a'], dryRun: 'yes' }, /true or false/],
    ];
    for (const [body, message] of cases) {
      const { status, json } = await admin<{ message: string }>(ledger, 'POST', '/admin/reconcile', body);
      expect({ body, status }).toEqual({ body, status: 400 });
      expect(JSON.stringify(json)).toMatch(message);
    }
    const unauthorised = await fetch(`${ledger.baseUrl}/admin/reconcile`);
    expect(unauthorised.status).toBe(401);
  });

  it('asks about an order placed a moment ago that the projection does not show yet', async () => {
    const projections = ledger.nest.get(ProjectionsService);
    // A stopped projector: order_status will not show the order; its stream does.
    await projections.beforeApplicationShutdown();
    try {
      const outTradeNo = newOutTradeNo('rc-unprojected');
      await openCashier(await ledger.placeOrder(outTradeNo));
      const shown = await ledger.database.dataSource.query(
        `SELECT 1 FROM order_status WHERE out_trade_no = $1`,
        [outTradeNo],
      );
      expect(shown).toEqual([]);
      const report = await ledger.nest.get(Reconciler).reconcile({ outTradeNos: [outTradeNo] }, true);
      expect(report.orders).toEqual([expect.objectContaining({ outTradeNo, answer: 'found' })]);
      expect(
        sandbox.gatewayCalls('single_trade_query').some((c) => c.params.out_trade_no === outTradeNo),
      ).toBe(true);
    } finally {
      await projections.onApplicationBootstrap();
    }
  });

  it('reports an order the ledger never placed without asking Alipay', async () => {
    const outTradeNo = newOutTradeNo('rc-unknown');
    const report = await reconcile({ outTradeNos: [outTradeNo] });
    expect(report.orders).toEqual([{ outTradeNo, answer: 'unknown_order', events: [] }]);
    expect(sandbox.gatewayCalls('single_trade_query').some((c) => c.params.out_trade_no === outTradeNo)).toBe(
      false,
    );
  });
});

describe('a GBK merchant', () => {
  it('reads the GBK answer, verifies it and pays the order once', async () => {
    const gbk = await LedgerUnderTest.start('reconcile_gbk', sandbox, {
      RECONCILE_WORKER: 'false',
      ALIPAY_INPUT_CHARSET: 'gbk',
    });
    try {
      await sandbox.chaos({ dropNotifications: true });
      const outTradeNo = newOutTradeNo('rc-gbk');
      const response = await fetch(`${gbk.baseUrl}/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ outTradeNo, subject: '测试商品', totalFee: '12.34' }),
      });
      expect(response.status).toBe(201);
      const { paymentUrl } = (await response.json()) as { paymentUrl: string };
      await openCashier(paymentUrl);
      await sandbox.act((await sandbox.trade(outTradeNo)).tradeNo, 'pay-instant');

      const report = await reconcile({ outTradeNos: [outTradeNo] }, gbk);
      expect(report.orders[0]).toMatchObject({
        answer: 'found',
        outcome: 'applied',
        events: ['PaymentSucceeded'],
      });
      const [answer] = await inbox(outTradeNo, 'query', gbk);
      expect(answer).toMatchObject({ verified: true, body: { charset: 'gbk' } });
      expect(answer.body.text).toContain('测试商品');
      expect(answer.body.text).toContain('encoding="GBK"');
    } finally {
      await gbk.close();
    }
  });
});
