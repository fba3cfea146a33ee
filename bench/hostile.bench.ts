// `npm run bench:hostile`: the cost of hostile notification bodies (docs/operations.md, "Hostile input").
//
// 1. The whole CPU path a body takes before the database: `extractIdentifiers` (what the inbox INSERT
//    reads) and `verifyNotification` with the ledger's options, for worst-case bodies of 1 KB, 100 KB and
//    1 MB, next to a genuine signed notification in the same run. Median and max of BENCH_RUNS runs (after
//    two warm-up runs) of this process's CPU time, with the median wall time beside it; a verdict line
//    against the bound: 50 ms for the worst 1 MB body, judged on its CPU median (on a shared machine the
//    wall time and a single run's max also measure the neighbours).
// 2. The ledger on the embedded database, then on a scratch PostgreSQL database, BENCH_CLIENTS clients streaming hostile 1 MB bodies to
//    /alipay/notify for BENCH_STREAM_SECONDS while /health is polled: /health's latency then, next to its
//    latency when idle. Stops by itself. Prints figures; asserts nothing.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyNotification, type VerificationOptions } from '@ledger/alipay-protocol';
import { loadConfig, type LedgerConfig } from '@ledger/platform';
import { Client } from 'pg';
import { newTradeNo, signedNotification, tradeStatusSyncParams } from '@ledger/testing';
import { createLedgerApp } from '../apps/ledger/src/ledger-app';
import { extractIdentifiers } from '../libs/inbox/src/inbox-store';

const RUNS = positiveInteger('BENCH_RUNS', 7);
const CLIENTS = positiveInteger('BENCH_CLIENTS', 4);
const STREAM_SECONDS = positiveInteger('BENCH_STREAM_SECONDS', 5);
const BOUND_MS = 50;
const SIZES = [
  { label: '1 KB', bytes: 1024 },
  { label: '100 KB', bytes: 100 * 1024 },
  { label: '1 MB', bytes: 1024 * 1024 },
] as const;
const CONTENT_TYPE = 'application/x-www-form-urlencoded; text/html; charset=UTF-8';
const SIGNED = `sign=${'0'.repeat(32)}&sign_type=MD5&notify_id=hostile&`;

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

/** `prefix` then `unit(i)` joined by `&` for i = 0, 1, ... until `size` bytes. */
function filled(size: number, unit: (i: number) => string, prefix = ''): Buffer {
  const parts: string[] = [];
  let length = prefix.length;
  for (let i = 0; length < size; i++) {
    const part = unit(i);
    parts.push(part);
    length += part.length + 1;
  }
  return Buffer.from(`${prefix}${parts.join('&')}`.slice(0, size), 'latin1');
}

/** `prefix` then one value of `unit` repeated until `size` bytes. */
function oneValue(size: number, prefix: string, unit: string): Buffer {
  const room = Math.max(0, size - prefix.length);
  return Buffer.from(`${prefix}${unit.repeat(Math.ceil(room / unit.length))}`.slice(0, size), 'latin1');
}

const HOSTILE: Readonly<Record<string, (size: number) => Buffer>> = {
  'many empty names': (size) => filled(size, (i) => `p${i}`),
  'many distinct names': (size) => filled(size, (i) => `p${i}=${i}`),
  'many duplicates': (size) => filled(size, () => 'a=1'),
  'many &': (size) => Buffer.alloc(size, '&'),
  'many =value': (size) => filled(size, () => '=x'),
  'a long value': (size) => oneValue(size, `${SIGNED}v=`, 'a'),
  'a long value of spaces (+)': (size) => oneValue(size, `${SIGNED}v=`, '+'),
  'deep escapes (%25)': (size) => oneValue(size, `${SIGNED}v=`, '%25'),
  'lone %': (size) => oneValue(size, `${SIGNED}v=`, '%'),
  '%u escapes': (size) => oneValue(size, `${SIGNED}v=`, '%u0041'),
  NULs: (size) => oneValue(size, `${SIGNED}v=`, '%00'),
  'invalid GBK, raw': (size) =>
    Buffer.concat([Buffer.from(`_input_charset=gbk&${SIGNED}v=`), Buffer.alloc(size, 0x81)]).subarray(
      0,
      size,
    ),
  'invalid GBK, escaped': (size) => oneValue(size, `_input_charset=gbk&${SIGNED}v=`, '%81%FF'),
  '190 long GBK values': (size) => {
    const each = Math.max(1, Math.floor((size - 64) / 190 / 6));
    return filled(size, (i) => `p${i}=${'%D6%D0'.repeat(each)}`, `_input_charset=gbk&${SIGNED}`);
  },
  'a huge name': (size) => oneValue(size, '', 'n'),
};

function ledgerOptions(config: LedgerConfig): VerificationOptions {
  const { alipay } = config;
  return {
    signType: alipay.signType,
    md5Keys: alipay.md5Keys,
    ...(alipay.alipayPublicKeyPem === undefined ? {} : { alipayPublicKeyPem: alipay.alipayPublicKeyPem }),
    defaultCharset: alipay.inputCharset,
    contentType: CONTENT_TYPE,
    source: 'notify',
  };
}

/** Everything a body costs before the database: the inbox's identifiers, then the verification. */
function preDatabasePath(body: Buffer, options: VerificationOptions): string {
  extractIdentifiers(body);
  return verifyNotification(body, options).reason;
}

interface Timing {
  /** Median and max of this process's CPU time per run: what the body costs, whatever the neighbours do. */
  readonly median: number;
  readonly max: number;
  /** Median wall time, which a busy shared machine stretches. */
  readonly wall: number;
}

function timed(run: () => void, runs: number): Timing {
  run();
  run();
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < runs; i++) {
    const startCpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    run();
    wall.push(Number(process.hrtime.bigint() - start) / 1e6);
    const used = process.cpuUsage(startCpu);
    cpu.push((used.user + used.system) / 1000);
  }
  cpu.sort((a, b) => a - b);
  wall.sort((a, b) => a - b);
  const middle = Math.floor(runs / 2);
  return { median: cpu[middle], max: cpu[runs - 1], wall: wall[middle] };
}

const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;

function genuineNotification(): Buffer {
  return signedNotification(
    tradeStatusSyncParams({
      outTradeNo: 'BENCH-1',
      tradeNo: newTradeNo(),
      tradeStatus: 'TRADE_SUCCESS',
      totalFee: '12.34',
    }),
  ).body;
}

function cpuSection(config: LedgerConfig): void {
  const options = ledgerOptions(config);
  const genuine = genuineNotification();
  if (preDatabasePath(genuine, options) !== 'VERIFIED')
    throw new Error('the genuine notification does not verify');
  const genuineTime = timed(() => {
    for (let i = 0; i < 100; i++) preDatabasePath(genuine, options);
  }, RUNS);
  console.log(`\n1. The pre-database CPU path (extractIdentifiers + verifyNotification), ${RUNS} runs each`);
  console.log(
    `   genuine notification (${genuine.length} bytes): cpu median ${ms(genuineTime.median / 100)}, max ${ms(genuineTime.max / 100)}, wall median ${ms(genuineTime.wall / 100)} (per notification, batches of 100)\n`,
  );
  let worst = { name: '', median: 0, max: 0, wall: 0 };
  for (const { label, bytes } of SIZES) {
    console.log(`   ${label}`);
    for (const [name, build] of Object.entries(HOSTILE)) {
      const body = build(bytes);
      const reason = preDatabasePath(body, options);
      const time = timed(() => preDatabasePath(body, options), RUNS);
      console.log(
        `     ${name.padEnd(28)} ${reason.padEnd(24)} cpu median ${ms(time.median).padStart(9)}  max ${ms(time.max).padStart(9)}  wall median ${ms(time.wall).padStart(9)}  (${(time.median / (genuineTime.median / 100)).toFixed(0)}× genuine)`,
      );
      if (bytes === SIZES[2].bytes && time.median > worst.median) worst = { name, ...time };
    }
  }
  const verdict = worst.median <= BOUND_MS ? 'PASS' : 'FAIL';
  console.log(
    `\n   verdict: ${verdict}: the worst 1 MB body (${worst.name}) takes ${ms(worst.median)} of CPU (median; max ${ms(worst.max)}; wall median ${ms(worst.wall)}), bound ${BOUND_MS} ms`,
  );
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

async function healthLatencies(baseUrl: string, until: () => boolean): Promise<number[]> {
  const latencies: number[] = [];
  while (!until()) {
    const start = process.hrtime.bigint();
    const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(30_000) });
    await response.arrayBuffer();
    latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return latencies.sort((a, b) => a - b);
}

function describeLatencies(label: string, sorted: readonly number[]): string {
  return `   ${label.padEnd(34)} p50 ${ms(percentile(sorted, 50)).padStart(9)}  p99 ${ms(percentile(sorted, 99)).padStart(9)}  max ${ms(sorted[sorted.length - 1]).padStart(9)}  (${sorted.length} requests)`;
}

/** The ledger on `where`: the embedded database in a new directory, or a new PostgreSQL database. */
async function httpSection(where: 'embedded' | 'postgres'): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-hostile-bench-'));
  const scratch = where === 'postgres' ? await scratchDatabase() : undefined;
  if (where === 'postgres' && scratch === undefined) return;
  const config = loadConfig(
    {
      LEDGER_MODE: 'demo',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'fatal',
      FULFILMENT_WORKER: 'false',
      ...(scratch === undefined ? {} : { DATABASE_URL: scratch.url }),
    },
    { envFile: false },
  );
  const ledger = await createLedgerApp(config);
  try {
    await ledger.app.listen(0, '127.0.0.1');
    const baseUrl = (await ledger.app.getUrl()).replace('[::1]', '127.0.0.1');
    // Uint8Array: fetch's body type, whichever lib (Node's or the DOM's) declares it.
    const bodies = Object.values(HOSTILE).map((build) => new Uint8Array(build(SIZES[2].bytes)));

    const idleEnd = Date.now() + 2000;
    const idle = await healthLatencies(baseUrl, () => Date.now() > idleEnd);

    const streamEnd = Date.now() + STREAM_SECONDS * 1000;
    const statuses = new Map<number, number>();
    const clients = Array.from({ length: CLIENTS }, async (_, client) => {
      for (let i = client; Date.now() < streamEnd; i++) {
        const response = await fetch(`${baseUrl}/alipay/notify`, {
          method: 'POST',
          headers: { 'content-type': CONTENT_TYPE },
          body: bodies[i % bodies.length],
          signal: AbortSignal.timeout(60_000),
        });
        await response.arrayBuffer();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      }
    });
    const [streaming] = await Promise.all([
      healthLatencies(baseUrl, () => Date.now() > streamEnd),
      ...clients,
    ]);

    const sent = [...statuses.values()].reduce((a, b) => a + b, 0);
    console.log(
      `\n2. The ledger on ${where === 'postgres' ? 'PostgreSQL' : 'the embedded database'}: ${CLIENTS} clients streaming hostile 1 MB bodies for ${STREAM_SECONDS} s`,
    );
    console.log(
      `   ${sent} bodies answered (${[...statuses].map(([status, count]) => `${count} × ${status}`).join(', ')}), ${((sent * SIZES[2].bytes) / 1024 / 1024 / STREAM_SECONDS).toFixed(1)} MB/s`,
    );
    console.log(describeLatencies('/health when idle', idle));
    console.log(describeLatencies('/health while bodies stream in', streaming));
  } finally {
    await ledger.close();
    await scratch?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const ADMIN_URL =
  process.env.BENCH_DATABASE_ADMIN_URL ??
  process.env.TEST_DATABASE_ADMIN_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';

/** A new database on the PostgreSQL server, dropped afterwards; undefined (and said) when unreachable. */
async function scratchDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const admin = new Client({ connectionString: ADMIN_URL });
  try {
    await admin.connect();
  } catch (error) {
    console.log(`\n2. PostgreSQL skipped: cannot reach ${new URL(ADMIN_URL).host} (${String(error)})`);
    return undefined;
  }
  const name = `ledger_bench_hostile_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

async function main(): Promise<void> {
  const config = loadConfig({ LOG_LEVEL: 'fatal' }, { envFile: false });
  console.log(`hostile notification bodies, node ${process.version}`);
  cpuSection(config);
  await httpSection('embedded');
  await httpSection('postgres');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
