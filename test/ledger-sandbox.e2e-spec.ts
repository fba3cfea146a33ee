import {
  ADMIN_TOKEN,
  countsOf,
  eventually,
  LedgerUnderTest,
  newOutTradeNo,
  openCashier,
  SandboxUnderTest,
  type HistoryEvent,
  type SandboxNotification,
} from './ledger-sandbox.fixture';

// The ledger against the sandbox over HTTP, as in demo mode. Orders are placed with
// POST /orders, paid on the sandbox, notified with Alipay's retries, quirks and chaos, and the ledger's
// admin API must show every fact exactly once.

// Alipay's retries 1000 times faster: 240 ms, 600 ms, 600 ms, 3.6 s, 7.2 s, 21.6 s, 54 s. Slow enough that a
// ledger restart (a second or two) happens in the middle of the schedule, fast enough for a test.
const TIME_SCALE = 1000;

let sandbox: SandboxUnderTest;
let ledger: LedgerUnderTest;

beforeAll(async () => {
  sandbox = await SandboxUnderTest.start(TIME_SCALE);
  ledger = await LedgerUnderTest.start('ledger_sandbox', sandbox);
});

afterAll(async () => {
  await ledger?.close();
  await sandbox?.close();
});

afterEach(async () => {
  await sandbox.chaos({});
});

/** Places an order through the API and opens its cashier: the sandbox now has the trade. */
async function orderAtTheCashier(
  prefix: string,
  service: 'create_direct_pay_by_user' | 'trade_create_by_buyer' = 'create_direct_pay_by_user',
): Promise<{ outTradeNo: string; tradeNo: string }> {
  const outTradeNo = newOutTradeNo(prefix);
  await openCashier(await ledger.placeOrder(outTradeNo, { service }));
  return { outTradeNo, tradeNo: (await sandbox.trade(outTradeNo)).tradeNo };
}

/** The sandbox's notifications about an order once none is waiting any more. */
function allSettled(outTradeNo: string, timeoutMs = 30_000): Promise<SandboxNotification[]> {
  return eventually(
    `every notification about ${outTradeNo} settled`,
    () => sandbox.notifications(outTradeNo),
    (list) => list.length > 0 && list.every((n) => n.state === 'acknowledged' || n.state === 'abandoned'),
    timeoutMs,
  );
}

/**
 * The facts of a finished escrow order, each once. `ShippingConfirmed` is recorded when the gateway's
 * answer is back before Alipay's WAIT_BUYER_CONFIRM_GOODS notification; when the notification wins the
 * race the answer is moot and nothing more is recorded (docs/fulfilment.md). Never a failed confirmation.
 */
function expectEscrowFactsOnce(counts: Record<string, number>, expected: Record<string, number>): void {
  const { ShippingConfirmed: confirmed = 0, ...rest } = counts;
  expect(confirmed).toBeLessThanOrEqual(1);
  expect(rest).toEqual(expected);
}

/** The trade was shipped by exactly one send_goods_confirm_by_platform call, and the sandbox shows it. */
async function expectShippedOnce(outTradeNo: string, tradeNo: string): Promise<void> {
  expect(sandbox.gatewayCalls('send_goods_confirm_by_platform', tradeNo)).toHaveLength(1);
  const trade = await sandbox.trade(outTradeNo);
  expect(trade.gmtSendGoods).toBeDefined();
  const shipped = (await sandbox.notifications(outTradeNo)).filter(
    (n) => n.tradeStatus === 'WAIT_BUYER_CONFIRM_GOODS' && !n.tags.includes('stale'),
  );
  expect(shipped).toHaveLength(1);
}

describe('an instant payment', () => {
  it('is paid once and delivered, though the notification races the return_url', async () => {
    const { outTradeNo, tradeNo } = await orderAtTheCashier('INSTANT');
    const { returnUrl } = await sandbox.act(tradeNo, 'pay-instant');
    expect(returnUrl?.startsWith(`${ledger.baseUrl}/alipay/return?`)).toBe(true);

    // The buyer's browser follows the redirect while the notification is on its way.
    const page = await fetch(returnUrl!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Payment received');

    await eventually(
      `${outTradeNo} delivered`,
      () => ledger.order(outTradeNo),
      (order) => order.delivery.state === 'delivered',
    );
    expect(await ledger.order(outTradeNo)).toMatchObject({
      tradeNo,
      status: 'paid',
      tradeStatus: 'TRADE_SUCCESS',
      paymentType: 'instant',
      paidFee: '12.34',
      anomalies: [],
    });
    const history = await ledger.history(outTradeNo);
    expect(history.map((event) => event.type)).toEqual([
      'OrderPlaced',
      'PaymentSucceeded',
      'DeliveryCompleted',
    ]);
    expect(history[1].data).toMatchObject({ tradeNo, paymentType: 'instant', paidFee: 1234 });

    const [notification, ...more] = await allSettled(outTradeNo);
    expect(more).toHaveLength(0);
    expect(notification).toMatchObject({ tradeStatus: 'TRADE_SUCCESS', state: 'acknowledged' });
    expect(notification.attempts).toMatchObject([{ round: 0, reply: 'success', acknowledged: true }]);
  });
});

describe('an escrow trade', () => {
  it('is paid, shipped by the fulfilment worker once, confirmed by the buyer and finished, paid once', async () => {
    const { outTradeNo, tradeNo } = await orderAtTheCashier('ESCROW', 'trade_create_by_buyer');
    await ledger.historyWith(outTradeNo, 'PaymentAwaited');

    await sandbox.act(tradeNo, 'pay-escrow');
    // The worker delivers, then confirms the shipping with send_goods_confirm_by_platform; the sandbox moves
    // the trade on and notifies WAIT_BUYER_CONFIRM_GOODS.
    await ledger.historyWith(outTradeNo, 'DeliveryCompleted', 'GoodsShipped');
    const trade = await sandbox.trade(outTradeNo);
    expect(trade).toMatchObject({ tradeStatus: 'WAIT_BUYER_CONFIRM_GOODS', paymentType: 'escrow' });
    expect(trade.actions).toContain('confirm-receipt');
    // The history is read from the event store, the order from its projection, which may lag a moment.
    const shipped = await eventually(
      `${outTradeNo} shown shipped`,
      () => ledger.order(outTradeNo),
      (order) => order.status === 'shipped',
    );
    expect(shipped).toMatchObject({ paymentType: 'escrow', delivery: { state: 'delivered' } });

    await sandbox.act(tradeNo, 'confirm-receipt');
    await eventually(
      `${outTradeNo} finished`,
      () => ledger.order(outTradeNo),
      (order) => order.status === 'finished',
    );
    const history = await ledger.history(outTradeNo);
    // One payment: TRADE_FINISHED after escrow is not a second one.
    expectEscrowFactsOnce(countsOf(history), {
      OrderPlaced: 1,
      PaymentAwaited: 1,
      PaymentSucceeded: 1,
      DeliveryCompleted: 1,
      GoodsShipped: 1,
      TradeFinished: 1,
    });
    const payment = history.find((event) => event.type === 'PaymentSucceeded')!;
    expect(payment.data).toMatchObject({ tradeNo, paymentType: 'escrow', paidFee: 1234 });
    expect(history.at(-1)?.type).toBe('TradeFinished');
    await expectShippedOnce(outTradeNo, tradeNo);
    expect(await ledger.order(outTradeNo)).toMatchObject({
      status: 'finished',
      tradeStatus: 'TRADE_FINISHED',
      paidFee: '12.34',
      anomalies: [],
    });

    const notifications = await allSettled(outTradeNo);
    expect(notifications.map((n) => [n.tradeStatus, n.state])).toEqual([
      ['WAIT_BUYER_PAY', 'acknowledged'],
      ['WAIT_SELLER_SEND_GOODS', 'acknowledged'],
      ['WAIT_BUYER_CONFIRM_GOODS', 'acknowledged'],
      ['TRADE_FINISHED', 'acknowledged'],
    ]);
  });
});

describe('a ledger that was down while the sandbox retried', () => {
  it('catches up through the retries after a restart on the same database: nothing lost, nothing doubled', async () => {
    const instant = [
      await orderAtTheCashier('DOWN-A'),
      await orderAtTheCashier('DOWN-B'),
      await orderAtTheCashier('DOWN-C'),
    ];
    const escrow = await orderAtTheCashier('DOWN-E', 'trade_create_by_buyer');
    await ledger.historyWith(escrow.outTradeNo, 'PaymentAwaited');
    const orders = [...instant, escrow];

    await ledger.down();
    for (const { tradeNo } of instant) await sandbox.act(tradeNo, 'pay-instant');
    await sandbox.act(escrow.tradeNo, 'pay-escrow');

    // Each payment notification is refused at the door: its first delivery and its first retry failed.
    const payment = (list: SandboxNotification[]) => list.find((n) => n.tradeStatus !== 'WAIT_BUYER_PAY')!;
    for (const { outTradeNo } of orders) {
      const failing = await eventually(
        `two failed deliveries about ${outTradeNo}`,
        async () => payment(await sandbox.notifications(outTradeNo)),
        (n) => n.attempts.length >= 2,
      );
      expect(failing.state).toBe('scheduled');
      expect(failing.attempts.every((a) => !a.acknowledged && a.error !== undefined)).toBe(true);
    }

    await ledger.up();
    for (const { outTradeNo } of orders) {
      // The next retries come 1.4 s, 5 s, 12 s and 34 s after the payment: a slow restart waits for a later one.
      const notifications = await allSettled(outTradeNo, 60_000);
      expect(notifications.every((n) => n.state === 'acknowledged')).toBe(true);
      const acknowledged = payment(notifications).attempts.filter((a) => a.acknowledged);
      expect(acknowledged).toHaveLength(1);
      expect(acknowledged[0].round).toBeGreaterThanOrEqual(2);
    }
    for (const { outTradeNo } of instant) {
      const order = await eventually(
        `${outTradeNo} delivered after the restart`,
        () => ledger.order(outTradeNo),
        (view) => view.delivery.state === 'delivered',
      );
      expect(order).toMatchObject({ status: 'paid', paidFee: '12.34' });
      expect(countsOf(await ledger.history(outTradeNo))).toEqual({
        OrderPlaced: 1,
        PaymentSucceeded: 1,
        DeliveryCompleted: 1,
      });
    }
    const escrowHistory = await ledger.historyWith(escrow.outTradeNo, 'GoodsShipped');
    expectEscrowFactsOnce(countsOf(escrowHistory), {
      OrderPlaced: 1,
      PaymentAwaited: 1,
      PaymentSucceeded: 1,
      DeliveryCompleted: 1,
      GoodsShipped: 1,
    });
    await expectShippedOnce(escrow.outTradeNo, escrow.tradeNo);
  });
});

describe('chaos: duplicates, reordering and stale statuses', () => {
  it('still records exactly one of each fact per order', async () => {
    await sandbox.chaos({ duplicates: 3, reorderWindow: 2, staleStatuses: true });
    // Two trades, so that reordering always has a second notification to swap with.
    const orders = [
      await orderAtTheCashier('CHAOS-A', 'trade_create_by_buyer'),
      await orderAtTheCashier('CHAOS-B', 'trade_create_by_buyer'),
    ];
    for (const { outTradeNo } of orders) await ledger.historyWith(outTradeNo, 'PaymentAwaited');
    for (const { tradeNo } of orders) await sandbox.act(tradeNo, 'pay-escrow');
    for (const { outTradeNo } of orders) await ledger.historyWith(outTradeNo, 'GoodsShipped');
    for (const { tradeNo } of orders) await sandbox.act(tradeNo, 'confirm-receipt');
    for (const { outTradeNo } of orders) await ledger.historyWith(outTradeNo, 'TradeFinished');

    // Whatever reordering still holds goes out, then every notification must have been acknowledged.
    await sandbox.chaos({});
    await sandbox.api('POST', '/notifications/flush', { all: true });
    for (const { outTradeNo, tradeNo } of orders) {
      const notifications = await allSettled(outTradeNo);
      expect(notifications.every((n) => n.state === 'acknowledged')).toBe(true);
      // The chaos did happen: stale statuses after newer ones, and copies of each first delivery.
      expect(notifications.some((n) => n.tags.includes('stale'))).toBe(true);
      expect(notifications.every((n) => n.attempts.filter((a) => a.round === 0).length === 3)).toBe(true);

      expectEscrowFactsOnce(countsOf(await ledger.history(outTradeNo)), {
        OrderPlaced: 1,
        PaymentAwaited: 1,
        PaymentSucceeded: 1,
        DeliveryCompleted: 1,
        GoodsShipped: 1,
        TradeFinished: 1,
      });
      await expectShippedOnce(outTradeNo, tradeNo);
      const order = await eventually(
        `${outTradeNo} shown finished`,
        () => ledger.order(outTradeNo),
        (view) => view.status === 'finished',
      );
      expect(order).toMatchObject({
        tradeNo,
        status: 'finished',
        paymentType: 'escrow',
        paidFee: '12.34',
        anomalies: [],
      });
    }
  });
});

describe('the demo order page', () => {
  const postForm = (fields: Record<string, string>) =>
    fetch(`${ledger.baseUrl}/demo`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });

  it('places the order as POST /orders does and sends the browser to the cashier', async () => {
    const page = await fetch(`${ledger.baseUrl}/demo`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<form method="post" action="/demo"');

    const response = await postForm({ subject: 'tea <b>set</b>', amount: '12', service: 'escrow' });
    expect(response.status).toBe(303);
    const location = response.headers.get('location')!;
    expect(location.startsWith(`${sandbox.gateway}?`)).toBe(true);
    const outTradeNo = new URL(location).searchParams.get('out_trade_no')!;
    expect(outTradeNo).toMatch(/^DEMO-[0-9]{14}-[0-9a-f]{8}$/);
    expect(await ledger.order(outTradeNo)).toMatchObject({
      status: 'awaiting_payment',
      totalFee: '12.00',
    });
    const [placed] = await ledger.history(outTradeNo);
    expect(placed.data).toMatchObject({
      subject: 'tea <b>set</b>',
      totalFee: 1200,
      service: 'trade_create_by_buyer',
    });

    // The signed request is accepted: the sandbox shows the cashier with the escrow choice.
    const cashier = await openCashier(location);
    expect(cashier).toContain('tea &lt;b&gt;set&lt;/b&gt;');
    expect(cashier).toContain('value="escrow"');
  });

  it('shows a refused order again with the reason, escaped, and places nothing', async () => {
    const newest = await ledger.newestOrder();
    const response = await postForm({ subject: '<script>x</script>', amount: '1.234', service: 'escrow' });
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain('totalFee: must be yuan with two decimals');
    expect(html).toContain('value="&lt;script&gt;x&lt;/script&gt;"');
    expect(html).not.toContain('<script>x');
    expect(response.headers.get('location')).toBeNull();
    expect(await ledger.newestOrder()).toBe(newest);

    const unknown = await postForm({ subject: 'tea', amount: '1.00', service: 'free' });
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('service: choose instant payment or escrow');
  });

  /** Live credentials of a merchant of its own (live mode refuses the demo key), on the test database. */
  const LIVE = {
    LEDGER_MODE: 'live',
    ALIPAY_PARTNER: '2088123456789012',
    ALIPAY_KEY: 'live0key0of0the0merchant00000000',
    PUBLIC_BASE_URL: 'https://shop.example.com',
    EMBEDDED_DATABASE_ACCEPT_DATA_LOSS: 'true',
  };

  it('does not exist in live mode unless DEMO_PAGE=true, and /docs neither unless API_DOCS=true', async () => {
    const live = await LedgerUnderTest.start('ledger_sandbox_live', sandbox, LIVE);
    try {
      expect((await fetch(`${live.baseUrl}/demo`)).status).toBe(404);
      const post = await fetch(`${live.baseUrl}/demo`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'subject=tea&amount=1.00&service=instant',
      });
      expect(post.status).toBe(404);
      expect((await fetch(`${live.baseUrl}/docs`)).status).toBe(404);
      expect((await fetch(`${live.baseUrl}/docs-json`)).status).toBe(404);
    } finally {
      await live.close();
    }
  });

  it('asks for the admin token in live mode with DEMO_PAGE=true, and places nothing without it', async () => {
    const live = await LedgerUnderTest.start('ledger_sandbox_live_page', sandbox, {
      ...LIVE,
      DEMO_PAGE: 'true',
    });
    const post = (fields: Record<string, string>) =>
      fetch(`${live.baseUrl}/demo`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
        redirect: 'manual',
      });
    const order = { subject: 'tea', amount: '1.00', service: 'instant' };
    try {
      const page = await fetch(`${live.baseUrl}/demo`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('name="token"');

      for (const refused of [order, { ...order, token: `${ADMIN_TOKEN}x` }, { ...order, token: '' }]) {
        const response = await post(refused);
        expect(response.status).toBe(401);
        const html = await response.text();
        expect(html).toContain('the admin token is missing or wrong');
        expect(html).not.toContain(ADMIN_TOKEN);
        expect(response.headers.get('location')).toBeNull();
      }
      expect(await live.newestOrder()).toBeUndefined();

      const placed = await post({ ...order, token: ADMIN_TOKEN });
      expect(placed.status).toBe(303);
      expect(placed.headers.get('location')?.startsWith(`${sandbox.gateway}?`)).toBe(true);
      expect(await live.newestOrder()).toMatch(/^DEMO-/);
    } finally {
      await live.close();
    }
  });
});

describe('batch refunds', () => {
  /** An instant order of 12.34, paid and delivered. */
  async function paidOrder(prefix: string): Promise<{ outTradeNo: string; tradeNo: string }> {
    const order = await orderAtTheCashier(prefix);
    await sandbox.act(order.tradeNo, 'pay-instant');
    await eventually(
      `${order.outTradeNo} delivered`,
      () => ledger.order(order.outTradeNo),
      (view) => view.delivery.state === 'delivered',
    );
    return order;
  }

  /** The batch's result is in, and every notification about it and its order was acknowledged. */
  async function completed(batchNo: string, outTradeNo: string) {
    const batch = await eventually(
      `batch ${batchNo} completed`,
      () => ledger.refundBatch(batchNo),
      (view) => view.state === 'completed',
    );
    const [batchNotify, ...more] = await eventually(
      `the result of ${batchNo} acknowledged`,
      () => sandbox.batchNotifications(batchNo),
      (list) => list.length > 0 && list.every((n) => n.state === 'acknowledged'),
    );
    expect(more).toHaveLength(0);
    expect(batchNotify).toMatchObject({ kind: 'batch_refund_notify' });
    expect(batchNotify.url).toBe(`${ledger.baseUrl}/alipay/refund-notify`);
    await allSettled(outTradeNo);
    return batch;
  }

  /**
   * Alipay reports each batch refund twice: the batch's result, and a trade notice with `refund_status`.
   * Both are on the stream (docs/events.md, "One refund, two channels"), but the money is counted once:
   * one batch result per batch, at most one trade notice per refund, and the counted fees add up to the
   * refunded total.
   */
  function expectRefundsCountedOnce(history: HistoryEvent[], batchNos: string[], refundedFen: number) {
    const refunds = history.filter((event) => event.type === 'RefundSucceeded');
    const byBatch = refunds.filter((event) => event.data.channel === 'batch');
    expect(byBatch.map((event) => event.data.batchNo)).toEqual(batchNos);
    expect(refunds.length - byBatch.length).toBeLessThanOrEqual(batchNos.length);
    const counted = refunds.reduce((sum, event) => sum + (event.data.countedFee as number), 0);
    expect(counted).toBe(refundedFen);
    expect(countsOf(history)).toMatchObject({ PaymentSucceeded: 1, TradeClosed: 1 });
    expect(countsOf(history).AnomalyDetected).toBeUndefined();
  }

  /** The order once its projection shows `refundedFee`. */
  function refunded(outTradeNo: string, refundedFee: string) {
    return eventually(
      `${outTradeNo} refunded ${refundedFee}`,
      () => ledger.order(outTradeNo),
      (view) => view.refundedFee === refundedFee,
    );
  }

  it('nopwd: a partial then a full refund, each counted once though Alipay reports it on two channels', async () => {
    const { outTradeNo, tradeNo } = await paidOrder('REFUND-NOPWD');

    const partial = await ledger.refund('nopwd', [{ outTradeNo, amount: '2.34', reason: 'damaged box' }]);
    // Accepted; the sandbox sends the result at once, so it may be in before the answer goes out.
    expect(partial.status).toBe(201);
    expect(['accepted', 'completed']).toContain(partial.json.state);
    const first = await completed(partial.json.batchNo, outTradeNo);
    expect(first).toMatchObject({ successNum: 1, anomalies: [] });
    expect(first.items).toMatchObject([{ outTradeNo, amount: '2.34', result: { code: 'SUCCESS' } }]);
    expect(await refunded(outTradeNo, '2.34')).toMatchObject({
      status: 'partially_refunded',
      paidFee: '12.34',
    });
    expect(await sandbox.trade(outTradeNo)).toMatchObject({
      tradeStatus: 'TRADE_SUCCESS',
      refundedFee: '2.34',
    });

    const rest = await ledger.refund('nopwd', [{ outTradeNo, amount: '10.00', reason: 'returned' }]);
    expect(rest.status).toBe(201);
    expect(['accepted', 'completed']).toContain(rest.json.state);
    await completed(rest.json.batchNo, outTradeNo);
    expect(await refunded(outTradeNo, '12.34')).toMatchObject({ status: 'refunded', anomalies: [] });
    expect(await sandbox.trade(outTradeNo)).toMatchObject({
      tradeStatus: 'TRADE_CLOSED',
      refundedFee: '12.34',
    });

    // Nothing is left to refund: the ledger refuses before asking Alipay.
    const more = await ledger.refund('nopwd', [{ outTradeNo, amount: '0.01', reason: 'again' }]);
    expect(more.status).toBe(409);

    expectRefundsCountedOnce(
      await ledger.history(outTradeNo),
      [partial.json.batchNo, rest.json.batchNo],
      1234,
    );
    expect(sandbox.gatewayCalls('refund_fastpay_by_platform_nopwd')).toHaveLength(2);
    expect((await ledger.order(outTradeNo)).tradeNo).toBe(tradeNo);
  });

  it('pwd: the merchant confirms each batch on the sandbox page; a partial then a full refund', async () => {
    const { outTradeNo } = await paidOrder('REFUND-PWD');

    /** Submits a pwd batch, opens its refund page as the merchant would and confirms it there. */
    async function confirmOnThePage(amount: string): Promise<string> {
      const submitted = await ledger.refund('pwd', [{ outTradeNo, amount, reason: '协商退款' }]);
      expect(submitted).toMatchObject({ status: 201, json: { state: 'submitted' } });
      const page = await fetch(submitted.json.refundUrl!);
      const html = await page.text();
      expect(html).toContain('协商退款');
      const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
      if (action === undefined) throw new Error(`no confirmation form in ${html}`);
      const confirmed = await fetch(new URL(action, page.url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'password=123456&decision=confirm',
        redirect: 'manual',
      });
      expect(confirmed.status).toBe(303);
      return submitted.json.batchNo;
    }

    const partial = await confirmOnThePage('5.00');
    expect(await completed(partial, outTradeNo)).toMatchObject({ successNum: 1 });
    expect(await refunded(outTradeNo, '5.00')).toMatchObject({ status: 'partially_refunded' });

    const full = await confirmOnThePage('7.34');
    expect(await completed(full, outTradeNo)).toMatchObject({ successNum: 1 });
    expect(await refunded(outTradeNo, '12.34')).toMatchObject({ status: 'refunded', anomalies: [] });

    expectRefundsCountedOnce(await ledger.history(outTradeNo), [partial, full], 1234);
  });
});
