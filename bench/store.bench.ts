// `npm run bench:store`: event store throughput on PostgreSQL and on the embedded default, each against a
// baseline of plain INSERTs of the same rows through the same driver and pool. Prints
// figures; asserts nothing. BENCH_EVENTS scales the run (default 200,000 events replayed per database).
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LEDGER_EVENT_CATALOGUE } from '@ledger/domain';
import { EventSchemas, EventStore, type NewEvent } from '@ledger/event-store';
import { openDatabase, runMigrations, type LedgerDatabase } from '@ledger/platform';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { LEDGER_MIGRATIONS } from '../apps/ledger/src/ledger-migrations';

const EVENTS = positiveInteger('BENCH_EVENTS', 200_000);
const WRITERS = 16;
const BATCH_SIZE = 100;
const EVENTS_PER_STREAM = 10;
const REPLAY_PAGE = 1_000;
const POSTGRES_POOL_SIZE = WRITERS;
const ADMIN_URL =
  process.env.BENCH_DATABASE_ADMIN_URL ??
  process.env.TEST_DATABASE_ADMIN_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';

/** Each workload is split in two halves, run baseline, store, baseline, store, against drift in load. */
const HALVES = 2;
const SINGLE_APPENDS = roundTo(Math.max(WRITERS * HALVES * 10, EVENTS / 20), WRITERS * HALVES);
const BATCHED_APPENDS = roundTo(Math.max(WRITERS * HALVES, EVENTS / BATCH_SIZE / 4), WRITERS * HALVES);

interface Rate {
  /** Operations per second of wall time. */
  wall: number;
  /** Operations per second of CPU time, client and server processes together: what load elsewhere on
   * the machine does not change. */
  cpu: number;
}

interface Row {
  database: string;
  workload: string;
  unit: string;
  baseline: Rate;
  store: Rate;
  target?: string;
  /** On PostgreSQL, the least share of the baseline's wall rate the store must reach. */
  ratioTarget?: number;
}

/** Single-event appends from Node, against plain INSERTs of the same rows (docs/event-store.md, "Append cost"). */
const SINGLE_APPEND_TARGET = 0.8;

/**
 * Cumulative CPU seconds of everything doing the work, per process: this one, plus the server's backends.
 * Per process, because the pool closes idle connections: a backend gone by the end of a measurement
 * takes its whole history with it, and only what the survivors (and newcomers) did counts.
 */
type CpuClock = () => Promise<Map<string, number>>;

const clientCpuSeconds = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

/** Linux's USER_HZ, the unit of utime and stime in /proc/<pid>/stat. */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds of a local process from /proc; 0 when it is gone or not local. */
function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

interface Measured {
  seconds: number;
  cpuSeconds: number;
}

async function measure(cpu: CpuClock, work: () => Promise<unknown>): Promise<Measured> {
  const cpuBefore = await cpu();
  const started = process.hrtime.bigint();
  await work();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  let cpuSeconds = 0;
  for (const [key, after] of await cpu()) cpuSeconds += after - (cpuBefore.get(key) ?? 0);
  return { seconds, cpuSeconds };
}

function rate(operations: number, measured: Measured[]): Rate {
  const sum = (key: keyof Measured) => measured.reduce((total, m) => total + m[key], 0);
  return { wall: operations / sum('seconds'), cpu: operations / sum('cpuSeconds') };
}

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

function roundTo(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

/** A payment notification's worth of data (~300 bytes of JSON), as the ledger will store. */
function orderData(writer: number, n: number) {
  return {
    outTradeNo: `BENCH${writer}-${n}`,
    tradeNo: `2024050122001${String(writer * 1_000_000 + n).padStart(12, '0')}`,
    tradeStatus: 'TRADE_SUCCESS',
    totalFeeFen: 1_234 + n,
    sellerId: '2088101122136241',
    buyerEmail: 'buyer@example.com',
    subject: 'A bench order',
    gmtPayment: '2024-05-01 12:00:00',
    notifyId: randomBytes(16).toString('hex'),
  };
}

const BASELINE_TABLE = `
  CREATE TABLE bench_baseline_events (
    global_position  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id   xid8 NOT NULL DEFAULT pg_current_xact_id(),
    stream_id        text NOT NULL,
    version          integer NOT NULL,
    type             text NOT NULL,
    schema_version   integer NOT NULL DEFAULT 1,
    data             json NOT NULL,
    metadata         jsonb NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream_id, version)
  );
  CREATE INDEX ON bench_baseline_events (transaction_id, global_position)`;

const BASELINE_COLUMNS = 'stream_id, version, type, schema_version, data, metadata';

/** The store's columns and indexes, without its streams table, version claim, guard or triggers. */
class Baseline {
  constructor(private readonly dataSource: DataSource) {}

  async create(): Promise<void> {
    for (const statement of BASELINE_TABLE.split(';')) await this.dataSource.query(statement);
  }

  async insert(streamId: string, firstVersion: number, events: NewEvent[]): Promise<void> {
    // The same metadata the store writes: a correlation id for the statement, used as causation id.
    const correlationId = randomUUID();
    const metadata = JSON.stringify({ correlationId, causationId: correlationId });
    const values: unknown[] = [];
    const tuples = events.map((event, i) => {
      values.push(streamId, firstVersion + i, event.type, 1, JSON.stringify(event.data), metadata);
      const at = i * 6;
      return `($${at + 1}, $${at + 2}, $${at + 3}, $${at + 4}, $${at + 5}, $${at + 6})`;
    });
    await this.dataSource.query(
      `INSERT INTO bench_baseline_events (${BASELINE_COLUMNS}) VALUES ${tuples.join(', ')}`,
      values,
    );
  }

  async replay(): Promise<number> {
    let after = 0;
    let count = 0;
    for (;;) {
      const rows = await this.dataSource.query<{ global_position: string }[]>(
        `SELECT global_position, transaction_id::text AS transaction_id, ${BASELINE_COLUMNS}, recorded_at
         FROM bench_baseline_events WHERE global_position > $1 ORDER BY global_position LIMIT $2`,
        [after, REPLAY_PAGE],
      );
      if (rows.length === 0) return count;
      count += rows.length;
      after = Number(rows[rows.length - 1].global_position);
    }
  }
}

/** Runs `operations` split over WRITERS concurrent writers. */
async function concurrently(
  operations: number,
  operation: (writer: number, n: number) => Promise<unknown>,
): Promise<void> {
  const perWriter = operations / WRITERS;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, writer) => {
      for (let n = 0; n < perWriter; n++) await operation(writer, n);
    }),
  );
}

/** Baseline and store over the same operations, interleaved in halves. */
async function compare(
  cpu: CpuClock,
  label: string,
  operations: number,
  baseline: (prefix: string, writer: number, n: number) => Promise<unknown>,
  store: (prefix: string, writer: number, n: number) => Promise<unknown>,
): Promise<{ baseline: Rate; store: Rate }> {
  const baselineRuns: Measured[] = [];
  const storeRuns: Measured[] = [];
  for (let half = 0; half < HALVES; half++) {
    const slice = operations / HALVES;
    baselineRuns.push(
      await measure(cpu, () => concurrently(slice, (w, n) => baseline(`${label}-b${half}`, w, n))),
    );
    storeRuns.push(await measure(cpu, () => concurrently(slice, (w, n) => store(`${label}-s${half}`, w, n))));
  }
  return { baseline: rate(operations, baselineRuns), store: rate(operations, storeRuns) };
}

const perEvent = (r: Rate): Rate => ({ wall: r.wall * BATCH_SIZE, cpu: r.cpu * BATCH_SIZE });

async function benchmark(name: string, database: LedgerDatabase, cpu: CpuClock): Promise<Row[]> {
  const { dataSource } = database;
  const store = new EventStore(dataSource, new EventSchemas(LEDGER_EVENT_CATALOGUE));
  const baseline = new Baseline(dataSource);
  await baseline.create();
  const rows: Row[] = [];
  const event = (writer: number, n: number): NewEvent => ({
    type: 'PaymentSucceeded',
    data: orderData(writer, n),
  });
  const batch = (writer: number, n: number) =>
    Array.from({ length: BATCH_SIZE }, (_, i) => event(writer, n * BATCH_SIZE + i));

  // Single events: each writer fills its own streams, EVENTS_PER_STREAM events each, with expected versions.
  const streamOf = (prefix: string, writer: number, n: number) =>
    `${prefix}-${writer}-${Math.floor(n / EVENTS_PER_STREAM)}`;
  const appendOne = (prefix: string, writer: number, n: number) =>
    store.append(streamOf(prefix, writer, n), n % EVENTS_PER_STREAM, [event(writer, n)]);
  const insertOne = (prefix: string, writer: number, n: number) =>
    baseline.insert(streamOf(prefix, writer, n), (n % EVENTS_PER_STREAM) + 1, [event(writer, n)]);

  process.stdout.write(`[${name}] warming up...\n`);
  await compare(cpu, 'warm', WRITERS * HALVES * 10, insertOne, appendOne);

  process.stdout.write(`[${name}] ${SINGLE_APPENDS} single-event appends, ${WRITERS} writers...\n`);
  const single = await compare(cpu, 'single', SINGLE_APPENDS, insertOne, appendOne);
  rows.push({
    database: name,
    workload: `single-event appends, ${WRITERS} writers`,
    unit: 'appends/s',
    ...single,
    target: `>= ${SINGLE_APPEND_TARGET * 100}% (PostgreSQL)`,
    ratioTarget: SINGLE_APPEND_TARGET,
  });

  process.stdout.write(
    `[${name}] ${BATCHED_APPENDS} appends of ${BATCH_SIZE} events, ${WRITERS} writers...\n`,
  );
  const batched = await compare(
    cpu,
    'batch',
    BATCHED_APPENDS,
    (prefix, writer, n) => baseline.insert(`${prefix}-${writer}-${n}`, 1, batch(writer, n)),
    (prefix, writer, n) => store.append(`${prefix}-${writer}-${n}`, 'no_stream', batch(writer, n)),
  );
  rows.push({
    database: name,
    workload: `appends of ${BATCH_SIZE} events, ${WRITERS} writers`,
    unit: 'events/s',
    baseline: perEvent(batched.baseline),
    store: perEvent(batched.store),
  });

  // Fill the store up to EVENTS, copy the same rows into the baseline table, then replay both.
  const count = async (table: string) =>
    Number((await dataSource.query<{ n: string }[]>(`SELECT count(*) AS n FROM ${table}`))[0].n);
  const missing = EVENTS - (await count('events'));
  if (missing > 0) {
    const appends = roundTo(missing / BATCH_SIZE, WRITERS);
    process.stdout.write(`[${name}] filling the store with ${appends * BATCH_SIZE} more events...\n`);
    await concurrently(appends, (writer, n) =>
      store.append(`fill-${writer}-${n}`, 'no_stream', batch(writer, n)),
    );
  }
  await dataSource.query(`TRUNCATE bench_baseline_events`);
  await dataSource.query(
    `INSERT INTO bench_baseline_events (${BASELINE_COLUMNS})
     SELECT ${BASELINE_COLUMNS} FROM events ORDER BY global_position`,
  );
  await dataSource.query(`VACUUM ANALYZE events`);
  await dataSource.query(`VACUUM ANALYZE bench_baseline_events`);

  process.stdout.write(`[${name}] replaying ${await count('events')} events, pages of ${REPLAY_PAGE}...\n`);
  let baselineRows = 0;
  const baselineReplay = await measure(cpu, async () => (baselineRows = await baseline.replay()));
  let replayed = 0;
  const storeReplay = await measure(cpu, async () => {
    for (let after = 0; ;) {
      const page = await store.readAll(after, REPLAY_PAGE);
      if (page.length === 0) return;
      replayed += page.length;
      after = page[page.length - 1].globalPosition;
    }
  });
  rows.push({
    database: name,
    workload: `readAll replay by position (vs plain SELECT pages)`,
    unit: 'events/s',
    baseline: rate(baselineRows, [baselineReplay]),
    store: rate(replayed, [storeReplay]),
    target: '>= 100,000/s (PostgreSQL)',
  });
  return rows;
}

async function onPostgres(): Promise<Row[]> {
  const admin = new Client({ connectionString: ADMIN_URL });
  try {
    await admin.connect();
  } catch (error) {
    process.stdout.write(`[postgres] skipped: cannot reach ${new URL(ADMIN_URL).host} (${String(error)})\n`);
    return [];
  }
  const name = `ledger_bench_${randomBytes(4).toString('hex')}`;
  try {
    const settings = await admin.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings WHERE name IN ('server_version', 'fsync', 'synchronous_commit')`,
    );
    process.stdout.write(`[postgres] ${settings.rows.map((r) => `${r.name}=${r.setting}`).join(', ')}\n`);
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    const database = await openDatabase({
      databaseUrl: url.toString(),
      dataDir: tmpdir(),
      poolSize: POSTGRES_POOL_SIZE,
      applicationName: 'bench-store',
    });
    try {
      await runMigrations(database.dataSource, LEDGER_MIGRATIONS);
      // The server's share of the work: the backends of the bench database, read from /proc when local.
      const serverCpu = async () => {
        const backends = await admin.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE datname = $1`,
          [name],
        );
        const clock = new Map([['client', clientCpuSeconds()]]);
        for (const { pid } of backends.rows) clock.set(`backend ${pid}`, processCpuSeconds(pid));
        return clock;
      };
      return await benchmark('postgres', database, serverCpu);
    } finally {
      await database.close();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

async function onEmbedded(): Promise<Row[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-bench-'));
  try {
    const database = await openDatabase({ dataDir });
    try {
      await runMigrations(database.dataSource, LEDGER_MIGRATIONS);
      // PGlite runs inside this process: its work is this process's CPU time.
      return await benchmark('embedded', database, () =>
        Promise.resolve(new Map([['client', clientCpuSeconds()]])),
      );
    } finally {
      await database.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function printTable(rows: Row[]): void {
  const figure = (n: number) => Math.round(n).toLocaleString('en-US');
  const ratio = (store: number, baseline: number) => `${Math.round((store / baseline) * 100)}%`;
  console.table(
    rows.map((row) => ({
      database: row.database,
      workload: row.workload,
      unit: row.unit,
      baseline: figure(row.baseline.wall),
      'event store': figure(row.store.wall),
      ratio: ratio(row.store.wall, row.baseline.wall),
      target: row.target ?? '',
      'baseline per CPU-s': figure(row.baseline.cpu),
      'store per CPU-s': figure(row.store.cpu),
      'CPU ratio': ratio(row.store.cpu, row.baseline.cpu),
    })),
  );
  process.stdout.write(
    'per CPU-s: operations per second of CPU time of this process and the database backends together; ' +
      'unlike wall figures, it does not depend on what else the machine is running.\n' +
      `load average at the end: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}\n`,
  );
  for (const row of rows) {
    if (row.ratioTarget === undefined || row.database !== 'postgres') continue;
    const wall = row.store.wall / row.baseline.wall;
    // One decimal: a rounded "80%" must not read as met when it is 79.6%.
    const precise = (share: number) => `${(share * 100).toFixed(1)}%`;
    process.stdout.write(
      `${row.database}, ${row.workload}: ${precise(wall)} of plain INSERTs ` +
        `(${precise(row.store.cpu / row.baseline.cpu)} per CPU-s); target >= ${precise(row.ratioTarget)}: ` +
        `${wall >= row.ratioTarget ? 'met' : 'MISSED'}\n`,
    );
  }
}

/** The projector's figures (rebuild, lag), when bench/projector.bench.ts provides them. */
async function projectorBenchmarks(): Promise<void> {
  const path = join(__dirname, 'projector.bench');
  if (!existsSync(`${path}.ts`)) return;
  const projector = (await import(path)) as { runProjectorBenchmarks?: () => Promise<void> };
  await projector.runProjectorBenchmarks?.();
}

async function main(): Promise<void> {
  process.stdout.write(
    `event store benchmark: ${EVENTS} events replayed per database, ${SINGLE_APPENDS} single-event and ` +
      `${BATCHED_APPENDS} batched appends per side, ${WRITERS} writers\n` +
      `baseline: plain INSERTs of the same rows into a table with the same columns and indexes ` +
      `(no streams table, version claim, order guard or triggers), same driver and pool\n`,
  );
  const rows = [...(await onPostgres()), ...(await onEmbedded())];
  printTable(rows);
  await projectorBenchmarks();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
