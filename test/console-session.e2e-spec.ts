import { advisoryUnlock, tryAdvisoryLock } from '@ledger/platform';
import { describeOnPostgres } from '@ledger/testing';
import {
  ADMIN_TOKEN,
  eventually,
  LedgerUnderTest,
  newOutTradeNo,
  openCashier,
  SandboxUnderTest,
} from './ledger-sandbox.fixture';

// The console's sign-in, session cookie and CSRF defences over plain HTTP (docs/console.md, "Sign-in,
// sessions and CSRF"): what a browser would be made to send by another site, sent by hand.

interface Answer {
  status: number;
  location: string | null;
  setCookie: string | null;
  headers: Headers;
  text: string;
}

describe('the console: sign-in, sessions and CSRF', () => {
  let sandbox: SandboxUnderTest;
  let ledger: LedgerUnderTest;

  async function send(
    method: 'GET' | 'POST',
    path: string,
    options: { cookie?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const response = await fetch(`${ledger.baseUrl}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        ...(options.cookie === undefined ? {} : { cookie: options.cookie }),
        ...(options.form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
        ...options.headers,
      },
      ...(options.form === undefined ? {} : { body: new URLSearchParams(options.form).toString() }),
    });
    return {
      status: response.status,
      location: response.headers.get('location'),
      setCookie: response.headers.get('set-cookie'),
      headers: response.headers,
      text: await response.text(),
    };
  }

  /** Signs in; answers the cookie to send and the session's form token. */
  async function signIn(operator = 'ops-alice'): Promise<{ cookie: string; csrf: string }> {
    const answer = await send('POST', '/console/login', {
      form: { operator, token: ADMIN_TOKEN, next: '/console' },
      headers: { origin: ledger.baseUrl },
    });
    expect(answer.status).toBe(303);
    const cookie = answer.setCookie!.split(';')[0];
    const page = await send('GET', '/console', { cookie });
    expect(page.status).toBe(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    return { cookie, csrf: csrf! };
  }

  /** An instant order paid at the sandbox, its delivery pending (no fulfilment worker). */
  async function paidOrder(): Promise<string> {
    const outTradeNo = newOutTradeNo('CONSOLE-CSRF');
    await openCashier(await ledger.placeOrder(outTradeNo));
    const trade = await sandbox.trade(outTradeNo);
    await sandbox.act(trade.tradeNo, 'pay-instant');
    await eventually(
      `${outTradeNo} paid`,
      () => ledger.order(outTradeNo),
      (order) => order.status === 'paid',
    );
    return outTradeNo;
  }

  const deliveries = async (outTradeNo: string) =>
    (await ledger.history(outTradeNo)).filter((event) => event.type === 'DeliveryCompleted').length;

  beforeAll(async () => {
    sandbox = await SandboxUnderTest.start(1000);
    ledger = await LedgerUnderTest.start('console_session', sandbox, { FULFILMENT_WORKER: 'false' });
  });

  afterAll(async () => {
    await ledger?.close();
    await sandbox?.close();
  });

  it('sends a request without a session to the sign-in page, and serves that page with its own CSP', async () => {
    const orders = await send('GET', '/console');
    expect(orders.status).toBe(303);
    expect(orders.location).toBe('/console/login');
    const order = await send('GET', '/console/orders/ABC-1?x=1');
    expect(order.location).toBe(`/console/login?next=${encodeURIComponent('/console/orders/ABC-1?x=1')}`);

    const login = await send('GET', '/console/login');
    expect(login.status).toBe(200);
    expect(login.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(login.headers.get('content-security-policy')).toContain("style-src 'self'");
    expect(login.headers.get('content-security-policy')).toContain("form-action 'self'");
    expect(login.headers.get('content-security-policy')).not.toContain('script-src');
    expect(login.text).toContain('<meta charset="utf-8"/>');
    const css = await send('GET', '/console/assets/console.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('refuses a wrong token, and exchanges the right one for an HttpOnly, SameSite=Strict cookie on /console', async () => {
    const wrong = await send('POST', '/console/login', {
      form: { operator: 'ops-alice', token: `${ADMIN_TOKEN}x`, next: '/console' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.setCookie).toBeNull();
    expect(wrong.text).toContain('That is not the admin token.');

    const right = await send('POST', '/console/login', {
      form: { operator: 'ops-alice', token: ADMIN_TOKEN, next: '/console/attention' },
    });
    expect(right.status).toBe(303);
    expect(right.location).toBe('/console/attention');
    const attributes = right.setCookie!.split(';').map((part) => part.trim());
    expect(attributes[0]).toMatch(/^ledger_console=[A-Za-z0-9_-]{43}$/);
    expect(attributes).toEqual(
      expect.arrayContaining(['Path=/console', 'HttpOnly', 'SameSite=Strict', 'Max-Age=86400']),
    );
    // Served over http here: Secure would make the browser drop it.
    expect(attributes).not.toContain('Secure');

    // A next page outside the console is not followed.
    const elsewhere = await send('POST', '/console/login', {
      form: { operator: 'ops-alice', token: ADMIN_TOKEN, next: '//evil.example/console' },
    });
    expect(elsewhere.location).toBe('/console');
  });

  it('refuses a name that could not be recorded with an action', async () => {
    const unnamed = await send('POST', '/console/login', { form: { operator: '', token: ADMIN_TOKEN } });
    expect(unnamed.status).toBe(400);
    expect(unnamed.setCookie).toBeNull();
  });

  it('refuses a form posted without the session’s token, with another one, or from another origin, and changes nothing', async () => {
    const outTradeNo = await paidOrder();
    const { cookie, csrf } = await signIn();
    const other = await signIn('ops-bob');
    const action = `/console/orders/${outTradeNo}/delivery`;
    const form = { reason: 'sent by courier', confirmed: 'yes' };

    const without = await send('POST', action, { cookie, form });
    expect(without.status).toBe(403);
    expect(without.text).toContain('the form did not carry its security token');

    const wrong = await send('POST', action, { cookie, form: { ...form, _csrf: other.csrf } });
    expect(wrong.status).toBe(403);
    expect(wrong.text).toContain('a security token of another session');

    const crossOrigin = await send('POST', action, {
      cookie,
      form: { ...form, _csrf: csrf },
      headers: { origin: 'http://evil.example' },
    });
    expect(crossOrigin.status).toBe(403);
    const opaque = await send('POST', action, {
      cookie,
      form: { ...form, _csrf: csrf },
      headers: { origin: 'null' },
    });
    expect(opaque.status).toBe(403);
    const foreignReferer = await send('POST', action, {
      cookie,
      form: { ...form, _csrf: csrf },
      headers: { referer: 'http://evil.example/page' },
    });
    expect(foreignReferer.status).toBe(403);
    expect(await deliveries(outTradeNo)).toBe(0);

    // Without a session, a POST is refused too.
    const signedOut = await send('POST', action, { form: { ...form, _csrf: csrf } });
    expect(signedOut.status).toBe(403);
    expect(await deliveries(outTradeNo)).toBe(0);

    const accepted = await send('POST', action, {
      cookie,
      form: { ...form, _csrf: csrf },
      headers: { origin: ledger.baseUrl },
    });
    expect(accepted.status).toBe(303);
    expect(accepted.location).toBe(`/console/orders/${outTradeNo}`);
    expect(await deliveries(outTradeNo)).toBe(1);
    const delivered = (await ledger.history(outTradeNo)).find((event) => event.type === 'DeliveryCompleted');
    expect(delivered?.data).toMatchObject({
      via: 'operator',
      operator: 'ops-alice',
      reason: 'sent by courier',
    });

    // The flash message is shown once.
    const page = await send('GET', accepted.location!, { cookie });
    expect(page.text).toContain('The delivery is recorded as completed by hand.');
    expect((await send('GET', accepted.location!, { cookie })).text).not.toContain('recorded as completed');
  });

  describe('exports and rebuilds', () => {
    const beijingDate = (at: number) => new Date(at + 8 * 3_600_000).toISOString().slice(0, 10);
    const range = () =>
      `from=${beijingDate(Date.now() - 86_400_000)}&to=${beijingDate(Date.now() + 2 * 86_400_000)}`;
    const rebuildForm = { projection: 'order_status', reason: 'checked by hand', confirmed: 'yes' };

    it('sends a download without a session to the sign-in page, and reads nothing', async () => {
      const path = `/console/exports/download?kind=orders&${range()}&format=csv`;
      const answer = await send('GET', path);
      expect(answer.status).toBe(303);
      expect(answer.location).toBe(`/console/login?next=${encodeURIComponent(path)}`);
      expect(answer.text).toBe('');
    });

    it('downloads an export in a session, and shows the form again with why for a bad range (400)', async () => {
      const outTradeNo = await paidOrder();
      const { cookie } = await signIn();
      const file = await fetch(
        `${ledger.baseUrl}/console/exports/download?kind=orders&${range()}&format=csv`,
        {
          headers: { cookie },
        },
      );
      expect(file.status).toBe(200);
      expect(file.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(file.headers.get('content-disposition')).toMatch(
        /^attachment; filename="ledger-orders-\d{8}-\d{8}\.csv"$/,
      );
      expect(file.headers.get('cache-control')).toBe('no-store');
      const bytes = Buffer.from(await file.arrayBuffer());
      // response.text() would drop the byte order mark: the bytes are read as they came.
      expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
      expect(bytes.toString('utf8')).toContain(`\r\n${outTradeNo},`);

      const reversed = await send(
        'GET',
        `/console/exports/download?kind=orders&from=2024-06-01&to=2024-05-01&format=csv`,
        { cookie },
      );
      expect(reversed.status).toBe(400);
      expect(reversed.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(reversed.text).toContain('to: must be after from');
      expect(reversed.text).toContain('id="export-form"');
      const unknownKind = await send('GET', `/console/exports/download?kind=customers&${range()}`, {
        cookie,
      });
      expect(unknownKind.status).toBe(400);
      expect(unknownKind.text).toContain('kind: &quot;customers&quot; is not one of');
      const badDate = await send('GET', `/console/exports?kind=orders&from=2024-02-30&to=2024-03-01`, {
        cookie,
      });
      expect(badDate.status).toBe(400);
      expect(badDate.text).toContain('from: &quot;2024-02-30&quot; is neither a date');
    });

    it('refuses a rebuild posted without the form token (403), an unknown projection and a missing reason (400)', async () => {
      const { cookie, csrf } = await signIn();
      const without = await send('POST', '/console/projections/rebuild', { cookie, form: rebuildForm });
      expect(without.status).toBe(403);
      expect(without.text).toContain('the form did not carry its security token');

      const unknown = await send('POST', '/console/projections/rebuild', {
        cookie,
        form: { ...rebuildForm, projection: 'orders', _csrf: csrf },
      });
      expect(unknown.status).toBe(400);
      expect(unknown.text).toContain('There is no projection &quot;orders&quot;');
      const unexplained = await send('POST', '/console/projections/rebuild', {
        cookie,
        form: { ...rebuildForm, reason: ' ', _csrf: csrf },
      });
      expect(unexplained.status).toBe(400);
      expect(unexplained.text).toContain('Say why');
    });

    describeOnPostgres('while another session holds the rebuild of order_status', () => {
      it('shows the refusal of the ledger (409) and starts nothing', async () => {
        const { cookie, csrf } = await signIn();
        // The guard a rebuild or a verification of order_status holds (docs/event-store.md, "Rebuild"),
        // taken by another connection as another instance would.
        const guard = { namespace: 'ledger.projector.rebuild', name: 'order_status' };
        const holder = ledger.database.dataSource.createQueryRunner();
        try {
          await expect(tryAdvisoryLock(holder, guard)).resolves.toBe(true);
          const refused = await send('POST', '/console/projections/rebuild', {
            cookie,
            form: { ...rebuildForm, _csrf: csrf },
          });
          expect(refused.status).toBe(409);
          expect(refused.text).toContain(
            'The ledger refused: projection order_status is already being rebuilt or verified',
          );
        } finally {
          await advisoryUnlock(holder, guard);
          await holder.release();
        }
        const page = await send('GET', '/console/projections', { cookie });
        expect(page.text).not.toContain('The rebuild of order_status has started');
        expect(page.text).not.toContain('http-equiv="refresh"');
      });
    });
  });

  it('ends the session at sign-out: the cookie is removed and no longer opens a page', async () => {
    const { cookie, csrf } = await signIn();
    const out = await send('POST', '/console/logout', { cookie, form: { _csrf: csrf } });
    expect(out.status).toBe(303);
    expect(out.location).toBe('/console/login?signedOut=1');
    expect(out.setCookie).toContain('Max-Age=0');
    const after = await send('GET', '/console', { cookie });
    expect(after.status).toBe(303);
    expect(after.location).toBe('/console/login');
  });

  it('refuses every sign-in from an address after ten failures, the right token too, and says when to retry', async () => {
    // The wrong token of the sign-in test above was the first failure of this address.
    for (let failure = 1; failure < 10; failure++) {
      const answer = await send('POST', '/console/login', {
        form: { operator: 'mallory', token: `guess-${failure}` },
      });
      expect(answer.status).toBe(401);
    }
    const refused = await send('POST', '/console/login', {
      form: { operator: 'ops-alice', token: ADMIN_TOKEN },
    });
    expect(refused.status).toBe(429);
    expect(refused.setCookie).toBeNull();
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.text).toContain('Too many failed sign-ins');
  });
});
