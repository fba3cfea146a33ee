import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeText } from '@ledger/alipay-protocol';
import { createLinkstring, createLinkstringUrlencode, logResult, varExport } from '@ledger/legacy-import';
import {
  createTestDatabase,
  newTradeNo,
  signedNotification,
  testDatabaseKind,
  tradeStatusSyncParams,
  type TestDatabase,
} from '@ledger/testing';

// `ledger-cli import-orders` and `import-log` as an operator runs them, on the configured database: the
// dry runs first, the imports, the same again, and the exit codes a script reads.

const ROOT = join(__dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'ledger-import-'));
const T0 = new Date('2016-11-30T02:00:00Z');

function run(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', 'apps/ledger-cli/src/main.ts', ...args],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH, LOG_LEVEL: 'error', LEDGER_MODE: 'demo', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const paid = { outTradeNo: 'cli-A', tradeNo: newTradeNo(), totalFee: '10.00' };
const paidParams = [
  ...signedNotification(
    tradeStatusSyncParams({ ...paid, tradeStatus: 'TRADE_SUCCESS', notifyTime: T0, subject: '充值 a&b=c+d' }),
    undefined,
    'gbk',
  ).params,
];
const tampered = paidParams.map((p) => (p.name === 'subject' ? { ...p, value: '充值 0.01' } : p));
const LOG = encodeText(
  logResult(T0, varExport(paidParams)) +
    logResult(T0, createLinkstringUrlencode(paidParams, 'gbk')) +
    logResult(T0, createLinkstring(tampered)),
  'gbk',
);
const CSV = ['order_no,status,price', `cli-A,8,10.00`, `cli-B,4,2.00`].join('\n');

describe('ledger-cli import-orders and import-log', () => {
  let database: TestDatabase | undefined;
  let env: Record<string, string>;
  const logFile = join(scratch, 'log.txt');
  const csvFile = join(scratch, 'user_order.csv');
  const columns = ['--column', 'out_trade_no=order_no', '--column', 'total_fee=price'];

  beforeAll(async () => {
    if (!LOG.ok) throw new Error('unencodable');
    writeFileSync(logFile, LOG.value);
    writeFileSync(csvFile, CSV);
    if (testDatabaseKind() === 'postgres') {
      database = await createTestDatabase('import_cli');
      env = { DATABASE_URL: database.url! };
    } else {
      env = { DATA_DIR: join(scratch, 'data') };
      expect((await run(['migrate'], env)).code).toBe(0);
    }
  }, 120_000);

  afterAll(async () => {
    await database?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('refuses what it cannot do before touching the database', async () => {
    expect((await run(['import-log'], env)).code).toBe(64);
    expect((await run(['import-log', join(scratch, 'missing.txt')], env)).code).toBe(66);
    expect((await run(['import-orders', '--column', 'colour=red', csvFile], env)).code).toBe(64);
    const noColumn = await run(['import-orders', csvFile], env);
    expect(noColumn).toMatchObject({
      code: 64,
      stderr: expect.stringMatching(/no column "id" for out_trade_no/),
    });
    expect((await run(['import-log', logFile], { ...env, ALIPAY_SIGN_TYPE: 'SHA1' })).code).toBe(78);
  }, 120_000);

  it('places the orders, previews and imports the log, then finds nothing new', async () => {
    const placed = await run(['import-orders', '--place-only', '--json', ...columns, csvFile], env);
    expect(placed.code).toBe(0);
    expect(JSON.parse(placed.stdout).totals).toMatchObject({ rows: 2, placed: 2, errors: 0 });

    const preview = await run(['import-log', '--dry-run', '--json', logFile], env);
    expect(preview.code).toBe(2);
    expect(JSON.parse(preview.stdout).totals).toMatchObject({
      would_apply: 1,
      duplicate: 1,
      would_reject: 1,
    });

    const imported = await run(['import-log', logFile], env);
    expect(imported.code).toBe(2);
    expect(imported.stdout).toMatch(
      /cli-A: 2 verified, 1 rejected last TRADE_SUCCESS, events PaymentSucceeded/,
    );
    expect(imported.stdout).toMatch(/log\.txt:28 rejected \(inbox \d+\) cli-A/);
    expect(imported.stdout).toMatch(
      /totals: 3 entries; 1 applied, 0 with nothing new, 1 rejected, 1 duplicates/,
    );

    const again = await run(['import-log', '--json', logFile], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).totals).toMatchObject({
      applied: 0,
      duplicate: 2,
      already_imported: 1,
      events: 0,
    });

    const statuses = await run(['import-orders', '--json', ...columns, csvFile], env);
    expect(statuses.code).toBe(2);
    const orders = JSON.parse(statuses.stdout).orders as {
      outTradeNo: string;
      status: string;
      disagreements: string[];
    }[];
    expect(orders.map((o) => [o.outTradeNo, o.status, o.disagreements.length])).toEqual([
      ['cli-A', 'explained', 0],
      ['cli-B', 'imported', 1],
    ]);
    const rerun = await run(['import-orders', '--json', ...columns, csvFile], env);
    expect(JSON.parse(rerun.stdout).totals).toMatchObject({
      placed: 0,
      statusesImported: 0,
      alreadyImported: 1,
    });
  }, 300_000);
});
