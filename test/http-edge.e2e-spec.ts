import { Writable } from 'node:stream';
import { LedgerLogger, loadConfig } from '@ledger/platform';
import { createTestDatabase, type TestDatabase } from '@ledger/testing';
import { createLedgerApp, type LedgerApp } from '../apps/ledger/src/ledger-app';

// docs/operations.md, "The HTTP edge": headers, CORS, request ids, and replies without internals.

const ADMIN_TOKEN = 'http-edge-e2e-admin-token-0123456789abcdef';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

interface Running {
  baseUrl: string;
  logLines: () => Record<string, unknown>[];
  close(): Promise<void>;
}

async function startLedger(database: TestDatabase, env: Record<string, string> = {}): Promise<Running> {
  const raw: string[] = [];
  const logger = new LedgerLogger(
    'debug',
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        raw.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    }),
  );
  const config = loadConfig(
    { LEDGER_MODE: 'demo', ADMIN_TOKEN, FULFILMENT_WORKER: 'false', ...env },
    { envFile: false },
  );
  const ledger: LedgerApp = await createLedgerApp(config, { database, logger });
  await ledger.app.listen(0, '127.0.0.1');
  return {
    baseUrl: await ledger.app.getUrl(),
    logLines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>),
    close: () => ledger.close(),
  };
}

/** What a reply must never show: a stack frame, a source or dependency path. */
const INTERNALS = /\n\s+at |node_modules|\.ts:\d+|\.js:\d+|\/(apps|libs)\//;

describe('the HTTP edge', () => {
  let database: TestDatabase;
  let running: Running;

  beforeAll(async () => {
    database = await createTestDatabase('http_edge');
    running = await startLedger(database);
  });

  afterAll(async () => {
    await running?.close();
    await database?.close();
  });

  it('sends the baseline security headers on JSON replies', async () => {
    const response = await fetch(`${running.baseUrl}/admin/orders`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('x-powered-by')).toBeNull();
    // Served over http here: no HSTS, which would break a plain-http deployment's next visit.
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });

  it("gives the buyer's return page a policy that runs no script and loads nothing", async () => {
    const response = await fetch(`${running.baseUrl}/alipay/return?out_trade_no=x`);
    expect(response.status).toBe(200);
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toContain("form-action 'none'");
    expect(policy).not.toContain('script-src');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('lets the API documentation run its own scripts, and only there', async () => {
    const docs = await fetch(`${running.baseUrl}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-security-policy')).toContain("script-src 'self' 'unsafe-inline'");
    const notDocs = await fetch(`${running.baseUrl}/docsx`);
    expect(notDocs.headers.get('content-security-policy')).not.toContain('script-src');
  });

  it('answers no CORS headers when no origin is configured, preflight or not', async () => {
    const preflight = await fetch(`${running.baseUrl}/orders`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-methods')).toBeNull();
    const read = await fetch(`${running.baseUrl}/admin/orders`, {
      headers: { ...auth, origin: 'https://evil.example' },
    });
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('echoes a plain request id, makes one otherwise, and names it in the log lines of the request', async () => {
    const given = await fetch(`${running.baseUrl}/admin/orders/unknown-order`, {
      headers: { ...auth, 'x-request-id': 'edge-test-4711' },
    });
    expect(given.status).toBe(404);
    expect(given.headers.get('x-request-id')).toBe('edge-test-4711');
    const made = await fetch(`${running.baseUrl}/health`, { headers: { 'x-request-id': 'not a plain id' } });
    const madeId = made.headers.get('x-request-id');
    expect(madeId).toMatch(/^[0-9a-f-]{36}$/);

    // A rejected notification logs a warning from deep inside the pipeline: it carries the id too.
    const forged = await fetch(`${running.baseUrl}/alipay/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': 'edge-notify-0815' },
      body: 'notify_id=n1&sign=abc&sign_type=MD5',
    });
    expect(await forged.text()).toBe('fail');
    // The access line is written when the socket's reply ends.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const lines = running.logLines();
    const accessLine = (requestId: string | null) =>
      lines.find((line) => line.requestId === requestId && line.context === 'HTTP')?.msg;
    expect(accessLine('edge-test-4711')).toMatch(/^GET \/admin\/orders\/unknown-order 404 [\d.]+ ms$/);
    expect(accessLine(madeId)).toMatch(/^GET \/health 200 [\d.]+ ms$/);
    const notifyLines = lines.filter((line) => line.requestId === 'edge-notify-0815');
    expect(notifyLines.map((line) => line.context)).toEqual(expect.arrayContaining(['Ingest', 'HTTP']));
  });

  it('answers a notification the same on the direct path as on the spellings Express routes', async () => {
    // POST /alipay/notify (and with a query) is answered ahead of the router; a trailing slash or another
    // case goes through Express to the same controller: the same reply, headers and stored row.
    const forged = 'notify_id=edge-direct&sign=abc&sign_type=MD5';
    const replies = [];
    for (const path of ['/alipay/notify', '/alipay/notify?from=test', '/alipay/notify/', '/ALIPAY/NOTIFY']) {
      const response = await fetch(`${running.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': 'edge-direct-0001' },
        body: forged,
      });
      replies.push({
        path,
        status: response.status,
        body: await response.text(),
        type: response.headers.get('content-type'),
        noSniff: response.headers.get('x-content-type-options'),
        frames: response.headers.get('x-frame-options'),
        requestId: response.headers.get('x-request-id'),
      });
    }
    for (const reply of replies) {
      expect(reply).toEqual({
        path: reply.path,
        status: 400,
        body: 'fail',
        type: 'text/plain; charset=utf-8',
        noSniff: 'nosniff',
        frames: 'DENY',
        requestId: 'edge-direct-0001',
      });
    }
    const stored = await fetch(`${running.baseUrl}/admin/notifications?notifyId=edge-direct`, {
      headers: auth,
    });
    const rows = (await stored.json()) as { items: { outcome: string }[] };
    expect(rows.items.map((row) => row.outcome)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);

    // Other methods on the path are Express's: not found, as before.
    const get = await fetch(`${running.baseUrl}/alipay/notify`);
    expect(get.status).toBe(404);
  });

  it('answers every kind of bad request with a JSON error and no internals', async () => {
    const requests: Array<[string, RequestInit]> = [
      ['/orders', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{bad' }],
      [
        '/orders',
        {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ subject: 'x'.repeat(300_000) }),
        },
      ],
      [
        '/orders',
        {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json; charset=latin9' },
          body: '{}',
        },
      ],
      [
        '/orders',
        {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: '{"outTradeNo":{"$gt":1}}',
        },
      ],
      ['/admin/orders/%E0%A4%A', { headers: auth }],
      ['/admin/orders?limit=abc', { headers: auth }],
      ['/admin/orders?cursor=%00%ff', { headers: auth }],
      ['/admin/notifications/123456789012345678901234567890', { headers: auth }],
      ['/no/such/route', {}],
      ['/orders', { method: 'DELETE', headers: auth }],
      ['/admin/orders', { headers: { authorization: 'Bearer wrong' } }],
    ];
    for (const [path, init] of requests) {
      const response = await fetch(`${running.baseUrl}${path}`, init);
      const text = await response.text();
      // The path in the compared value names the request that failed.
      expect({ path, clientError: response.status >= 400 && response.status < 500 }).toEqual({
        path,
        clientError: true,
      });
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const body = JSON.parse(text) as { statusCode: number; error: string; message: string };
      expect(body.statusCode).toBe(response.status);
      expect(typeof body.message).toBe('string');
      expect(text).not.toMatch(INTERNALS);
    }
  });
});

describe('the HTTP edge with CORS origins configured', () => {
  let database: TestDatabase;
  let running: Running;

  beforeAll(async () => {
    database = await createTestDatabase('http_edge_cors');
    running = await startLedger(database, { CORS_ORIGINS: 'https://ops.example.com' });
  });

  afterAll(async () => {
    await running?.close();
    await database?.close();
  });

  it('allows the configured origin and no other', async () => {
    const allowed = await fetch(`${running.baseUrl}/orders`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://ops.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://ops.example.com');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');

    const other = await fetch(`${running.baseUrl}/admin/orders`, {
      headers: { ...auth, origin: 'https://evil.example' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
