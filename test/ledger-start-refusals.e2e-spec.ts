import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, freePort, testDatabaseKind, type TestDatabase } from '@ledger/testing';

// The real entry point, started as an operator starts it: every configuration a later step would refuse
// stops the start with EX_CONFIG and one message, before any database is opened (README, Configuration).

const ROOT = join(__dirname, '..');
const EX_CONFIG = 78;

const PARTNER = '2088123456789012';
const KEY = 'live0key0of0the0merchant00000000';
const TOKEN = 'ledger-start-e2e-admin-token-0001';
const DATABASE_URL = 'postgres://ledger:s3cret@db.invalid:5432/ledger';
/** Everything live mode needs except the database. */
const LIVE = { ALIPAY_PARTNER: PARTNER, ALIPAY_KEY: KEY, PUBLIC_BASE_URL: 'https://shop.example.com' };

const scratch = mkdtempSync(join(tmpdir(), 'ledger-start-'));
const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
const PRIVATE_KEY_FILE = join(scratch, 'merchant-private.pem');
writeFileSync(PRIVATE_KEY_FILE, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Child {
  exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  stop(): void;
}

function startMain(env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/ledger/src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, DATA_DIR: join(scratch, 'never-opened'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  return { exited, stdout: () => stdout, stderr: () => stderr, stop: () => child.kill('SIGTERM') };
}

/** The problem lines of a refused start, after checking it was refused for its configuration. */
async function refusal(env: Record<string, string>): Promise<string[]> {
  const child = startMain(env);
  const code = await child.exited;
  const [title, ...lines] = child.stderr().trimEnd().split('\n');
  expect({ code, title }).toEqual({ code: EX_CONFIG, title: 'Invalid configuration:' });
  for (const line of lines) expect(line).toMatch(/^ {2}- /);
  return lines.map((line) => line.slice(4));
}

describe('the ledger refuses to start', () => {
  it('with NODE_ENV=production alone, naming what live mode misses and how to choose the demo', async () => {
    expect(await refusal({ NODE_ENV: 'production' })).toEqual([
      'LEDGER_MODE is unset, and NODE_ENV=production says this is not a trial run, but the live settings ' +
        'are incomplete; missing: ALIPAY_PARTNER, ALIPAY_KEY, PUBLIC_BASE_URL. Give them to run live, or set ' +
        'LEDGER_MODE=demo to run the demo on purpose (the sandbox plays Alipay with the demo key published ' +
        'in the source; no real money)',
    ]);
  });

  it('with a DATABASE_URL and no credentials, without showing the URL', async () => {
    const [problem, ...more] = await refusal({ DATABASE_URL });
    expect(more).toEqual([]);
    expect(problem).toMatch(/^LEDGER_MODE is unset, and DATABASE_URL says this is not a trial run/);
    expect(problem).toContain('missing: ALIPAY_PARTNER, ALIPAY_KEY, PUBLIC_BASE_URL.');
    expect(problem).toContain('set LEDGER_MODE=demo');
    expect(problem).not.toContain('s3cret');
  });

  it('with a partial credential set', async () => {
    const [problem, ...more] = await refusal({ ALIPAY_PARTNER: PARTNER, DATABASE_URL });
    expect(more).toEqual([]);
    expect(problem).toContain('and DATABASE_URL, ALIPAY_PARTNER say this is not a trial run');
    expect(problem).toContain('missing: ALIPAY_KEY, PUBLIC_BASE_URL.');
  });

  it('with LEDGER_MODE=demo and real credentials', async () => {
    expect(await refusal({ LEDGER_MODE: 'demo', ALIPAY_PARTNER: PARTNER, ALIPAY_KEY: KEY })).toEqual([
      "LEDGER_MODE=demo contradicts ALIPAY_PARTNER, ALIPAY_KEY: the demo signs as the sandbox's demo " +
        'merchant with its published MD5 key, never with real credentials; remove them to run the demo, or ' +
        'set LEDGER_MODE=live to use them',
    ]);
  });

  it('in live mode on the embedded database, unless the data loss is accepted', async () => {
    expect(await refusal({ LEDGER_MODE: 'live', ...LIVE })).toEqual([
      'DATABASE_URL is unset: live mode on the embedded database is refused. PGlite does not fsync, so an ' +
        'operating-system crash or a power loss can lose payments after Alipay was answered success, and ' +
        'Alipay never sends them again. Set DATABASE_URL to a PostgreSQL server, or ' +
        'EMBEDDED_DATABASE_ACCEPT_DATA_LOSS=true to accept that loss',
    ]);
  });

  it("with the gateway of Alipay's PHP kit, ending in ?", async () => {
    expect(
      await refusal({ LEDGER_MODE: 'demo', ALIPAY_GATEWAY: 'https://mapi.alipay.com/gateway.do?' }),
    ).toEqual([
      'ALIPAY_GATEWAY="https://mapi.alipay.com/gateway.do?": ALIPAY_GATEWAY must be an http(s) URL without ' +
        'query or fragment, e.g. https://mapi.alipay.com/gateway.do (drop the trailing ? of the value in ' +
        "Alipay's PHP kit)",
    ]);
  });

  it('with reconcile ages out of range, or an awaiting age past the horizon', async () => {
    expect(
      await refusal({
        LEDGER_MODE: 'demo',
        RECONCILE_AWAITING_AFTER_MINUTES: '0',
        RECONCILE_HORIZON_DAYS: '7d',
      }),
    ).toEqual([
      expect.stringMatching(/^RECONCILE_AWAITING_AFTER_MINUTES="0": .* from 1 to 10080/),
      expect.stringMatching(/^RECONCILE_HORIZON_DAYS="7d": .* from 1 to 90/),
    ]);
    expect(
      await refusal({
        LEDGER_MODE: 'demo',
        RECONCILE_AWAITING_AFTER_MINUTES: '2880',
        RECONCILE_HORIZON_DAYS: '2',
      }),
    ).toEqual([expect.stringMatching(/^RECONCILE_AWAITING_AFTER_MINUTES=2880 must be shorter than/)]);
  });

  it('with a 16-character MD5 key, never showing it', async () => {
    const short = 'k0k1k2k3k4k5k6k7';
    const problems = await refusal({ ...LIVE, ALIPAY_KEY: short, DATABASE_URL });
    expect(problems).toEqual([
      'ALIPAY_KEY=(redacted): the key has 16 characters; ALIPAY_KEY must be the MD5 key of the merchant ' +
        'console, exactly 32 letters and digits; during a rotation, several such keys separated by commas, ' +
        'the first one signing',
    ]);
  });

  it("with the merchant's private key given as Alipay's public key", async () => {
    const problems = await refusal({
      ALIPAY_PARTNER: PARTNER,
      ALIPAY_SIGN_TYPE: 'RSA',
      ALIPAY_PRIVATE_KEY_FILE: PRIVATE_KEY_FILE,
      ALIPAY_PUBLIC_KEY_FILE: PRIVATE_KEY_FILE,
      PUBLIC_BASE_URL: 'https://shop.example.com',
      DATABASE_URL,
    });
    expect(problems).toEqual([
      `ALIPAY_PUBLIC_KEY_FILE=${JSON.stringify(PRIVATE_KEY_FILE)}: the file holds a private key; it must ` +
        "hold Alipay's RSA public key (PEM, or its bare base64 DER body, as the merchant console shows it)",
    ]);
  });

  it('with PUBLIC_BASE_URL on localhost in live mode', async () => {
    expect(await refusal({ ...LIVE, PUBLIC_BASE_URL: 'http://localhost:3000', DATABASE_URL })).toEqual([
      'PUBLIC_BASE_URL="http://localhost:3000": in live mode it must be an address Alipay and buyers reach ' +
        '(e.g. https://shop.example.com), not localhost, 127.0.0.0/8, ::1 or 0.0.0.0: notify_url and ' +
        'return_url are built on it',
    ]);
  });

  it('with a pool of 2 connections', async () => {
    const [problem, ...more] = await refusal({ LEDGER_MODE: 'demo', DATABASE_URL, DATABASE_POOL_SIZE: '2' });
    expect(more).toEqual([]);
    expect(problem).toMatch(/^DATABASE_POOL_SIZE="2": DATABASE_POOL_SIZE must be an integer from 4 to 100: /);
    expect(problem).toContain('the projector holds one connection for the life of the process');
  });

  it('with a short admin token, never showing it', async () => {
    expect(await refusal({ ADMIN_TOKEN: 'short-token-1234' })).toEqual([
      'ADMIN_TOKEN=(redacted): ADMIN_TOKEN must be at least 32 printable ASCII characters without spaces ' +
        '(it travels in an Authorization: Bearer header), e.g. the output of: openssl rand -base64 32',
    ]);
  });

  it('with a webhook secret that is not whsec_, and a retry schedule that is not one, never showing the secret', async () => {
    const secret = 'not-a-webhook-secret-at-all';
    const problems = await refusal({
      MERCHANT_WEBHOOK_URL: 'https://shop.example.com/webhooks',
      MERCHANT_WEBHOOK_SECRET: secret,
      MERCHANT_WEBHOOK_RETRY_SCHEDULE: '5s,later',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^MERCHANT_WEBHOOK_SECRET=\(redacted\): must be whsec_ followed by the base64/),
      expect.stringMatching(/^MERCHANT_WEBHOOK_RETRY_SCHEDULE="5s,later": "later" is not a duration/),
    ]);
    expect(problems.join('\n')).not.toContain(secret);
  });
});

/** Polls `/health` until the process answers it. */
async function health(baseUrl: string, child: Child): Promise<Response> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await fetch(`${baseUrl}/health`);
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`no answer: ${child.stderr()}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Whether something accepts TCP connections at `host:port`. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(2_000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
  });
}

describe('the ledger starts', () => {
  let database: TestDatabase | undefined;
  afterAll(async () => database?.close());

  it('in live mode, says so in /health, and serves neither /docs nor /demo', async () => {
    const port = await freePort();
    const where: Record<string, string> = {};
    if (testDatabaseKind() === 'postgres') {
      database = await createTestDatabase('start_live');
      where.DATABASE_URL = database.url!;
    } else {
      where.DATA_DIR = join(scratch, 'live');
      where.EMBEDDED_DATABASE_ACCEPT_DATA_LOSS = 'true';
    }
    const child = startMain({
      ...LIVE,
      ...where,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_TOKEN: TOKEN,
      LOG_LEVEL: 'warn',
    });
    try {
      const baseUrl = `http://127.0.0.1:${port}`;
      const response = await health(baseUrl, child);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        status: 'ok',
        info: { ledger: { status: 'up', mode: 'live', database: testDatabaseKind() } },
      });
      for (const path of ['/docs', '/docs-json', '/demo']) {
        expect({ path, status: (await fetch(`${baseUrl}${path}`)).status }).toEqual({ path, status: 404 });
      }
      if (where.EMBEDDED_DATABASE_ACCEPT_DATA_LOSS) expect(child.stdout()).toContain('PGlite does not fsync');
    } finally {
      child.stop();
      await child.exited;
    }
  });

  it('in demo mode with nothing set, on loopback only, the sandbox beside it', async () => {
    const port = await freePort();
    const child = startMain({ DATA_DIR: join(scratch, 'demo'), PORT: String(port), LOG_LEVEL: 'warn' });
    try {
      const response = await health(`http://127.0.0.1:${port}`, child);
      expect(await response.json()).toMatchObject({
        info: { ledger: { mode: 'demo', database: 'embedded' } },
      });
      expect(await accepts('127.0.0.1', port + 1)).toBe(true);
      const outside = Object.values(networkInterfaces())
        .flat()
        .find((address) => address?.family === 'IPv4' && !address.internal)?.address;
      if (outside !== undefined) {
        expect({
          outside,
          ledger: await accepts(outside, port),
          sandbox: await accepts(outside, port + 1),
        }).toEqual({ outside, ledger: false, sandbox: false });
      }
      expect(child.stdout()).toContain(`Place a test order:   http://127.0.0.1:${port}/demo`);
    } finally {
      child.stop();
      await child.exited;
    }
  });
});
