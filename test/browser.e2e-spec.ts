import { type Browser } from 'playwright-core';
import { describeWithChromium, launchChromium } from './chromium.fixture';
import { countsOf, eventually, LedgerUnderTest, SandboxUnderTest } from './ledger-sandbox.fixture';

// A buyer in headless Chromium places a test order on the demo page, pays it on the sandbox's
// cashier, comes back to the ledger's return page, and the admin API shows the order paid. Debian's
// chromium, driven by playwright-core (which downloads no browser); `npm run test:e2e` installs it first
// (scripts/ensure-chromium.js).

describeWithChromium('browser.e2e-spec', 'the buyer in a browser', () => {
  let sandbox: SandboxUnderTest;
  let ledger: LedgerUnderTest;
  let browser: Browser;

  beforeAll(async () => {
    sandbox = await SandboxUnderTest.start(1000);
    ledger = await LedgerUnderTest.start('browser', sandbox);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await ledger?.close();
    await sandbox?.close();
  });

  it('places an order on the demo page, pays it at the cashier and sees it paid in the ledger', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${ledger.baseUrl}/demo`);
      await page.fill('#subject', '龙井绿茶 <Longjing>');
      await page.fill('#amount', '12.5');
      await page.check('input[name="service"][value="instant"]');
      await Promise.all([page.waitForURL(/\/gateway\.do\?/), page.click('button[type="submit"]')]);

      // The sandbox's cashier, reached by the 303 to the signed payment URL.
      await expect(page.title()).resolves.toContain('Cashier');
      await expect(page.textContent('body')).resolves.toContain('龙井绿茶 <Longjing>');
      await expect(page.textContent('body')).resolves.toContain('¥12.50');
      const outTradeNo = new URL(page.url()).searchParams.get('out_trade_no')!;
      expect(outTradeNo).toMatch(/^DEMO-/);

      // Pay now: the cashier redirects the browser to the ledger's return_url.
      await Promise.all([
        page.waitForURL((url) => url.href.startsWith(`${ledger.baseUrl}/alipay/return?`)),
        page.click('button[name="choice"][value="instant"]'),
      ]);
      await expect(page.textContent('h1')).resolves.toContain('Payment received');
      await expect(page.textContent('body')).resolves.toContain(outTradeNo);
      // A demo's return page leads on: the order in the console, the trade on the sandbox, another order.
      const anchors = await page.locator('nav.demo a').all();
      const links = await Promise.all(anchors.map((anchor) => anchor.getAttribute('href')));
      expect(links).toEqual([
        `/console/orders/${outTradeNo}`,
        expect.stringMatching(/^http:\/\/127\.0\.0\.1:[0-9]+\/trades\/[0-9]+$/),
        '/demo',
      ]);

      const order = await eventually(
        `${outTradeNo} paid and delivered`,
        () => ledger.order(outTradeNo),
        (view) => view.delivery.state === 'delivered',
      );
      expect(order).toMatchObject({ status: 'paid', paymentType: 'instant', paidFee: '12.50' });
      expect(countsOf(await ledger.history(outTradeNo))).toEqual({
        OrderPlaced: 1,
        PaymentSucceeded: 1,
        DeliveryCompleted: 1,
      });

      await Promise.all([page.waitForURL(`${ledger.baseUrl}/demo`), page.click('nav.demo a[href="/demo"]')]);
      await expect(page.textContent('h1')).resolves.toContain('Place a test order');
    } finally {
      await page.close();
    }
  });
});
