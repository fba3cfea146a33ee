// `npm run bench:ingest`: distinct signed payment notifications POSTed over HTTP to the ledger
// on PostgreSQL, notify_verify served by a local fake gateway, against two baselines in the same run that
// answer `success` after one plain durable INSERT of the body: the same HTTP stack as the ledger (Nest,
// Express, the raw-body capture), and plain Fastify on a `pg` pool, so that the cost of the HTTP stack shows.
// Prints notifications/s at saturation and the rate held, p50 and p99 at 500/s offered, the CPU time each
// notification cost the server's processes and the whole machine, the ledger's ratios to the baselines and
// whether its targets are met (docs/operations.md, "Throughput"); asserts nothing. BENCH_LEDGER_ENV, a JSON
// object, adds settings to the ledgers' environment, to measure a lever apart
// (`{"ALIPAY_VERIFY_NOTIFY_ID":"false"}`); BENCH_VARIANT_ENV, the same, adds a ledger so configured as a
// column of its own, on a database of its own, measured in the same run as the ledger without it.
//
// `-- --instances N` also runs N ledger processes on the same database, the load spread round-robin over
// them, next to one instance in the same run (docs/operations.md, "Several instances").
//
// The processes share the machine: this one (the load, autocannon), the servers under test (children), the
// fake gateway (a child) and PostgreSQL. The same file runs the children: `--serve=baseline|fastify|gateway`.
// BENCH_NOTIFICATIONS (default 10,000) sets the saturation run; the 500/s run lasts BENCH_RATE_SECONDS (10).
// The ledger runs with the Node flags of its start commands, the baselines with Node's defaults.
// Every server runs throughout and each workload is split in halves, each half going through every server
// in turn (baseline, Fastify, ledger, ledger ×N, then the same in reverse), so that the machine's drifting
// load weighs on all alike.
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Controller, Module, Post, Req, Res } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import autocannon from 'autocannon';
import Fastify from 'fastify';
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
import { freePort, newTradeNo, signedNotification, tradeStatusSyncParams } from '@ledger/testing';
import { Client, Pool } from 'pg';
import { DataSource } from 'typeorm';
import { captureRawBody, type RequestWithRawBody } from '../apps/ledger/src/alipay/raw-body';
import { LEDGER_MIGRATIONS } from '../apps/ledger/src/ledger-migrations';

const ROOT = join(__dirname, '..');
/** Node's flags in `npm start` (the Dockerfile's are the same): docs/operations.md, "Node's young generation". */
const LEDGER_NODE_FLAGS = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
).scripts.start
  .split(' ')
  .filter((word) => word.startsWith('--'));
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
/** The ledger's own cap on a notification's body (docs/operations.md, "Bounded storage"). */
const MAX_BODY_BYTES = 1024 * 1024;
const INSTANCES = instancesArgument();

/** `--instances N` or `--instances=N`: N ledger processes on the one database, next to the first alone. */
function instancesArgument(): number {
  const args = process.argv.slice(2);
  const at = args.findIndex((arg) => arg === '--instances' || arg.startsWith('--instances='));
  if (at === -1) return 1;
  const raw = args[at].includes('=') ? args[at].slice('--instances='.length) : args[at + 1];
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 8)
    throw new Error(`--instances must be an integer from 1 to 8, got ${raw}`);
  return value;
}

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

// The plain baseline: Fastify, the body kept as bytes whatever its Content-Type (Alipay's is malformed),
// one INSERT on a `pg` pool of the same size, `success`.
async function serveFastify(): Promise<void> {
  const config = loadConfig(process.env, { envFile: false });
  const pool = new Pool({
    connectionString: config.database.url,
    max: config.database.poolSize,
    application_name: 'bench-fastify',
  });
  const app = Fastify({ logger: false, bodyLimit: MAX_BODY_BYTES });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.post('/alipay/notify', async (request, reply) => {
    await pool.query(`INSERT INTO bench_baseline (body) VALUES ($1)`, [request.body as Buffer]);
    return reply
      .code(200)
      .header('content-type', 'text/plain; charset=utf-8')
      .header('cache-control', 'no-store')
      .send('success');
  });
  await app.listen({ port: config.http.port, host: config.http.host });
  process.stdout.write('READY\n');
  process.once('SIGTERM', () => {
    void app
      .close()
      .then(() => pool.end())
      .finally(() => process.exit(0));
  });
}

/**
 * Alipay's side, reduced to what the bench needs: `notify_verify` answered `true` for the demo partner
 * (`invalid` otherwise, as Alipay does), and the merchant's webhook receiver, which takes every delivery at
 * once (2xx with a reference). Both live elsewhere in production; here they share the machine, so they do
 * as little as they can: the tests' fake gateway, which parses every request in full and keeps it for
 * assertions, cost the machine more per notification than a baseline's whole INSERT.
 */
async function serveGateway(): Promise<void> {
  const listen = async (server: Server): Promise<string> => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const gateway = createServer((request, response) => {
    request.resume();
    const query = new URLSearchParams((request.url ?? '').split('?', 2)[1] ?? '');
    const genuine =
      query.get('service') === 'notify_verify' &&
      query.get('partner') === DEMO_ALIPAY.partner &&
      (query.get('notify_id') ?? '') !== '';
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(genuine ? 'true' : 'invalid');
  });
  const receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"reference":"bench"}');
    });
  });
  const gatewayUrl = `${await listen(gateway)}/gateway.do`;
  const receiverUrl = `${await listen(receiver)}/webhooks`;
  process.stdout.write(`READY ${gatewayUrl} ${receiverUrl}\n`);
  process.once('SIGTERM', () => {
    gateway.close();
    receiver.close();
    gateway.closeAllConnections();
    receiver.closeAllConnections();
    process.exit(0);
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
  const ledger = args[0] === 'apps/ledger/src/main.ts';
  // BENCH_CPU_PROF=<dir> profiles the ledger (`--cpu-prof`), written when it stops.
  const profile =
    process.env.BENCH_CPU_PROF !== undefined && ledger
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
      : [];
  const flags = ledger ? LEDGER_NODE_FLAGS : [];
  const child = spawn(process.execPath, [...flags, ...profile, '-r', '@swc-node/register', ...args], {
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
  /**
   * CPU milliseconds per request answered 2xx, of the server's processes and of the whole machine, from the
   * load's start until the server's deferred work is done too.
   */
  serverCpuMs: number;
  machineCpuMs: number;
  /** From the last reply until the server's deferred work (projections, webhooks) was done. */
  drainSeconds: number;
}

/** Linux's USER_HZ, the unit of /proc's CPU times. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Busy CPU seconds of the whole machine since boot (/proc/stat: all but idle and iowait). */
function machineCpuSeconds(): number {
  const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n', 1);
  const ticks = cpu.trim().split(/\s+/).slice(1).map(Number);
  const busy = ticks.reduce((sum, value, i) => (i === 3 || i === 4 ? sum : sum + value), 0);
  return busy / CLOCK_TICKS_PER_SECOND;
}

interface ProcessCpu {
  parent: number;
  command: string;
  seconds: number;
  /** The CPU seconds of its children that have exited and been waited for. */
  reapedSeconds: number;
}

/** Each process's parent, command name and CPU seconds, from /proc. */
function processTable(): Map<number, ProcessCpu> {
  const stats = new Map<number, ProcessCpu>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(entry), {
        parent: Number(fields[1]),
        command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
        seconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND,
        reapedSeconds: (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS_PER_SECOND,
      });
    } catch {
      // gone since the listing
    }
  }
  return stats;
}

/** Where the machine's CPU went: the server, PostgreSQL, the fake gateway and receiver, this load generator. */
interface CpuReading {
  server: number;
  postgres: number;
  harness: number;
  load: number;
  machine: number;
}

/**
 * CPU seconds so far of the server's processes `roots` and their descendants (a server's workers), of
 * PostgreSQL's processes, of the harness's (the fake gateway and webhook receiver) and of this process.
 * A process that exits between two readings takes its time with it; none does during a measured run but
 * PostgreSQL's short-lived ones (autovacuum's workers, a connection that closes), whose time the postmaster
 * has since counted as its children's: PostgreSQL's figure is its live processes' and its exited ones'.
 */
function readCpu(roots: readonly number[]): CpuReading {
  const stats = processTable();
  const tree = (pids: readonly number[]) => {
    const inTree = new Set(pids);
    // Parents come before children in pid order except after pid wrap-around; a few passes settle it.
    for (let pass = 0; pass < 3; pass++)
      for (const [pid, { parent }] of stats) if (inTree.has(parent)) inTree.add(pid);
    let seconds = 0;
    for (const pid of inTree) seconds += stats.get(pid)?.seconds ?? 0;
    return seconds;
  };
  let postgres = 0;
  for (const { command, seconds, reapedSeconds } of stats.values())
    if (command === 'postgres') postgres += seconds + reapedSeconds;
  const own = process.cpuUsage();
  return {
    server: tree(roots),
    postgres,
    harness: harnessPids.length === 0 ? 0 : tree(harnessPids),
    load: (own.user + own.system) / 1e6,
    machine: machineCpuSeconds(),
  };
}

/** The fake gateway's and receiver's process, once started. */
const harnessPids: number[] = [];

async function load(target: Target, options: { amount: number; rate?: number }): Promise<Phase> {
  // A run lasts until its last reply. autocannon's own `duration` counts whole seconds, and it reports the
  // end of an `amount` run on its next whole-second tick: timed around the call, a 3.2 s run read as 4.03 s
  // and 500/s offered for 5 s as 414/s held, by every server alike.
  const { baseUrls, bodies } = target;
  const cpuBefore = readCpu(target.pids);
  const started = performance.now();
  let lastReply = started;
  let cpuAtLastReply: CpuReading | undefined;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        // Several URLs: connection i goes to URL i mod N, and with `amount` every connection sends an equal
        // share, so each instance gets its connections' shares (43, 43 and 42 of 128 for three), as behind a
        // balancer that spreads connections round-robin. (autocannon takes an array here; its types say a string.)
        url: baseUrls.length === 1 ? baseUrls[0] : (baseUrls as unknown as string),
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
      },
      (error: Error | null, done: autocannon.Result) => (error ? reject(error) : resolve(done)),
    );
    let replies = 0;
    instance.on('response', () => {
      lastReply = performance.now();
      if (++replies === options.amount) cpuAtLastReply = readCpu(target.pids);
    });
  });
  // At a rate, autocannon sends each second's share at the start of that second: a run of 5 s keeps up
  // when its last reply comes before the 5 s are over.
  const seconds = Math.max(
    (lastReply - started) / 1000,
    options.rate === undefined ? 0 : options.amount / options.rate,
  );
  await target.drain?.();
  const drainSeconds = target.drain === undefined ? 0 : (performance.now() - lastReply) / 1000;
  const ok = result['2xx'];
  const perRequestMs = (cpuSeconds: number) => (ok === 0 ? 0 : (1000 * cpuSeconds) / ok);
  const cpuAfter = readCpu(target.pids);
  const cpuMs = (key: keyof CpuReading) => perRequestMs(cpuAfter[key] - cpuBefore[key]);
  const serverCpuMs = cpuMs('server');
  const machineCpuMs = cpuMs('machine');
  process.stdout.write(
    `  ${ok} ok in ${seconds.toFixed(2)} s, ${result.non2xx} non-2xx, ${result.errors} errors, ` +
      `${result.timeouts} timeouts; p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; ` +
      `${target.drain === undefined ? '' : `deferred work done ${drainSeconds.toFixed(2)} s after; `}` +
      `CPU per request ${serverCpuMs.toFixed(2)} ms in the server, ${cpuMs('postgres').toFixed(2)} in ` +
      `PostgreSQL, ${cpuMs('harness').toFixed(2)} in the gateway and receiver, ${cpuMs('load').toFixed(2)} ` +
      `in the load generator, ${machineCpuMs.toFixed(2)} ms in all` +
      (cpuAtLastReply === undefined || target.drain === undefined
        ? ''
        : `; until the last reply: ${perRequestMs(cpuAtLastReply.server - cpuBefore.server).toFixed(2)} ms ` +
          `in the server, ${perRequestMs(cpuAtLastReply.machine - cpuBefore.machine).toFixed(2)} ms in all`) +
      '\n',
  );
  return {
    requests: ok,
    seconds,
    perSecond: ok / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
    serverCpuMs,
    machineCpuMs,
    drainSeconds,
  };
}

interface Target {
  name: string;
  baseUrls: readonly string[];
  bodies: Bodies;
  /** The server's processes, whose CPU time is counted with their descendants'. */
  pids: readonly number[];
  /**
   * Resolves once the server's deferred work is done, so that it runs in the server's own measurement
   * rather than in the next server's.
   */
  drain?: () => Promise<void>;
}

/**
 * Halves go through every server in turn, then again in the reverse order: the machine's drifting load, and
 * running right after another server's work, fall on all alike.
 */
const HALVES = 2;

/** The servers in the order the `half`th half runs them. */
const turn = <T>(targets: readonly T[], half: number): readonly T[] =>
  half % 2 === 0 ? targets : [...targets].reverse();

function combine(halves: Phase[]): Phase {
  const requests = halves.reduce((sum, half) => sum + half.requests, 0);
  const seconds = halves.reduce((sum, half) => sum + half.seconds, 0);
  const perRequest = (key: 'serverCpuMs' | 'machineCpuMs') =>
    requests === 0 ? 0 : halves.reduce((sum, half) => sum + half[key] * half.requests, 0) / requests;
  return {
    requests,
    seconds,
    perSecond: requests / seconds,
    // Percentiles of two runs do not combine exactly: the mean of the medians, the worse tail.
    p50: halves.reduce((sum, half) => sum + half.p50, 0) / halves.length,
    p99: Math.max(...halves.map((half) => half.p99)),
    failures: halves.reduce((sum, half) => sum + half.failures, 0),
    serverCpuMs: perRequest('serverCpuMs'),
    machineCpuMs: perRequest('machineCpuMs'),
    drainSeconds: halves.reduce((sum, half) => sum + half.drainSeconds, 0),
  };
}

/**
 * `settle` runs once every server is warm, and again after each measured phase: what a phase leaves
 * PostgreSQL to do (the dirty buffers to write, autovacuum's work on the rows it wrote) is done before the
 * next server is loaded, in nobody's figures, instead of slowing whichever server comes next.
 */
async function runInterleaved(
  targets: Target[],
  settle: () => Promise<void>,
): Promise<Map<string, { saturation: Phase; rated: Phase }>> {
  const saturation = new Map<string, Phase[]>(targets.map((t) => [t.name, []]));
  const rated = new Map<string, Phase[]>(targets.map((t) => [t.name, []]));
  for (const target of targets) {
    process.stdout.write(`[${target.name}] warming up...\n`);
    await load(target, { amount: WARMUP_REQUESTS });
  }
  process.stdout.write('vacuuming and checkpointing before the measured runs, and after each of them...\n');
  await settle();
  for (let half = 0; half < HALVES; half++) {
    for (const target of turn(targets, half)) {
      process.stdout.write(
        `[${target.name}] ${SATURATION_REQUESTS / HALVES} notifications at saturation...\n`,
      );
      saturation.get(target.name)!.push(await load(target, { amount: SATURATION_REQUESTS / HALVES }));
      await settle();
    }
  }
  for (let half = 0; half < HALVES; half++) {
    for (const target of turn(targets, half)) {
      process.stdout.write(`[${target.name}] ${RATE}/s for ${RATE_SECONDS / HALVES} s...\n`);
      rated
        .get(target.name)!
        .push(await load(target, { amount: (RATE * RATE_SECONDS) / HALVES, rate: RATE }));
      await settle();
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

/** A table whose columns are as wide as their widest cell. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((cells) => cells[column].length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)];
}

const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

interface Measured {
  saturation: Phase;
  rated: Phase;
}

/** The targets a ledger's figures are held to, against the Nest/Express baseline of the same run. */
function verdicts(ledger: Measured, nest: Measured, fastify: Measured): string[][] {
  const percentOf = (a: number, b: number) => `${((100 * a) / b).toFixed(0)}%`;
  const met = (ok: boolean) => (ok ? 'yes' : 'NO');
  const p99Ratio = ledger.rated.p99 / nest.rated.p99;
  const tightBound = nest.rated.p99 < 35;
  return [
    [
      'at saturation, of the Nest baseline',
      percentOf(ledger.saturation.perSecond, nest.saturation.perSecond),
      '>= 60%',
      met(ledger.saturation.perSecond >= 0.6 * nest.saturation.perSecond),
    ],
    [
      'at saturation, of the Fastify baseline',
      percentOf(ledger.saturation.perSecond, fastify.saturation.perSecond),
      '',
      '',
    ],
    [
      `rate held at ${RATE}/s, of the Nest baseline's`,
      percentOf(ledger.rated.perSecond, nest.rated.perSecond),
      '>= 98%',
      met(ledger.rated.perSecond >= 0.98 * nest.rated.perSecond),
    ],
    [`p99 at ${RATE}/s, to the Nest baseline's`, `${p99Ratio.toFixed(2)}x`, '<= 1.5x', met(p99Ratio <= 1.5)],
    [
      `p99 at ${RATE}/s (Nest baseline's p99 ${nest.rated.p99} ms)`,
      `${ledger.rated.p99} ms`,
      tightBound ? '<= 50 ms' : '(none: >= 35 ms)',
      tightBound ? met(ledger.rated.p99 <= 50) : '',
    ],
    [
      'failed replies',
      String(ledger.saturation.failures + ledger.rated.failures),
      '0',
      met(ledger.saturation.failures + ledger.rated.failures === 0),
    ],
  ];
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
  // The variant's own: a ledger on the same database would also send the other's webhooks, and run its
  // consumers half the time.
  const variantName = `${name}_variant`;
  const children: Child[] = [];
  const urlOf = (database: string) => {
    const url = new URL(ADMIN_URL);
    url.pathname = `/${database}`;
    return url.toString();
  };
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const databaseUrl = urlOf(name);

    // autocannon prepares a request or two ahead on each connection: a little more than it will send.
    const perServer =
      WARMUP_REQUESTS + SATURATION_REQUESTS + RATE * RATE_SECONDS + 4 * SATURATION_CONNECTIONS;
    // The baselines and the single ledger get the same bodies (the baselines only store them); N
    // instances get orders of their own, or they would only see duplicates.
    const orderNumbers = (prefix: string) =>
      Array.from({ length: perServer }, (_, i) => `BENCH-${prefix}${String(i).padStart(7, '0')}`);
    const single = orderNumbers('A');
    const several = INSTANCES > 1 ? orderNumbers('N') : [];
    const variantEnv =
      process.env.BENCH_VARIANT_ENV === undefined
        ? undefined
        : (JSON.parse(process.env.BENCH_VARIANT_ENV) as Record<string, string>);
    const variant = variantEnv === undefined ? [] : orderNumbers('V');
    const prepare = async (url: string, orders: readonly string[]) => {
      const database = await openDatabase({
        databaseUrl: url,
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
        process.stdout.write(`placing ${orders.length} orders...\n`);
        await placeOrders(database.dataSource, orders);
      } finally {
        await database.close();
      }
    };
    await prepare(databaseUrl, [...single, ...several]);
    if (variantEnv !== undefined) {
      await admin.query(`CREATE DATABASE ${variantName}`);
      await prepare(urlOf(variantName), variant);
    }

    const gateway = await startChild(['bench/ingest.bench.ts', '--serve=gateway'], {}, { line: true });
    children.push(gateway);
    harnessPids.push(gateway.process.pid!);

    const [gatewayUrl, webhookUrl] = gateway.ready.split(' ');
    const serverEnv = (port: number, extra: Record<string, string> = {}) => ({
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LEDGER_MODE: 'demo',
      ADMIN_TOKEN: 'bench-ingest-admin-token-00000001',
      ALIPAY_GATEWAY: gatewayUrl,
      LOG_LEVEL: 'error',
      // Every paid order is delivered through a webhook to the receiver, as deployed. The instances share
      // the deliveries; BENCH_FULFILMENT_WORKER=false measures API instances whose process managers run
      // elsewhere.
      MERCHANT_WEBHOOK_URL: webhookUrl,
      FULFILMENT_WORKER: process.env.BENCH_FULFILMENT_WORKER ?? 'true',
      ...(JSON.parse(process.env.BENCH_LEDGER_ENV ?? '{}') as Record<string, string>),
      ...extra,
    });
    /** A server's base URL and its process id. */
    const startServer = async (
      args: string[],
      readiness: 'line' | 'health',
      extraEnv: Record<string, string> = {},
    ): Promise<{ url: string; pid: number }> => {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const child = await startChild(
        args,
        serverEnv(port, extraEnv),
        readiness === 'line' ? { line: true } : { url: `${base}/health` },
      );
      children.push(child);
      return { url: base, pid: child.process.pid! };
    };

    const nestServer = await startServer(['bench/ingest.bench.ts', '--serve=baseline'], 'line');
    const fastifyServer = await startServer(['bench/ingest.bench.ts', '--serve=fastify'], 'line');
    // One after another: each start applies no migration, but the first would wait for the others' locks.
    const ledgers: { url: string; pid: number }[] = [];
    for (let i = 0; i < INSTANCES; i++)
      ledgers.push(await startServer(['apps/ledger/src/main.ts'], 'health'));
    const variantServer =
      variantEnv === undefined
        ? undefined
        : await startServer(['apps/ledger/src/main.ts'], 'health', {
            ...variantEnv,
            DATABASE_URL: urlOf(variantName),
          });

    // The ledgers' deferred work: every consumer's checkpoint at the last event, no webhook still to send.
    const drained = async (drainClient: Client): Promise<void> => {
      const deadline = performance.now() + 120_000;
      for (;;) {
        const [row] = (
          await drainClient.query<{ behind: string; webhooks: string }>(
            `SELECT (SELECT count(*) FROM projection_checkpoints c, (SELECT transaction_id, global_position
                       FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1) last
                     WHERE (c.transaction_id, c.position) < (last.transaction_id, last.global_position)) AS behind,
                    (SELECT count(*) FROM webhook_messages WHERE state IN ('pending', 'delivering')) AS webhooks`,
          )
        ).rows;
        if (row.behind === '0' && row.webhooks === '0') return;
        if (performance.now() > deadline)
          throw new Error(`the ledger's deferred work is not done after 120 s: ${JSON.stringify(row)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const drainClients: Client[] = [];
    const drainOf = async (url: string): Promise<() => Promise<void>> => {
      const drainClient = new Client({ connectionString: url });
      await drainClient.connect();
      drainClients.push(drainClient);
      return () => drained(drainClient);
    };
    const drain = await drainOf(databaseUrl);
    const bodies = notificationBodies(single);
    const targets: Target[] = [
      {
        name: 'Nest baseline',
        baseUrls: [nestServer.url],
        bodies: new Bodies(bodies),
        pids: [nestServer.pid],
      },
      {
        name: 'Fastify baseline',
        baseUrls: [fastifyServer.url],
        bodies: new Bodies(bodies),
        pids: [fastifyServer.pid],
      },
      {
        name: 'ledger',
        baseUrls: [ledgers[0].url],
        bodies: new Bodies(bodies),
        pids: [ledgers[0].pid],
        drain,
      },
    ];
    const severalName = `ledger x${INSTANCES}`;
    if (INSTANCES > 1)
      targets.push({
        name: severalName,
        baseUrls: ledgers.map((ledger) => ledger.url),
        bodies: new Bodies(notificationBodies(several)),
        pids: ledgers.map((ledger) => ledger.pid),
        drain,
      });
    if (variantServer !== undefined)
      targets.push({
        name: 'ledger variant',
        baseUrls: [variantServer.url],
        bodies: new Bodies(notificationBodies(variant)),
        pids: [variantServer.pid],
        drain: await drainOf(urlOf(variantName)),
      });
    const loadBefore = loadAverage();
    // The seed's, the warm-ups' and each phase's writes leave vacuums and a checkpoint due, which would
    // otherwise fall on whichever server is loaded next.
    const settle = async () => {
      for (const client of drainClients) await client.query('VACUUM (ANALYZE)');
      await admin.query('CHECKPOINT');
    };
    const results = await runInterleaved(targets, settle);
    const loadAfter = loadAverage();
    for (const client of drainClients) await client.end();
    // What N instances hold of max_connections (docs/operations.md, "Connections").
    const connections = await admin.query<{ application_name: string; count: string }>(
      `SELECT application_name, count(*) AS count FROM pg_stat_activity WHERE datname = $1
       GROUP BY application_name ORDER BY application_name`,
      [name],
    );
    for (const child of children.splice(1).reverse()) await stopChild(child);

    const check = new Client({ connectionString: databaseUrl });
    await check.connect();
    // A failed or rejected row's reason says what a non-2xx reply was (docs/operations.md, "Replies").
    const outcomes = await check.query<{ outcome: string; count: string }>(
      `SELECT outcome || COALESCE(' (' || (outcome_detail ->> 'reason') || ')', '') AS outcome, count(*) AS count
       FROM inbox_notifications GROUP BY 1 ORDER BY 1`,
    );
    const paid = await check.query<{ count: string }>(
      `SELECT count(*) AS count FROM events WHERE type = 'PaymentSucceeded'`,
    );
    // What the ledger's tables grow by, indexes and TOAST included (docs/operations.md, "What one
    // PostgreSQL carries"). The row counts are estimates after ANALYZE.
    await check.query(`ANALYZE events, streams, inbox_notifications, processed_notifications, order_status`);
    const storage = await check.query<{ table: string; rows: string; bytes: string }>(
      `SELECT c.relname AS table, c.reltuples::bigint AS rows, pg_total_relation_size(c.oid) AS bytes
       FROM pg_class c
       WHERE c.relname IN ('events', 'streams', 'inbox_notifications', 'processed_notifications', 'order_status')
         AND c.relnamespace = 'public'::regnamespace
       ORDER BY c.relname`,
    );
    await check.end();

    const server = await admin.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings
       WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'max_connections')`,
    );
    const ms = (value: number) => `${value.toFixed(1)} ms`;
    const perSecond = (phase: Phase) => `${phase.perSecond.toFixed(0)}/s`;
    const measured = targets.map((target) => results.get(target.name)!);
    const [nest, fastify, ledger] = measured;
    const severalMeasured = results.get(severalName);
    const figures = table(
      ['workload', ...targets.map((target) => target.name)],
      [
        [
          `notifications/s at saturation (${SATURATION_CONNECTIONS} conn.)`,
          ...measured.map((m) => perSecond(m.saturation)),
        ],
        [
          `rate held at ${RATE}/s offered (${RATE_CONNECTIONS} conn.)`,
          ...measured.map((m) => perSecond(m.rated)),
        ],
        [`p50 at ${RATE}/s`, ...measured.map((m) => ms(m.rated.p50))],
        [`p99 at ${RATE}/s`, ...measured.map((m) => ms(m.rated.p99))],
        [
          'all work done at saturation (replies, projections, webhooks)',
          ...measured.map(
            (m) =>
              `${(m.saturation.requests / (m.saturation.seconds + m.saturation.drainSeconds)).toFixed(0)}/s`,
          ),
        ],
        [
          'CPU per notification at saturation: server',
          ...measured.map((m) => `${m.saturation.serverCpuMs.toFixed(2)} ms`),
        ],
        [
          'CPU per notification at saturation: machine',
          ...measured.map((m) => `${m.saturation.machineCpuMs.toFixed(2)} ms`),
        ],
        [
          'failed replies (all runs)',
          ...measured.map((m) => String(m.saturation.failures + m.rated.failures)),
        ],
      ],
    );
    const ledgerVerdicts = verdicts(ledger, nest, fastify);
    const severalVerdicts =
      severalMeasured === undefined ? undefined : verdicts(severalMeasured, nest, fastify);
    const targetsTable = table(
      [
        'the ledger against the baselines',
        'ledger',
        'met',
        ...(severalVerdicts === undefined ? [] : [severalName, 'met']),
        'target',
      ],
      ledgerVerdicts.map(([what, value, target, met], i) => [
        what,
        value,
        met,
        ...(severalVerdicts === undefined ? [] : [severalVerdicts[i][1], severalVerdicts[i][3]]),
        target,
      ]),
    );
    const variantMeasured = results.get('ledger variant');
    const variantLine =
      variantMeasured === undefined
        ? []
        : [
            '',
            `ledger variant (${process.env.BENCH_VARIANT_ENV}) against the ledger: ` +
              `${(variantMeasured.saturation.perSecond / ledger.saturation.perSecond).toFixed(2)}x at saturation, ` +
              `CPU per notification ${variantMeasured.saturation.serverCpuMs.toFixed(2)} ms against ` +
              `${ledger.saturation.serverCpuMs.toFixed(2)} ms in the server`,
          ];
    const scaling =
      severalMeasured === undefined
        ? []
        : [
            '',
            `${severalName} against one instance: ` +
              `${(severalMeasured.saturation.perSecond / ledger.saturation.perSecond).toFixed(2)}x at saturation, ` +
              `p99 at ${RATE}/s ${ms(severalMeasured.rated.p99)} against ${ms(ledger.rated.p99)} ` +
              `(round-robin over ${INSTANCES} processes by connection, each connection an equal share)`,
          ];
    process.stdout.write(
      [
        '',
        `PostgreSQL: ${server.rows.map((r) => `${r.name}=${r.setting}`).join(', ')}`,
        `load average (1, 5, 15 min): ${loadBefore} before the measured runs, ${loadAfter} after; ` +
          `${cpus().length} cores`,
        '',
        ...figures,
        '',
        ...targetsTable,
        ...scaling,
        ...variantLine,
        '',
        `inbox outcomes: ${outcomes.rows.map((r) => `${r.outcome} ${r.count}`).join(', ')}; ` +
          `PaymentSucceeded events: ${paid.rows[0].count}`,
        `connections to the database at the end of the runs, by application: ` +
          connections.rows.map((r) => `${r.application_name || '(none)'} ${r.count}`).join(', ') +
          ` (${INSTANCES} ledger process${INSTANCES === 1 ? '' : 'es'})`,
        `storage, indexes included: ` +
          storage.rows
            .map(
              (r) =>
                `${r.table} ${r.rows} rows, ${(Number(r.bytes) / 1024 / 1024).toFixed(1)} MiB ` +
                `(${Number(r.rows) === 0 ? '-' : (Number(r.bytes) / Number(r.rows)).toFixed(0)} B/row)`,
            )
            .join('; '),
        '',
      ].join('\n'),
    );
  } finally {
    for (const child of children.reverse()) await stopChild(child).catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`DROP DATABASE IF EXISTS ${variantName} WITH (FORCE)`);
    await admin.end();
  }
}

const serve = process.argv.find((arg) => arg.startsWith('--serve='))?.slice('--serve='.length);
const run =
  serve === 'baseline'
    ? serveBaseline
    : serve === 'fastify'
      ? serveFastify
      : serve === 'gateway'
        ? serveGateway
        : main;
run().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
