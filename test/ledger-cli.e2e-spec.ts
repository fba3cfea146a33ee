import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatBeijingTime } from '@ledger/alipay-protocol';
import { openDatabase, loadConfig, type DatabaseSession } from '@ledger/platform';
import {
  createTestDatabase,
  csvObjects,
  newNotifyId,
  newTradeNo,
  parseCsv,
  postNotification,
  signedNotification,
  startFakeAlipayGateway,
  testDatabaseKind,
  tradeStatusSyncParams,
  type FakeAlipayGateway,
  type TestDatabase,
} from '@ledger/testing';
import { createLedgerApp, type LedgerApp } from '../apps/ledger/src/ledger-app';
import { adminClient } from './admin-client.fixture';

// `npx ledger` as an operator and a script run it: the built binary (bin/ledger.js) on the configured
// database, next to a ledger that took payments and a refund; its help, its JSON, its exit codes, and what
// `status`, `replay`, `rebuild`, `export` and `verify` find (docs/operations.md, "The CLI", "Exports").

jest.setTimeout(300_000);

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'bin', 'ledger.js');
const TOKEN = 'ledger-cli-e2e-admin-token-000001';
const scratch = mkdtempSync(join(tmpdir(), 'ledger-cli-'));
const FORGED_KEY = `forged-key-${'0'.repeat(21)}`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], {
    // Away from the worktree: no developer's .env is read.
    cwd: scratch,
    env: { PATH: process.env.PATH, LEDGER_MODE: 'demo', LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr }));
  });
}

const json = <T = Record<string, unknown>>(run: Run): T => JSON.parse(run.stdout) as T;

/** An instant in Beijing time with the zone, as the exports write it. */
const beijing = (iso: string) => `${formatBeijingTime(new Date(iso))}+08:00`;

interface OrderView {
  outTradeNo: string;
  tradeNo: string | null;
  subject: string | null;
  status: string | null;
  tradeStatus: string | null;
  totalFee: string | null;
  paidFee: string;
  refundedFee: string;
  buyerId: string | null;
  buyerEmail: string | null;
}

interface HistoryEvent {
  type: string;
  data: Record<string, unknown>;
}

interface BatchView {
  batchNo: string;
  items: { outTradeNo: string | null; result: { amount: string; code: string; outcome: string } | null }[];
}

describe('npx ledger', () => {
  let database: TestDatabase | undefined;
  let env: Record<string, string>;
  let gateway: FakeAlipayGateway;
  let ledger: LedgerApp | undefined;
  let baseUrl: string;

  /** Runs SQL on the ledger's database from this process: on the embedded one, only while no one has it. */
  async function onDatabase(work: (session: DatabaseSession) => Promise<unknown>): Promise<void> {
    if (database !== undefined) {
      await work(database.dataSource);
      return;
    }
    const opened = await openDatabase({ dataDir: env.DATA_DIR });
    try {
      await work(opened.dataSource);
    } finally {
      await opened.close();
    }
  }

  async function startLedger(): Promise<void> {
    const config = loadConfig(
      {
        LEDGER_MODE: 'demo',
        ADMIN_TOKEN: TOKEN,
        ALIPAY_GATEWAY: gateway.url,
        LOG_LEVEL: 'fatal',
        // Deliveries would add events while the CLI reads; these tests read exact streams.
        FULFILMENT_WORKER: 'false',
        ...env,
      },
      { envFile: false },
    );
    ledger = await createLedgerApp(config);
    await ledger.app.listen(0, '127.0.0.1');
    baseUrl = await ledger.app.getUrl();
  }
  async function stopLedger(): Promise<void> {
    await ledger?.close();
    ledger = undefined;
  }
  const { call, get } = adminClient(() => baseUrl, TOKEN);

  beforeAll(async () => {
    // The binary the package's `bin` runs, built from these sources (again only when they changed since).
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.js'), 'ledger-cli'], {
      cwd: ROOT,
      stdio: 'ignore',
    });
    gateway = await startFakeAlipayGateway();
    if (testDatabaseKind() === 'postgres') {
      database = await createTestDatabase('ledger_cli', { migrated: false });
      env = { DATABASE_URL: database.url! };
    } else {
      env = { DATA_DIR: join(scratch, 'data') };
    }
  });
  afterAll(async () => {
    await stopLedger();
    await gateway?.close();
    await database?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  describe('before anything is opened', () => {
    it('explains itself: every command, the global options and the exit codes', async () => {
      const help = await cli(['--help'], env);
      expect(help.code).toBe(0);
      for (const command of [
        'migrate',
        'status',
        'replay',
        'rebuild',
        'reconcile',
        'export',
        'verify',
        'import-log',
        'import-orders',
        'purge-unverified',
      ]) {
        expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
      }
      expect(help.stdout).toContain('--json');
      expect(help.stdout).toMatch(
        /^ {2}78 {2}the configuration is invalid, or the database has pending migrations/m,
      );

      for (const command of ['status', 'replay', 'rebuild', 'export', 'verify', 'reconcile', 'migrate']) {
        const commandHelp = await cli([command, '--help'], env);
        expect(commandHelp.code).toBe(0);
        expect(commandHelp.stdout).toMatch(new RegExp(`^Usage: ledger ${command}`));
        expect(commandHelp.stdout).toContain('Global Options:');
        expect(commandHelp.stdout).toContain('Exit codes');
      }
      expect((await cli(['help', 'export'], env)).stdout).toContain('--output <file>');
    });

    it.each([
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['status', '--colour'], /unknown option '--colour'/],
      [
        ['export', 'invoices', '--from', '2024-05-01', '--to', '2024-06-01'],
        /kind: "invoices" is not one of/,
      ],
      [['export', 'orders', '--from', '2024-05-01'], /required option '--to/],
      [['export', 'orders', '--from', '2024-05-02', '--to', '2024-05-01'], /to: must be after from/],
      [
        ['rebuild', 'orders'],
        /no projection "orders"; one of order_status, refund_batches, money_movements, or all/,
      ],
      [['replay', '--all', '--id', '3'], /exactly one of --all/],
      [['replay', '--id', 'x'], /--id "x": an inbox id/],
      [['reconcile'], /give --order/],
    ])('refuses %j with 64 and the reason', async (args, message) => {
      const run = await cli(args, env);
      expect(run).toMatchObject({ code: 64, stdout: '', stderr: expect.stringMatching(message) });
    });

    it('reports a usage error as JSON too with --json', async () => {
      const run = await cli(['--json', 'rebuild', 'orders'], env);
      expect(run.code).toBe(64);
      expect(json(run)).toEqual({
        error: { code: 'USAGE', message: expect.stringMatching(/no projection/) },
      });
    });

    it('says 69 when the database cannot be reached, 78 for a bad configuration', async () => {
      const unreachable = await cli(['status'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/ledger' });
      expect(unreachable).toMatchObject({ code: 69, stderr: expect.stringMatching(/could not connect/) });
      expect((await cli(['status'], { ...env, ALIPAY_SIGN_TYPE: 'SHA1' })).code).toBe(78);
    });

    it('refuses a schema with pending migrations (78), then migrates it', async () => {
      const refused = await cli(['--json', 'status'], env);
      expect(refused.code).toBe(78);
      expect(json(refused)).toEqual({
        error: { code: 'PENDING_MIGRATIONS', message: expect.stringMatching(/run `ledger migrate` first/) },
      });
      expect((await cli(['migrate', '--status'], env)).code).toBe(1);

      const migrated = await cli(['migrate', '--json'], env);
      expect(migrated.code).toBe(0);
      expect(json<{ applied: string[] }>(migrated).applied).toContain('MoneyMovements1732000000320');
      expect(await cli(['migrate', '--status', '--json'], env)).toMatchObject({
        code: 0,
        stdout: '{\n  "pending": []\n}\n',
      });
      expect((await cli(['migrate:status'], env)).stdout).toBe('no pending migrations\n');
    });
  });

  describe('after payments and a refund', () => {
    const orders = [
      { outTradeNo: 'CLI-TEA-1', subject: '龙井绿茶 250g', totalFee: '128.00' },
      { outTradeNo: 'CLI-TEA-2', subject: '碧螺春, "特级" 礼盒', totalFee: '9.90' },
      { outTradeNo: 'CLI-TEA-3', subject: '=1+1 普洱茶饼', totalFee: '50.00' },
    ];
    const tradeNos = new Map<string, string>();
    let batchNo: string;
    let lateInboxId: number;
    let views: Map<string, OrderView & { history: HistoryEvent[] }>;
    let batch: BatchView;
    let httpCsv: string;
    let range: { from: string; to: string };

    beforeAll(async () => {
      await startLedger();
      const notify = async (outTradeNo: string, totalFee: string, key?: string) => {
        if (!tradeNos.has(outTradeNo)) tradeNos.set(outTradeNo, newTradeNo());
        const params = tradeStatusSyncParams({
          outTradeNo,
          tradeNo: tradeNos.get(outTradeNo)!,
          tradeStatus: 'TRADE_SUCCESS',
          totalFee,
          buyerEmail: 'buyer@example.com',
        });
        return postNotification(`${baseUrl}/alipay/notify`, signedNotification(params, key));
      };
      for (const order of orders) {
        expect((await call('POST', '/orders', order)).status).toBe(201);
        expect((await notify(order.outTradeNo, order.totalFee)).text).toBe('success');
      }
      // Refused: not signed with the merchant's key.
      expect((await notify('CLI-TEA-1', '128.00', FORGED_KEY)).text).toBe('fail');
      // Paid before it was placed: an anomaly now, a payment once replayed.
      expect((await notify('CLI-LATE', '20.00')).text).toBe('success');
      expect(
        (await call('POST', '/orders', { outTradeNo: 'CLI-LATE', subject: '晚到的茶', totalFee: '20.00' }))
          .status,
      ).toBe(201);
      const { items } = await get<{ items: { id: number }[] }>('/admin/notifications?outTradeNo=CLI-LATE');
      lateInboxId = items[0].id;
      // Placed, not paid.
      expect(
        (await call('POST', '/orders', { outTradeNo: 'CLI-WAIT', subject: '待付款', totalFee: '1.00' }))
          .status,
      ).toBe(201);

      const refund = await call('POST', '/refunds', {
        mode: 'nopwd',
        items: [{ outTradeNo: 'CLI-TEA-1', amount: '30.00', reason: '退货' }],
      });
      expect(refund.status).toBe(201);
      batchNo = ((await refund.json()) as { batchNo: string }).batchNo;
      const result = signedNotification({
        notify_time: formatBeijingTime(new Date()),
        notify_type: 'batch_refund_notify',
        notify_id: newNotifyId(),
        batch_no: batchNo,
        success_num: '1',
        result_details: `${tradeNos.get('CLI-TEA-1')}^30.00^SUCCESS`,
      });
      expect((await postNotification(`${baseUrl}/alipay/refund-notify`, result)).text).toBe('success');

      views = new Map();
      for (const outTradeNo of [...orders.map((o) => o.outTradeNo), 'CLI-LATE', 'CLI-WAIT']) {
        const view = await get<OrderView>(`/admin/orders/${outTradeNo}`);
        const { events } = await get<{ events: HistoryEvent[] }>(`/admin/orders/${outTradeNo}/history`);
        views.set(outTradeNo, { ...view, history: events });
      }
      batch = await get<BatchView>(`/admin/refund-batches/${batchNo}`);
      const now = Date.now();
      range = {
        from: new Date(now - 86_400_000).toISOString(),
        to: new Date(now + 86_400_000).toISOString(),
      };
      const exported = await call('GET', `/admin/exports/orders?from=${range.from}&to=${range.to}`);
      expect(exported.status).toBe(200);
      expect(exported.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(exported.headers.get('content-disposition')).toMatch(
        /^attachment; filename="ledger-orders-\d{8}-\d{6}-\d{8}-\d{6}\.csv"$/,
      );
      httpCsv = Buffer.from(await exported.arrayBuffer()).toString('utf8');

      // A running ledger holds the embedded database's directory: the CLI cannot have it meanwhile.
      if (database === undefined) {
        expect(await cli(['status'], env)).toMatchObject({
          code: 69,
          stderr: expect.stringMatching(/already open/),
        });
      }
      await stopLedger();
    });

    it('shows the ledger at a glance: mode, lag, pending decisions, silence, orders awaiting payment', async () => {
      const run = await cli(['--json', 'status'], env);
      expect(run.code).toBe(0);
      const status = json<{
        mode: string;
        database: string;
        projections: { projection: string; events: number; rebuild: unknown }[];
        pendingDecisions: Record<string, number>;
        silence: { lastNotificationAt: string | null; seconds: number | null };
        awaitingPayment: { orders: number; oldest: { outTradeNo: string } | null };
      }>(run);
      expect(status).toMatchObject({
        mode: 'demo',
        database: database === undefined ? 'embedded' : 'postgres',
        projections: ['order_status', 'refund_batches', 'money_movements'].map((projection) => ({
          projection,
          events: 0,
          rebuild: null,
        })),
        // CLI-LATE too: its payment came before it was placed, and waits for a replay.
        awaitingPayment: { orders: 2, oldest: { outTradeNo: 'CLI-LATE' } },
      });
      expect(status.pendingDecisions).toMatchObject({
        anomalies: 1,
        refundOutcomeUnknown: 0,
        deadWebhooks: 0,
      });
      expect(status.pendingDecisions.delivery).toBe(
        [...views.values()].filter(
          (view) => (view as unknown as { delivery: { state: string } }).delivery.state === 'pending',
        ).length,
      );
      expect(status.silence.seconds).toBeGreaterThanOrEqual(0);
      expect(status.silence.seconds).toBeLessThan(600);

      const human = await cli(['status'], env);
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/^mode {9}demo, /m);
      expect(human.stdout).toMatch(/^ {2}money_movements {2}up to date$/m);
      expect(human.stdout).toMatch(/since the last notification \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+08:00\)/);
      expect(human.stdout).toMatch(/2 orders awaiting payment; the oldest, CLI-LATE, placed /);
    });

    it('exports what the admin API exports, byte for byte, and each row agrees with the order views', async () => {
      const run = await cli(['export', 'orders', '--from', range.from, '--to', range.to], env);
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(httpCsv);
      expect(run.stderr).toMatch(/exported 5 rows of orders/);
      const bytes = Buffer.from(run.stdout, 'utf8');
      expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const rows = csvObjects(parseCsv(run.stdout.slice(1)));
      expect(rows.map((row) => row.out_trade_no).sort()).toEqual([...views.keys()].sort());
      for (const row of rows) {
        const view = views.get(row.out_trade_no)!;
        const placed = view.history.find((e) => e.type === 'OrderPlaced')!;
        const paid = view.history.find((e) => e.type === 'PaymentSucceeded');
        const subject = view.subject!.startsWith('=') ? `'${view.subject}` : view.subject;
        expect(row).toEqual({
          out_trade_no: view.outTradeNo,
          trade_no: view.tradeNo ?? '',
          subject,
          buyer_email: view.buyerEmail ?? '',
          buyer_id: view.buyerId ?? '',
          total_yuan: view.totalFee,
          paid_yuan: view.paidFee,
          refunded_yuan: view.refundedFee,
          status: view.status,
          trade_status: view.tradeStatus ?? '',
          placed_at: beijing(placed.data.placedAt as string),
          paid_at: paid === undefined ? '' : beijing(paid.data.gmtPayment as string),
          closed_at: '',
        });
      }
      expect(rows.find((row) => row.out_trade_no === 'CLI-TEA-1')).toMatchObject({
        subject: '龙井绿茶 250g',
        total_yuan: '128.00',
        refunded_yuan: '30.00',
        status: 'partially_refunded',
      });
      // Quoted as RFC 4180 says, the formula guarded.
      expect(run.stdout).toContain(',"碧螺春, ""特级"" 礼盒",');
      expect(run.stdout).toContain(",'=1+1 普洱茶饼,");
    });

    it('exports the refund as the refund batch view shows it, to a file that appears whole', async () => {
      const file = join(scratch, 'refunds.jsonl');
      const run = await cli(
        [
          '--json',
          'export',
          'refunds',
          '--from',
          range.from,
          '--to',
          range.to,
          '--format',
          'jsonl',
          '--output',
          file,
        ],
        env,
      );
      expect(run.code).toBe(0);
      expect(json(run)).toEqual({
        kind: 'refunds',
        format: 'jsonl',
        from: range.from,
        to: range.to,
        file,
        rows: 1,
        bytes: readFileSync(file).length,
      });
      expect(existsSync(`${file}.partial`)).toBe(false);
      const [refund] = readFileSync(file, 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const record = batch.items.find((item) => item.outTradeNo === refund.out_trade_no)!;
      expect(refund).toMatchObject({
        out_trade_no: 'CLI-TEA-1',
        trade_no: tradeNos.get('CLI-TEA-1'),
        batch_no: batch.batchNo,
        channel: 'batch',
        outcome: record.result!.outcome,
        code: record.result!.code,
        amount_yuan: record.result!.amount,
        counted_yuan: '30.00',
        subject: '龙井绿茶 250g',
      });

      const movements = await cli(['export', 'movements', '--from', range.from, '--to', range.to], env);
      const lines = csvObjects(parseCsv(movements.stdout.slice(1)));
      expect(lines.map((m) => [m.kind, m.out_trade_no, m.income_yuan, m.expense_yuan])).toEqual([
        ['payment', 'CLI-TEA-1', '128.00', ''],
        ['payment', 'CLI-TEA-2', '9.90', ''],
        ['payment', 'CLI-TEA-3', '50.00', ''],
        ['refund', 'CLI-TEA-1', '', '30.00'],
      ]);
      expect(
        (
          await cli(
            [
              'export',
              'orders',
              '--from',
              range.from,
              '--to',
              range.to,
              '--output',
              join(scratch, 'no', 'such', 'dir.csv'),
            ],
            env,
          )
        ).code,
      ).toBe(73);
    });

    it('previews a replay with the facts it would add, then appends them', async () => {
      const dry = await cli(['--json', 'replay', '--id', String(lateInboxId), '--dry-run'], env);
      expect(dry.code).toBe(0);
      expect(json(dry)).toMatchObject({
        dryRun: true,
        selected: 1,
        replayed: 1,
        events: 1,
        orders: [
          {
            outTradeNo: 'CLI-LATE',
            events: [{ inboxId: lateInboxId, type: 'PaymentSucceeded', version: 3 }],
          },
        ],
      });
      const human = await cli(['replay', '--all', '--dry-run'], env);
      expect(human.stdout).toMatch(
        /^replay \(dry run: nothing written\): \d+ notifications selected, \d+ run, \d+ skipped; 1 events would be appended$/m,
      );
      expect(human.stdout).toContain('  order CLI-LATE:\n    + PaymentSucceeded (version 3, from inbox');
      expect(human.stdout).toMatch(/skipped, not_verified: 1 \(inbox \d+\)/);

      const applied = await cli(['--json', 'replay', '--id', String(lateInboxId)], env);
      expect(json(applied)).toMatchObject({ dryRun: false, events: 1 });
      // Nothing projects in the CLI: the ledger's instances do, or a rebuild.
      const status = json<{ projections: { projection: string; events: number }[] }>(
        await cli(['--json', 'status'], env),
      );
      expect(status.projections.map((p) => [p.projection, p.events])).toEqual([
        ['order_status', 1],
        ['refund_batches', 1],
        ['money_movements', 1],
      ]);
    });

    it('rebuilds one named projection, then all of them', async () => {
      const one = await cli(['--json', 'rebuild', 'money_movements'], env);
      expect(one.code).toBe(0);
      expect(json(one)).toEqual({
        projections: [
          {
            projection: 'money_movements',
            events: expect.any(Number),
            parked: 0,
            rows: 5,
            durationMs: expect.any(Number),
          },
        ],
        durationMs: expect.any(Number),
      });
      const lag = json<{ projections: { projection: string; events: number }[] }>(
        await cli(['--json', 'status'], env),
      );
      expect(lag.projections.map((p) => [p.projection, p.events])).toEqual([
        ['order_status', 1],
        ['refund_batches', 1],
        ['money_movements', 0],
      ]);
      const all = await cli(['rebuild', 'all'], env);
      expect(all.code).toBe(0);
      expect(all.stdout).toMatch(/^rebuilt order_status: \d+ events read, 0 parked, 5 rows, \d+ ms$/m);
      expect(all.stdout).toMatch(/^rebuilt refund_batches: \d+ events read, 0 parked, 1 rows, \d+ ms$/m);
    });

    it('finds nothing to report on a ledger nobody has touched', async () => {
      const run = await cli(['--json', 'verify'], env);
      expect(run.code).toBe(0);
      const report = json<{
        signatures: { checked: number; verified: number; differenceCount: number };
        streams: { problemCount: number };
        projections: { projection: string; equal: boolean }[];
        differences: number;
      }>(run);
      expect(report.differences).toBe(0);
      expect(report.signatures).toMatchObject({ differenceCount: 0 });
      expect(report.signatures.verified).toBeGreaterThanOrEqual(5);
      expect(report.projections.map((p) => [p.projection, p.equal])).toEqual([
        ['order_status', true],
        ['refund_batches', true],
        ['money_movements', true],
      ]);
      expect((await cli(['verify'], env)).stdout).toMatch(/^no differences$/m);
    });

    it('reports a tampered event, a projection row changed by SQL and a raw body that no longer verifies', async () => {
      await onDatabase(async (session) => {
        await session.query(`ALTER TABLE events DISABLE TRIGGER events_refuse_update_delete`);
        await session.query(
          `UPDATE events SET version = version + 10
           WHERE stream_id = 'order-CLI-TEA-2' AND version = (SELECT max(version) FROM events WHERE stream_id = 'order-CLI-TEA-2')`,
        );
        await session.query(`ALTER TABLE events ENABLE TRIGGER events_refuse_update_delete`);
        await session.query(`UPDATE order_status SET subject = '乌龙茶' WHERE out_trade_no = 'CLI-TEA-1'`);
        await session.query(`ALTER TABLE inbox_notifications DISABLE TRIGGER inbox_keep_raw`);
        await session.query(
          `UPDATE inbox_notifications
           SET raw_body = convert_to(replace(convert_from(raw_body, 'UTF8'), 'total_fee=50.00', 'total_fee=0.50'), 'UTF8')
           WHERE out_trade_no = 'CLI-TEA-3' AND verified`,
        );
        await session.query(`ALTER TABLE inbox_notifications ENABLE TRIGGER inbox_keep_raw`);
      });

      const run = await cli(['--json', 'verify'], env);

      expect(run.code).toBe(1);
      const report = json<{
        signatures: { differences: { stored: string; now: string }[] };
        streams: { problems: { streamId: string }[] };
        projections: {
          projection: string;
          tables: { samples: { key: unknown; kind: string; columns: { column: string }[] }[] }[];
        }[];
        differences: number;
      }>(run);
      expect(report.signatures.differences).toEqual([
        expect.objectContaining({ stored: 'VERIFIED', now: 'SIGNATURE_MISMATCH' }),
      ]);
      expect(report.streams.problems).toEqual([expect.objectContaining({ streamId: 'order-CLI-TEA-2' })]);
      const orderStatus = report.projections.find((p) => p.projection === 'order_status')!;
      expect(orderStatus.tables[0].samples).toEqual(
        expect.arrayContaining([
          {
            key: { out_trade_no: 'CLI-TEA-1' },
            kind: 'different',
            columns: [expect.objectContaining({ column: 'subject', live: '乌龙茶', fresh: '龙井绿茶 250g' })],
          },
        ]),
      );
      expect(report.differences).toBeGreaterThanOrEqual(3);

      const human = await cli(['verify'], env);
      expect(human.code).toBe(1);
      expect(human.stdout).toMatch(/was VERIFIED in utf-8, now SIGNATURE_MISMATCH/);
      expect(human.stdout).toMatch(/order-CLI-TEA-2: version \d+, \d+ events, versions 1 to \d+/);
      expect(human.stdout).toContain(
        'out_trade_no="CLI-TEA-1" different: subject is "乌龙茶", the fold says "龙井绿茶 250g"',
      );
    });

    it('says 75 while the projection is being rebuilt or verified elsewhere', async () => {
      if (database === undefined) return; // The embedded database has one process: nothing else can hold it.
      const holder = database.dataSource.createQueryRunner();
      await holder.query(
        `SELECT pg_advisory_lock(hashtext('ledger.projector.rebuild'), hashtext('order_status'))`,
      );
      try {
        const busy = await cli(['rebuild', 'order_status'], env);
        expect(busy).toMatchObject({
          code: 75,
          stderr: expect.stringMatching(/already being rebuilt or verified/),
        });
      } finally {
        await holder.query(
          `SELECT pg_advisory_unlock(hashtext('ledger.projector.rebuild'), hashtext('order_status'))`,
        );
        await holder.release();
      }
    });
  });
});
