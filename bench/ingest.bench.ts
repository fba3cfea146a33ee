// `npm run bench:ingest`: distinct signed payment notifications POSTed over HTTP to the ledger
// on PostgreSQL, notify_verify served by a local fake gateway, against a baseline in the same run: the same
// HTTP stack (Nest, Express, the raw-body capture) answering `success` after one plain INSERT of the body.
// Prints notifications/s at saturation and p50/p99 latency at 500/s; asserts nothing.
//
// Four processes share the machine: this one (the load, autocannon), the server under test (a child), the
// fake gateway (a child) and PostgreSQL. The same file runs the children: `--serve=baseline|gateway`.
// BENCH_NOTIFICATIONS (default 10,000) sets the saturation run; the 500/s run lasts BENCH_RATE_SECONDS (10).
// Both servers run at once and each workload is split in halves, baseline, ledger, baseline, ledger, so
// that the machine's drifting load weighs on both alike.
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Controller, Module, Post, Req, Res } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import autocannon from 'autocannon';
import { LEDGER_EVENT_CATALOGUE, type PlaceOrder } from '@ledger/domain';
import { EventSchemas, EventStore } from '@ledger/event-store';
import { PostgresStreamSession, decideOnStream, orderStream } from '@ledger/commands';
import {
  DEMO_ALIPAY,
  LedgerLogger,
  loadConfig,
  openDatabase,
  PlatformModule,
  runMigrations,
} from '@ledger/platform';
import {
  freePort,
  newTradeNo,
  signedNotification,
  startFakeAlipayGateway,
  tradeStatusSyncParams,
} from '@ledger/testing';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { captureRawBody, type RequestWithRawBody } from '../apps/ledger/src/alipay/raw-body';
import { LEDGER_MIGRATIONS } from '../apps/ledger/src/ledger-migrations';

const ROOT = join(__dirname, '..');
const ADMIN_URL =
  process.env.BENCH_DATABASE_ADMIN_URL ??
  process.env.TEST_DATABASE_ADMIN_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';
const SATURATION_REQUESTS = 2 * Math.ceil(positiveInteger('BENCH_NOTIFICATIONS', 10_000) / 2);
const RATE = 500;
const RATE_SECONDS = 2 * Math.ceil(positiveInteger('BENCH_RATE_SECONDS', 10) / 2);
const WARMUP_REQUESTS = 500;
const SATURATION_CONNECTIONS = 128;
const RATE_CONNECTIONS = 64;
const CONTENT_TYPE = 'application/x-www-form-urlencoded; text/html; charset=UTF-8';

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// The baseline server: Nest + Express + the ledger's raw-body capture, one INSERT, `success`.

@Controller('alipay')
class BaselineController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @Post('notify')
  async notify(@Req() request: RequestWithRawBody, @Res() response: ServerResponse): Promise<void> {
    await this.dataSource.query(`INSERT INTO bench_baseline (body) VALUES ($1)`, [
      request.alipayRawBody?.bytes,
    ]);
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    response.end('success');
  }
}

async function serveBaseline(): Promise<void> {
  const config = loadConfig(process.env, { envFile: false });
  const logger = new LedgerLogger('error');
  const database = await openDatabase({
    databaseUrl: config.database.url,
    dataDir: tmpdir(),
    poolSize: config.database.poolSize,
    applicationName: 'bench-baseline',
  });
  @Module({
    imports: [PlatformModule.forRoot({ config, database, logger }), PlatformModule],
    controllers: [BaselineController],
  })
  class BaselineModule {
    constructor(adapterHost: HttpAdapterHost) {
      adapterHost.httpAdapter.use('/alipay', captureRawBody);
    }
  }
  const app = await NestFactory.create(BaselineModule, { logger, bufferLogs: true });
  await app.listen(config.http.port, config.http.host);
  process.stdout.write('READY\n');
  process.once('SIGTERM', () => {
    void app.close().finally(() => process.exit(0));
  });
}

async function serveGateway(): Promise<void> {
  const gateway = await startFakeAlipayGateway();
  process.stdout.write(`READY ${gateway.url}\n`);
  process.once('SIGTERM', () => {
    void gateway.close().finally(() => process.exit(0));
  });
}

// ---------------------------------------------------------------------------------------------------------
// The load.

interface Child {
  process: ChildProcess;
  /** The rest of the READY line. */
  ready: string;
}

/** `readiness`: `{ line: true }` waits for the child's READY line, `{ url }` for a 200 from that URL. */
function startChild(
  args: string[],
  env: Record<string, string>,
  readiness: { line: true } | { url: string },
): Promise<Child> {
  // BENCH_CPU_PROF=<dir> profiles the ledger (`--cpu-prof`), written when it stops.
  const profile =
    process.env.BENCH_CPU_PROF !== undefined && args[0] === 'apps/ledger/src/main.ts'
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
      : [];
  const child = spawn(process.execPath, [...profile, '-r', '@swc-node/register', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`${args.join(' ')} exited with ${code} before it was ready`)),
    );
    if ('line' in readiness) {
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line.startsWith('READY')) resolve({ process: child, ready: line.slice('READY'.length).trim() });
      });
      return;
    }
    child.stdout?.resume();
    const poll = () => {
      fetch(readiness.url).then(
        (response) => (response.ok ? resolve({ process: child, ready: '' }) : setTimeout(poll, 200)),
        () => setTimeout(poll, 200),
      );
    };
    poll();
  });
}

async function stopChild(child: Child): Promise<void> {
  if (child.process.exitCode !== null) return;
  const exited = new Promise((resolve) => child.process.once('exit', resolve));
  child.process.kill('SIGTERM');
  await exited;
}

/** Bodies handed out in order, each once; a run that needs more than there are says so. */
class Bodies {
  private next = 0;
  constructor(private readonly bodies: readonly Buffer[]) {}
  take(): Buffer {
    if (this.next >= this.bodies.length) throw new Error('ran out of distinct notifications');
    return this.bodies[this.next++];
  }
  get used(): number {
    return this.next;
  }
}

interface Phase {
  requests: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  failures: number;
}

async function load(
  baseUrl: string,
  bodies: Bodies,
  options: { amount: number; rate?: number },
): Promise<Phase> {
  const result = await autocannon({
    url: baseUrl,
    connections: options.rate === undefined ? SATURATION_CONNECTIONS : RATE_CONNECTIONS,
    amount: options.amount,
    ...(options.rate === undefined ? {} : { overallRate: options.rate }),
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/alipay/notify',
        headers: { 'content-type': CONTENT_TYPE, 'user-agent': 'Mozilla/4.0' },
        setupRequest: (request) => ({ ...request, body: bodies.take() }),
      },
    ],
  });
  const ok = result['2xx'];
  process.stdout.write(
    `  ${ok} ok in ${result.duration.toFixed(1)} s, ${result.non2xx} non-2xx, ${result.errors} errors, ` +
      `${result.timeouts} timeouts; p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms\n`,
  );
  return {
    requests: ok,
    seconds: result.duration,
    perSecond: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

interface Target {
  name: string;
  baseUrl: string;
  bodies: Bodies;
}

/** Halves run baseline, ledger, baseline, ledger: the machine's drifting load falls on both alike. */
const HALVES = 2;

function combine(halves: Phase[]): Phase {
  const requests = halves.reduce((sum, half) => sum + half.requests, 0);
  const seconds = halves.reduce((sum, half) => sum + half.seconds, 0);
  return {
    requests,
    seconds,
    perSecond: requests / seconds,
    // Percentiles of two runs do not combine exactly: the mean of the medians, the worse tail.
    p50: halves.reduce((sum, half) => sum + half.p50, 0) / halves.length,
    p99: Math.max(...halves.map((half) => half.p99)),
    failures: halves.reduce((sum, half) => sum + half.failures, 0),
  };
}

async function runInterleaved(targets: Target[]): Promise<Map<string, { saturation: Phase; rated: Phase }>> {
  const saturation = new Map<string, Phase[]>(targets.map((t) => [t.name, []]));
  const rated = new Map<string, Phase[]>(targets.map((t) => [t.name, []]));
  for (const target of targets) {
    process.stdout.write(`[${target.name}] warming up...\n`);
    await load(target.baseUrl, target.bodies, { amount: WARMUP_REQUESTS });
  }
  for (let half = 0; half < HALVES; half++) {
    for (const target of targets) {
      process.stdout.write(
        `[${target.name}] ${SATURATION_REQUESTS / HALVES} notifications at saturation...\n`,
      );
      saturation
        .get(target.name)!
        .push(await load(target.baseUrl, target.bodies, { amount: SATURATION_REQUESTS / HALVES }));
    }
  }
  for (let half = 0; half < HALVES; half++) {
    for (const target of targets) {
      process.stdout.write(`[${target.name}] ${RATE}/s for ${RATE_SECONDS / HALVES} s...\n`);
      rated
        .get(target.name)!
        .push(
          await load(target.baseUrl, target.bodies, { amount: (RATE * RATE_SECONDS) / HALVES, rate: RATE }),
        );
    }
  }
  return new Map(
    targets.map((t) => [
      t.name,
      { saturation: combine(saturation.get(t.name)!), rated: combine(rated.get(t.name)!) },
    ]),
  );
}

function notificationBodies(outTradeNos: readonly string[]): Buffer[] {
  return outTradeNos.map(
    (outTradeNo) =>
      signedNotification(
        tradeStatusSyncParams({
          outTradeNo,
          tradeNo: newTradeNo(),
          tradeStatus: 'TRADE_SUCCESS',
          totalFee: '12.34',
        }),
      ).body,
  );
}

async function placeOrders(dataSource: DataSource, outTradeNos: readonly string[]): Promise<void> {
  const session = new PostgresStreamSession(
    new EventStore(dataSource, new EventSchemas(LEDGER_EVENT_CATALOGUE)),
  );
  const commands = { placeOrder: (command: PlaceOrder) => decideOnStream(session, orderStream, command, {}) };
  let next = 0;
  const writer = async () => {
    while (next < outTradeNos.length) {
      const outTradeNo = outTradeNos[next++];
      await commands.placeOrder({
        type: 'PlaceOrder',
        outTradeNo,
        subject: `bench order ${outTradeNo}`,
        totalFee: 1234,
        service: 'create_direct_pay_by_user',
        sellerId: DEMO_ALIPAY.partner,
        requestParameters: { out_trade_no: outTradeNo, total_fee: '12.34' },
        placedAt: new Date().toISOString(),
      });
    }
  };
  await Promise.all(Array.from({ length: 16 }, writer));
}

function row(workload: string, baseline: string, ledger: string, ratio: string, target: string): string {
  return `| ${workload.padEnd(34)} | ${baseline.padStart(10)} | ${ledger.padStart(10)} | ${ratio.padStart(7)} | ${target.padEnd(22)} |`;
}

async function main(): Promise<void> {
  const admin = new Client({ connectionString: ADMIN_URL });
  try {
    await admin.connect();
  } catch (error) {
    process.stdout.write(
      `skipped: cannot reach PostgreSQL at ${new URL(ADMIN_URL).host} (${String(error)})\n`,
    );
    return;
  }
  const name = `ledger_bench_ingest_${randomBytes(4).toString('hex')}`;
  const children: Child[] = [];
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    const databaseUrl = url.toString();

    // autocannon prepares a request or two ahead on each connection: a little more than it will send.
    const perServer = WARMUP_REQUESTS + SATURATION_REQUESTS + RATE * RATE_SECONDS + 4 * RATE_CONNECTIONS;
    const outTradeNos = Array.from({ length: perServer }, (_, i) => `BENCH-${String(i).padStart(7, '0')}`);
    const database = await openDatabase({
      databaseUrl,
      dataDir: tmpdir(),
      poolSize: 16,
      applicationName: 'bench',
    });
    try {
      await runMigrations(database.dataSource, LEDGER_MIGRATIONS);
      await database.dataSource.query(
        `CREATE TABLE bench_baseline (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
           received_at timestamptz NOT NULL DEFAULT now(), body bytea NOT NULL)`,
      );
      process.stdout.write(`placing ${outTradeNos.length} orders...\n`);
      await placeOrders(database.dataSource, outTradeNos);
    } finally {
      await database.close();
    }

    const gateway = await startChild(['bench/ingest.bench.ts', '--serve=gateway'], {}, { line: true });
    children.push(gateway);
    const bodies = notificationBodies(outTradeNos);

    const serverEnv = (port: number) => ({
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LEDGER_MODE: 'demo',
      ADMIN_TOKEN: 'bench-ingest-admin-token-00000001',
      ALIPAY_GATEWAY: gateway.ready,
      LOG_LEVEL: 'error',
      // BENCH_FULFILMENT_WORKER=false measures an API instance whose delivery worker runs elsewhere.
      FULFILMENT_WORKER: process.env.BENCH_FULFILMENT_WORKER ?? 'true',
    });

    const baselinePort = await freePort();
    const baselineServer = await startChild(
      ['bench/ingest.bench.ts', '--serve=baseline'],
      serverEnv(baselinePort),
      { line: true },
    );
    children.push(baselineServer);
    const ledgerPort = await freePort();
    const ledgerServer = await startChild(['apps/ledger/src/main.ts'], serverEnv(ledgerPort), {
      url: `http://127.0.0.1:${ledgerPort}/health`,
    });
    children.push(ledgerServer);
    const results = await runInterleaved([
      { name: 'baseline', baseUrl: `http://127.0.0.1:${baselinePort}`, bodies: new Bodies(bodies) },
      { name: 'ledger', baseUrl: `http://127.0.0.1:${ledgerPort}`, bodies: new Bodies(bodies) },
    ]);
    const baseline = results.get('baseline')!;
    const ledger = results.get('ledger')!;
    await stopChild(baselineServer);
    await stopChild(ledgerServer);

    const check = new Client({ connectionString: databaseUrl });
    await check.connect();
    const outcomes = await check.query<{ outcome: string; count: string }>(
      `SELECT outcome, count(*) AS count FROM inbox_notifications GROUP BY outcome ORDER BY outcome`,
    );
    const paid = await check.query<{ count: string }>(
      `SELECT count(*) AS count FROM events WHERE type = 'PaymentSucceeded'`,
    );
    await check.end();

    const server = await admin.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings WHERE name IN ('server_version', 'fsync', 'synchronous_commit')`,
    );
    const ms = (value: number) => `${value.toFixed(1)} ms`;
    const perSecond = (phase: Phase) => `${phase.perSecond.toFixed(0)}/s`;
    process.stdout.write(
      [
        '',
        `PostgreSQL: ${server.rows.map((r) => `${r.name}=${r.setting}`).join(', ')}; load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}`,
        row('workload', 'baseline', 'ledger', 'ratio', 'target'),
        row('-'.repeat(34), '-'.repeat(10), '-'.repeat(10), '-'.repeat(7), '-'.repeat(22)),
        row(
          `notifications/s at saturation (${SATURATION_CONNECTIONS} conn.)`,
          perSecond(baseline.saturation),
          perSecond(ledger.saturation),
          `${((100 * ledger.saturation.perSecond) / baseline.saturation.perSecond).toFixed(0)}%`,
          '>= 40% of the baseline',
        ),
        row(`p50 at ${RATE}/s`, ms(baseline.rated.p50), ms(ledger.rated.p50), '', ''),
        row(`p99 at ${RATE}/s`, ms(baseline.rated.p99), ms(ledger.rated.p99), '', '<= 50 ms'),
        row(`achieved rate in the ${RATE}/s run`, perSecond(baseline.rated), perSecond(ledger.rated), '', ''),
        row(
          'failed replies (all runs)',
          String(baseline.saturation.failures + baseline.rated.failures),
          String(ledger.saturation.failures + ledger.rated.failures),
          '',
          '0',
        ),
        '',
        `ledger inbox outcomes: ${outcomes.rows.map((r) => `${r.outcome} ${r.count}`).join(', ')}; ` +
          `PaymentSucceeded events: ${paid.rows[0].count}`,
        '',
      ].join('\n'),
    );
  } finally {
    for (const child of children.reverse()) await stopChild(child).catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

const serve = process.argv.find((arg) => arg.startsWith('--serve='))?.slice('--serve='.length);
const run = serve === 'baseline' ? serveBaseline : serve === 'gateway' ? serveGateway : main;
run().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
