import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { describeWithChromium, launchChromium } from './chromium.fixture';
import {
  ADMIN_TOKEN,
  eventually,
  LedgerUnderTest,
  newOutTradeNo,
  openCashier,
  SandboxUnderTest,
} from './ledger-sandbox.fixture';

// The operator's console in headless Chromium (docs/console.md), against the ledger and the sandbox: sign in,
// an order's timeline after a payment and a refund, a replay previewed then applied, a delivery completed
// by hand. Debian's chromium driven by playwright-core, as test/browser.e2e-spec.ts does.
//
// With CONSOLE_SCREENSHOTS=1 the test also writes the screenshots of docs/console.md into docs/console/;
// without it nothing is written, so that a test run leaves the working tree as it was.

const SCREENSHOTS =
  process.env.CONSOLE_SCREENSHOTS === '1' ? join(__dirname, '..', 'docs', 'console') : undefined;
const PHONE = { width: 375, height: 812 };
const DESKTOP = { width: 1280, height: 900 };
const SUBJECT = '龙井绿茶 Longjing tea';

describeWithChromium('console.e2e-spec', 'the console in a browser', () => {
  let sandbox: SandboxUnderTest;
  let ledger: LedgerUnderTest;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  async function screenshot(name: string, target: Page = page): Promise<void> {
    if (SCREENSHOTS === undefined) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await target.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  /** `POST /orders` with a Chinese subject; pays it at the sandbox unless told not to. */
  async function order(options: { pay: boolean }): Promise<string> {
    const outTradeNo = newOutTradeNo('CONSOLE');
    const response = await fetch(`${ledger.baseUrl}/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ outTradeNo, subject: SUBJECT, totalFee: '88.00' }),
    });
    expect(response.status).toBe(201);
    const { paymentUrl } = (await response.json()) as { paymentUrl: string };
    await openCashier(paymentUrl);
    if (options.pay) {
      await sandbox.act((await sandbox.trade(outTradeNo)).tradeNo, 'pay-instant');
      await eventually(
        `${outTradeNo} paid`,
        () => ledger.order(outTradeNo),
        (view) => view.status === 'paid',
      );
    }
    return outTradeNo;
  }

  const text = (selector: string) => page.locator(selector).innerText();

  beforeAll(async () => {
    // Alipay's retries at their real pace (the first one after 4 minutes): a notification the ledger
    // answered `fail` stays unapplied for the replay below.
    sandbox = await SandboxUnderTest.start(1);
    ledger = await LedgerUnderTest.start('console', sandbox, { FULFILMENT_WORKER: 'false' });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: DESKTOP, timezoneId: 'Europe/Paris' });
    page = await context.newPage();
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await ledger?.close();
    await sandbox?.close();
  });

  it('signs in: a wrong token is refused, the right one lands on the orders; scripts cannot read the cookie', async () => {
    await page.goto(`${ledger.baseUrl}/console`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
    await page.fill('#operator', 'ops-alice');
    await page.fill('#token', 'not-the-token');
    await screenshot('sign-in');
    await Promise.all([page.waitForURL(/\/console\/login$/), page.click('#sign-in')]);
    await expect(text('[role=alert]')).resolves.toContain('That is not the admin token.');

    await page.fill('#token', ADMIN_TOKEN);
    await Promise.all([page.waitForURL(`${ledger.baseUrl}/console`), page.click('#sign-in')]);
    await expect(text('h1')).resolves.toBe('Orders');
    await expect(text('header')).resolves.toContain('ops-alice');
    await expect(page.locator('header .mode').textContent()).resolves.toBe('demo mode');

    await expect(page.evaluate(() => document.cookie)).resolves.toBe('');
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({
      name: 'ledger_console',
      path: '/console',
      httpOnly: true,
      sameSite: 'Strict',
    });
  });

  it("shows an order's timeline after a payment and a nopwd refund, each event with its notification", async () => {
    const outTradeNo = await order({ pay: true });
    await page.goto(`${ledger.baseUrl}/console?outTradeNo=${outTradeNo}`);
    await expect(text('#totals')).resolves.toContain('1 order(s)');
    await expect(text('#orders')).resolves.toContain(SUBJECT);
    await Promise.all([
      page.waitForURL(/\/console\/orders\//),
      page.click(`#orders a:text("${outTradeNo}")`),
    ]);
    await expect(text('#subject')).resolves.toBe(SUBJECT);

    // The refund: asked on the order, previewed against what it can refund, confirmed.
    await page.fill('#refund-amount', '30.00');
    await page.fill('#refund-reason', '协商退款 partial refund');
    await page.selectOption('#refund-mode', 'nopwd');
    await Promise.all([
      page.waitForURL(/\/console\/refund-batches\/new$/),
      page.click('#action-refund button'),
    ]);
    await expect(text('#preview')).resolves.toContain('¥88.00');
    await expect(text('#preview')).resolves.toContain('协商退款 partial refund');
    await Promise.all([page.waitForURL(/\/console\/orders\//), page.click('#confirm')]);
    await expect(text('.flash-success')).resolves.toMatch(/Refund batch \d+ \(nopwd, ¥30\.00\)/);

    await ledger.historyWith(outTradeNo, 'RefundSucceeded');
    await page.reload();
    const timeline = page.locator('#timeline');
    const shown = await timeline
      .locator(':scope > li')
      .evaluateAll((items) => items.map((item) => item.getAttribute('data-event-type')));
    expect(shown).toEqual((await ledger.history(outTradeNo)).map((event) => event.type));
    expect(shown).toEqual(
      expect.arrayContaining(['OrderPlaced', 'PaymentSucceeded', 'RefundRequested', 'RefundSucceeded']),
    );
    const payment = timeline.locator(':scope > li[data-event-type="PaymentSucceeded"]');
    await expect(payment.innerText()).resolves.toMatch(/notification #\d+ · notify · trade_status_sync/);
    await expect(payment.innerText()).resolves.toContain('answered true');
    await expect(payment.innerText()).resolves.toContain('(UTC+8, Beijing)');
    await payment.locator('summary', { hasText: 'Raw body' }).click();
    await expect(payment.locator('.raw-body').innerText()).resolves.toContain('trade_status=TRADE_SUCCESS');
    const refunded = timeline.locator('li[data-event-type="RefundSucceeded"]').first();
    await expect(refunded.innerText()).resolves.toContain('refund_notify');
    await expect(text('#order')).resolves.toContain('¥30.00');
    await screenshot('order-timeline');

    await page.setViewportSize(PHONE);
    await screenshot('order-phone');
    // At a phone's width the page does not widen: wide tables scroll inside their own box.
    await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(
      PHONE.width,
    );
    await page.setViewportSize(DESKTOP);
  });

  it('previews a replay of a notification whose facts were not recorded, then applies it', async () => {
    const outTradeNo = await order({ pay: false });
    const { dataSource } = ledger.database;
    // The database refuses this order's events once: its payment notification is verified, then fails.
    await dataSource.query(`
      CREATE FUNCTION e2e_refuse_order() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.stream_id = 'order-${outTradeNo}' THEN RAISE EXCEPTION 'e2e: refused'; END IF;
        RETURN NEW;
      END $$`);
    await dataSource.query(
      `CREATE TRIGGER e2e_refuse_order BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION e2e_refuse_order()`,
    );
    try {
      await sandbox.act((await sandbox.trade(outTradeNo)).tradeNo, 'pay-instant');
      await eventually(
        `the payment notification of ${outTradeNo} failed`,
        () => sandbox.notifications(outTradeNo),
        (sent) =>
          sent.some((notification) => notification.attempts.some((attempt) => attempt.reply === 'fail')),
      );
    } finally {
      await dataSource.query(`DROP TRIGGER e2e_refuse_order ON events`);
      await dataSource.query(`DROP FUNCTION e2e_refuse_order()`);
    }

    await page.goto(`${ledger.baseUrl}/console/notifications?outTradeNo=${outTradeNo}&outcome=failed`);
    const rows = page.locator('#notifications tbody tr');
    await expect(rows.count()).resolves.toBe(1);
    await expect(rows.innerText()).resolves.toContain('verified');
    await rows.locator('input[type=checkbox]').check();
    await Promise.all([
      page.waitForURL(/\/console\/notifications\/replay$/),
      page.click('#preview-selected'),
    ]);
    await expect(text('h1')).resolves.toBe('Replay preview');
    await expect(text('#replay-report')).resolves.toMatch(/1 event\(s\) would add|would add/);
    await expect(text('#replay-facts')).resolves.toContain('PaymentSucceeded');
    await expect(ledger.order(outTradeNo)).resolves.toMatchObject({ status: 'awaiting_payment' });
    await screenshot('notifications-replay-preview');

    await Promise.all([page.waitForLoadState(), page.click('#confirm')]);
    await expect(text('h1')).resolves.toBe('Replay applied');
    await expect(text('#replay-events')).resolves.toBe('1');
    await eventually(
      `${outTradeNo} paid`,
      () => ledger.order(outTradeNo),
      (view) => view.status === 'paid',
    );
  });

  it('completes a delivery by hand with a reason, after a confirmation step', async () => {
    const outTradeNo = await order({ pay: true });
    await page.goto(`${ledger.baseUrl}/console/orders/${outTradeNo}`);
    await page.fill('#delivery-reason', '仓库手工发货 shipped from the shop counter');
    await page.fill('#delivery-reference', 'SF1234567890');
    await Promise.all([page.waitForURL(/\/delivery$/), page.click('#action-delivery button')]);
    await expect(text('.confirm')).resolves.toContain('仓库手工发货 shipped from the shop counter');
    // Nothing is recorded before the confirmation.
    expect((await ledger.history(outTradeNo)).map((event) => event.type)).not.toContain('DeliveryCompleted');

    await Promise.all([
      page.waitForURL(`${ledger.baseUrl}/console/orders/${outTradeNo}`),
      page.click('#confirm'),
    ]);
    await expect(text('.flash-success')).resolves.toBe('The delivery is recorded as completed by hand.');
    await expect(text('#decisions')).resolves.toContain('delivered');
    const delivered = page.locator('#timeline li[data-event-type="DeliveryCompleted"]');
    await expect(delivered.innerText()).resolves.toContain('ops-alice');
    await expect(ledger.history(outTradeNo)).resolves.toContainEqual(
      expect.objectContaining({
        type: 'DeliveryCompleted',
        data: expect.objectContaining({
          via: 'operator',
          operator: 'ops-alice',
          reference: 'SF1234567890',
        }),
      }),
    );
    // The action is gone: the order has nothing left to deliver.
    await expect(page.locator('#action-delivery').count()).resolves.toBe(0);
  });

  it('lists what waits for a person, and shows a waiting pwd batch with its records', async () => {
    const outTradeNo = await order({ pay: true });
    const { json } = await ledger.refund('pwd', [
      { outTradeNo, amount: '8.00', reason: '退货 returned goods' },
    ]);
    await page.goto(`${ledger.baseUrl}/console/attention`);
    await expect(text('#batches-waiting')).resolves.toContain(json.batchNo);
    await screenshot('attention');

    await Promise.all([
      page.waitForURL(/\/console\/refund-batches\/\d+$/),
      page.click(`#batches-waiting a:text("${json.batchNo}")`),
    ]);
    await expect(text('#records')).resolves.toContain('退货 returned goods');
    await expect(page.locator('#pwd-url').getAttribute('href')).resolves.toContain(
      'refund_fastpay_by_platform_pwd',
    );
    await screenshot('refund-batch');

    // The merchant never entered the password: the operator cancels it, after a confirmation step.
    await page.fill('#cancel-reason', '商户未输入密码 the password was never entered');
    await Promise.all([page.waitForURL(/\/cancel$/), page.click('#actions button[type="submit"]')]);
    await expect(text('.confirm')).resolves.toContain('the password was never entered');
    await Promise.all([
      page.waitForURL(`${ledger.baseUrl}/console/refund-batches/${json.batchNo}`),
      page.click('#confirm'),
    ]);
    await expect(text('.flash-success')).resolves.toBe(`Batch ${json.batchNo} is cancelled.`);
    await expect(page.locator('#actions form').count()).resolves.toBe(0);
    await page.goto(`${ledger.baseUrl}/console/attention`);
    await expect(text('#batches-waiting')).resolves.not.toContain(json.batchNo);

    await page.goto(`${ledger.baseUrl}/console`);
    await expect(text('#orders')).resolves.toContain(SUBJECT);
    await screenshot('orders');
  });

  it('shows every projection caught up after a payment, and rebuilds one in the background after a confirmation', async () => {
    const outTradeNo = await order({ pay: true });
    const rows = page.locator('#projections tbody tr');
    // The page reads the lag as it is then: read again until the payment is projected everywhere.
    await eventually(
      'every projection caught up',
      async () => {
        await page.goto(`${ledger.baseUrl}/console/projections`);
        return rows.locator('td.lag-events').allInnerTexts();
      },
      (lags) => lags.length === 3 && lags.every((lag) => lag === '0'),
    );
    await expect(
      rows.evaluateAll((items) => items.map((item) => item.getAttribute('data-projection'))),
    ).resolves.toEqual(['order_status', 'refund_batches', 'money_movements']);
    await expect(rows.locator('td.lag-seconds').allInnerTexts()).resolves.toEqual(['0 s', '0 s', '0 s']);
    for (const projecting of await rows.locator('td:nth-child(4)').allInnerTexts()) {
      expect(projecting).toBe('this instance');
    }
    await expect(page.locator('meta[http-equiv="refresh"]').count()).resolves.toBe(0);
    await expect(text('#parked')).resolves.toContain('None: every event applied.');

    const reason = '核对订单状态 checking the order status';
    await page.selectOption('#rebuild-projection', 'order_status');
    await page.fill('#rebuild-reason', reason);
    await Promise.all([page.waitForURL(/\/console\/projections\/rebuild$/), page.click('#rebuild-ask')]);
    await expect(text('h1')).resolves.toBe('Rebuild order_status');
    await expect(text('.confirm')).resolves.toContain(reason);
    await Promise.all([page.waitForURL(`${ledger.baseUrl}/console/projections`), page.click('#confirm')]);
    await expect(text('.flash-success')).resolves.toBe(
      'The rebuild of order_status has started; this page follows its progress.',
    );
    await screenshot('projections');

    // Read without the browser, which reloads the page by itself while the rebuild runs.
    await eventually(
      'the rebuild done',
      async () => (await page.request.get(`${ledger.baseUrl}/console/projections`)).text(),
      (document) =>
        document.includes('data-projection="order_status"') &&
        !document.includes('http-equiv="refresh"') &&
        !document.includes('id="rebuild-running"'),
    );
    await page.goto(`${ledger.baseUrl}/console/projections`);
    await expect(text('tr[data-projection="order_status"] .rebuild-state')).resolves.toBe('none');
    await page.goto(`${ledger.baseUrl}/console?outTradeNo=${outTradeNo}`);
    await expect(text('#totals')).resolves.toContain('1 order(s)');
    await expect(text('#orders')).resolves.toContain(SUBJECT);
  });

  it('downloads a CSV export of the orders equal to the admin API’s, byte for byte', async () => {
    const outTradeNo = await order({ pay: true });
    const beijingDate = (at: number) => new Date(at + 8 * 3_600_000).toISOString().slice(0, 10);
    const from = beijingDate(Date.now() - 86_400_000);
    const to = beijingDate(Date.now() + 2 * 86_400_000);
    await page.goto(`${ledger.baseUrl}/console/exports`);
    await page.selectOption('#export-kind', 'orders');
    await page.fill('#export-from', from);
    await page.fill('#export-to', to);
    await page.selectOption('#export-format', 'csv');
    await Promise.all([page.waitForURL(/\/console\/exports\?/), page.click('#count')]);
    const counted = Number(/(\d+) row/.exec(await text('#export-count'))?.[1]);
    expect(counted).toBeGreaterThan(0);
    await screenshot('exports');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const file = readFileSync(await download.path());
    expect(download.suggestedFilename()).toBe(
      `ledger-orders-${from.replace(/-/g, '')}-${to.replace(/-/g, '')}.csv`,
    );
    expect(file.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const csv = file.toString('utf8');
    expect(csv).toContain(SUBJECT);
    expect(csv).toContain(`\r\n${outTradeNo},`);
    // A header, then the rows counted (no subject here holds a line break).
    expect(csv.split('\r\n').length - 2).toBe(counted);

    const admin = await fetch(`${ledger.baseUrl}/admin/exports/orders?from=${from}&to=${to}&format=csv`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(admin.status).toBe(200);
    expect(Buffer.from(await admin.arrayBuffer()).equals(file)).toBe(true);
  });

  it('signs out: the session ends and the pages ask to sign in again', async () => {
    await Promise.all([
      page.waitForURL(/\/console\/login\?signedOut=1$/),
      page.click('header .signout button'),
    ]);
    await expect(text('[role=status]')).resolves.toContain('You are signed out.');
    await page.goto(`${ledger.baseUrl}/console/attention`);
    expect(new URL(page.url()).pathname).toBe('/console/login');
  });
});
