import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@ledger/platform';
import { createTestDatabase, type TestDatabase } from '@ledger/testing';
import { createLedgerApp, type LedgerApp } from '../apps/ledger/src/ledger-app';
import { LedgerUnderTest, SandboxUnderTest } from './ledger-sandbox.fixture';

const ROOT = join(__dirname, '..');

function runMain(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/ledger/src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

describe('the ledger boots', () => {
  let database: TestDatabase;
  let ledger: LedgerApp;
  let baseUrl: string;

  beforeAll(async () => {
    database = await createTestDatabase('boot');
    // Warnings and errors are still shown: a boot that logs one is worth a look.
    const config = loadConfig(
      { ADMIN_TOKEN: 'boot-test-admin-token-0000000001', LOG_LEVEL: 'warn' },
      { envFile: false },
    );
    ledger = await createLedgerApp(config, { database });
    await ledger.app.listen(0, '127.0.0.1');
    baseUrl = await ledger.app.getUrl();
  });

  afterAll(async () => {
    await ledger?.close();
    await database?.close();
  });

  it('answers GET /health when the database answers', async () => {
    const response = await fetch(`${baseUrl}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' }, ledger: { status: 'up', mode: 'demo' } },
    });
  });

  it('serves its OpenAPI description at /docs', async () => {
    const response = await fetch(`${baseUrl}/docs-json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths)).toContain('/health');
  });

  it('has applied every migration at start', async () => {
    const pending = await ledger.database.dataSource.showMigrations();
    expect(pending).toBe(false);
  });
});

describe('GET /', () => {
  let sandbox: SandboxUnderTest;

  beforeAll(async () => {
    sandbox = await SandboxUnderTest.start(1000);
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  const hrefs = (html: string) => [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1]);

  it('leads a demo to the order page, the console, the sandbox and the API, each of them served', async () => {
    const ledger = await LedgerUnderTest.start('boot_home_demo', sandbox);
    try {
      const response = await fetch(`${ledger.baseUrl}/`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      const html = await response.text();
      const sandboxHome = `${sandbox.gateway.slice(0, -'/gateway.do'.length)}/`;
      expect(hrefs(html)).toEqual(['/demo', '/console', sandboxHome, '/docs']);

      expect((await fetch(`${ledger.baseUrl}/demo`)).status).toBe(200);
      expect((await fetch(`${ledger.baseUrl}/docs`)).status).toBe(200);
      const trades = await fetch(sandboxHome);
      expect(trades.status).toBe(200);
      expect(await trades.text()).toContain('Trades');
    } finally {
      await ledger.close();
    }
  });

  it('leaves out the pages a demo turned off', async () => {
    const ledger = await LedgerUnderTest.start('boot_home_demo_bare', sandbox, {
      DEMO_PAGE: 'false',
      API_DOCS: 'false',
    });
    try {
      const html = await (await fetch(`${ledger.baseUrl}/`)).text();
      expect(hrefs(html)).not.toContain('/demo');
      expect(hrefs(html)).not.toContain('/docs');
      expect(hrefs(html)).toContain('/console');
    } finally {
      await ledger.close();
    }
  });

  it("sends a live ledger's visitor to the console and says nothing else", async () => {
    const ledger = await LedgerUnderTest.start('boot_home_live', sandbox, {
      LEDGER_MODE: 'live',
      ALIPAY_PARTNER: '2088123456789012',
      ALIPAY_KEY: 'live0key0of0the0merchant00000000',
      PUBLIC_BASE_URL: 'https://shop.example.com',
      EMBEDDED_DATABASE_ACCEPT_DATA_LOSS: 'true',
    });
    try {
      const response = await fetch(`${ledger.baseUrl}/`, { redirect: 'manual' });
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe('/console');
      expect(await response.text()).toBe('');
    } finally {
      await ledger.close();
    }
  });
});

describe('the ledger refuses a bad configuration', () => {
  it('names every bad variable and exits with EX_CONFIG', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-boot-'));
    try {
      const { code, stderr } = await runMain({
        DATA_DIR: dataDir,
        PORT: 'eighty',
        ALIPAY_SIGN_TYPE: 'SHA256',
        ALIPAY_INPUT_CHARSET: 'latin1',
      });
      expect(code).toBe(78);
      expect(stderr).toContain('PORT');
      expect(stderr).toContain('ALIPAY_SIGN_TYPE');
      expect(stderr).toContain('ALIPAY_INPUT_CHARSET');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
