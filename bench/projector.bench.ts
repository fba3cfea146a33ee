// Projector figures: rebuild throughput over BENCH_EVENTS events (default 200,000) and
// live projection lag, append to read-your-writes, at 200 and 1,000 appends/s, on PostgreSQL and on the
// embedded default. Prints figures; asserts nothing. Runs alone (`node -r @swc-node/register
// bench/projector.bench.ts`) or from bench/store.bench.ts through `runProjectorBenchmarks()`.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EventStore,
  Projector,
  type AppendResult,
  type NewEvent,
  type Projection,
  EventSchemas,
} from '@ledger/event-store';
import { LEDGER_EVENT_CATALOGUE } from '@ledger/domain';
import { openDatabase, runMigrations, type LedgerDatabase } from '@ledger/platform';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { LEDGER_MIGRATIONS } from '../apps/ledger/src/ledger-migrations';

const EVENTS = positiveInteger('BENCH_EVENTS', 200_000);
const LAG_SECONDS = positiveInteger('BENCH_LAG_SECONDS', 10);
const LAG_RATES = [200, 1_000];
const SEED_WRITERS = 16;
const EVENTS_PER_ORDER = 4;
const ADMIN_URL =
  process.env.BENCH_DATABASE_ADMIN_URL ??
  process.env.TEST_DATABASE_ADMIN_URL ??
  'postgres://postgres@127.0.0.1:5432/postgres';

export interface ProjectorFigures {
  database: 'postgres' | 'embedded';
  rebuild: { events: number; seconds: number; eventsPerSecond: number; eventsPerCpuSecond: number };
  lag: {
    targetRate: number;
    achievedRate: number;
    appends: number;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
  }[];
}

function positiveInteger(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1) throw new Error(`${name} must be a positive integer`);
  return parsed;
}

const print = (line: string) => process.stdout.write(`${line}\n`);

/** Cumulative CPU seconds of the work: this process (with PGlite, when embedded) plus the server's backends. */
type CpuClock = () => Promise<number>;

const clientCpuSeconds = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

/** CPU seconds of a local process from /proc (utime + stime, in USER_HZ = 100); 0 when not readable. */
function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An order-status-like projection, applied per batch as real ones are: load the batch's rows in one query,
 * evolve them in memory, upsert them in one statement.
 */
const TABLE = 'bench_order_status';
const orderStatus: Projection = {
  name: 'bench_order_status',
  handles: ['OrderPlaced', 'PaymentSucceeded', 'GoodsShipped', 'TradeFinished', 'RefundSucceeded'],
  tables: [TABLE],
  async apply(events, { session, table }) {
    interface Row {
      stream_id: string;
      status: string;
      total_fee: string;
      paid_fee: string;
      refunded_fee: string;
      events: number;
      last_position: string;
    }
    const target = table(TABLE);
    const ids = [...new Set(events.map((event) => event.streamId))];
    const rows = new Map(
      (await session.query<Row>(`SELECT * FROM ${target} WHERE stream_id = ANY($1::text[])`, [ids])).map(
        (row) => [row.stream_id, row],
      ),
    );
    for (const event of events) {
      const data = event.data as { fee?: number };
      const row = rows.get(event.streamId) ?? {
        stream_id: event.streamId,
        status: 'awaiting_payment',
        total_fee: '0',
        paid_fee: '0',
        refunded_fee: '0',
        events: 0,
        last_position: '0',
      };
      switch (event.type) {
        case 'OrderPlaced':
          row.total_fee = String(data.fee ?? 0);
          break;
        case 'PaymentSucceeded':
          row.status = 'paid';
          row.paid_fee = String(data.fee ?? 0);
          break;
        case 'GoodsShipped':
          row.status = 'shipped';
          break;
        case 'TradeFinished':
          row.status = 'finished';
          break;
        case 'RefundSucceeded':
          row.status = 'refunded';
          row.refunded_fee = String(Number(row.refunded_fee) + (data.fee ?? 0));
          break;
      }
      row.events++;
      row.last_position = String(event.globalPosition);
      rows.set(event.streamId, row);
    }
    const all = [...rows.values()];
    await session.query(
      `INSERT INTO ${target} (stream_id, status, total_fee, paid_fee, refunded_fee, events, last_position)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::int[], $7::bigint[])
       ON CONFLICT (stream_id) DO UPDATE SET status = excluded.status, total_fee = excluded.total_fee,
         paid_fee = excluded.paid_fee, refunded_fee = excluded.refunded_fee, events = excluded.events,
         last_position = excluded.last_position`,
      [
        all.map((row) => row.stream_id),
        all.map((row) => row.status),
        all.map((row) => row.total_fee),
        all.map((row) => row.paid_fee),
        all.map((row) => row.refunded_fee),
        all.map((row) => row.events),
        all.map((row) => row.last_position),
      ],
    );
  },
};

async function createTable(dataSource: DataSource): Promise<void> {
  await dataSource.query(`
    CREATE TABLE ${TABLE} (
      stream_id     text PRIMARY KEY,
      status        text NOT NULL,
      total_fee     bigint NOT NULL,
      paid_fee      bigint NOT NULL,
      refunded_fee  bigint NOT NULL,
      events        integer NOT NULL,
      last_position bigint NOT NULL
    )`);
  await dataSource.query(`CREATE INDEX ${TABLE}_by_status ON ${TABLE} (status)`);
}

const orderEvents = (n: number): NewEvent[] => {
  const fee = 100 + (n % 10_000);
  return [
    { type: 'OrderPlaced', data: { outTradeNo: `bench-${n}`, fee, subject: 'a bench order' } },
    {
      type: 'PaymentSucceeded',
      data: { fee, tradeNo: `2026${String(n).padStart(12, '0')}`, paymentType: 'instant' },
    },
    { type: 'GoodsShipped', data: { logistics: 'EXPRESS' } },
    { type: n % 7 === 0 ? 'RefundSucceeded' : 'TradeFinished', data: { fee: Math.floor(fee / 2) } },
  ].slice(0, EVENTS_PER_ORDER);
};

/** EVENTS events through the store: SEED_WRITERS writers, one append per order, each its own transaction. */
async function seed(store: EventStore): Promise<void> {
  const orders = Math.ceil(EVENTS / EVENTS_PER_ORDER);
  let next = 0;
  await Promise.all(
    Array.from({ length: SEED_WRITERS }, async () => {
      for (let n = next++; n < orders; n = next++)
        await store.append(`order-bench-${n}`, 'no_stream', orderEvents(n));
    }),
  );
}

/**
 * The rebuild's rate in wall time, and per CPU-second of client and server together: on this shared,
 * loaded machine the second says what an idle one would do (the rebuild runs one batch at a time, so the
 * client and the server never work in parallel).
 */
async function measureRebuild(dataSource: DataSource, cpu: CpuClock): Promise<ProjectorFigures['rebuild']> {
  const projector = new Projector(dataSource, [orderStatus], {
    schemas: new EventSchemas(LEDGER_EVENT_CATALOGUE),
  });
  const cpuBefore = await cpu();
  const started = performance.now();
  const sampling = setInterval(() => void cpu(), 250); // catches backends that leave before the end
  const outcome = await projector.rebuild(orderStatus.name).finally(() => clearInterval(sampling));
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = (await cpu()) - cpuBefore;
  return {
    events: outcome.events,
    seconds,
    eventsPerSecond: outcome.events / seconds,
    eventsPerCpuSecond: outcome.events / cpuSeconds,
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/**
 * Appends single events at `rate` per second for LAG_SECONDS, each followed by `waitFor`: the lag is the
 * time from the append's acknowledgement to the projection having applied it (read-your-writes).
 */
async function measureLag(
  store: EventStore,
  projector: Projector,
  rate: number,
): Promise<ProjectorFigures['lag'][number]> {
  const total = rate * LAG_SECONDS;
  const lags: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const task = (async () => {
      const appended: AppendResult = await store.append(
        `order-lag-${rate}-${i}`,
        'no_stream',
        orderEvents(i).slice(0, 1),
      );
      const acknowledged = performance.now();
      await projector.waitFor(orderStatus.name, appended, 30_000);
      lags.push(performance.now() - acknowledged);
    })();
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
  }
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  lags.sort((a, b) => a - b);
  return {
    targetRate: rate,
    achievedRate: total / seconds,
    appends: total,
    p50Ms: percentile(lags, 50),
    p99Ms: percentile(lags, 99),
    maxMs: lags[lags.length - 1],
  };
}

async function benchmark(
  kind: ProjectorFigures['database'],
  database: LedgerDatabase,
  cpu: CpuClock,
): Promise<ProjectorFigures> {
  const { dataSource } = database;
  await runMigrations(dataSource, LEDGER_MIGRATIONS);
  await createTable(dataSource);
  const store = new EventStore(dataSource, new EventSchemas(LEDGER_EVENT_CATALOGUE));
  const seedStarted = performance.now();
  await seed(store);
  print(`[${kind}] seeded ${EVENTS} events in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);
  const rebuild = await measureRebuild(dataSource, cpu);
  print(
    `[${kind}] rebuild: ${rebuild.events} events in ${rebuild.seconds.toFixed(2)} s = ` +
      `${Math.round(rebuild.eventsPerSecond).toLocaleString('en')} events/s wall, ` +
      `${Math.round(rebuild.eventsPerCpuSecond).toLocaleString('en')} events per CPU-second ` +
      '(target >= 50,000/s on PostgreSQL)',
  );
  const projector = new Projector(dataSource, [orderStatus], {
    schemas: new EventSchemas(LEDGER_EVENT_CATALOGUE),
  });
  await projector.start();
  const lag: ProjectorFigures['lag'] = [];
  try {
    for (const rate of LAG_RATES) {
      const figures = await measureLag(store, projector, rate);
      lag.push(figures);
      print(
        `[${kind}] lag at ${rate} appends/s (achieved ${figures.achievedRate.toFixed(0)}/s, ${figures.appends} appends): ` +
          `p50 ${figures.p50Ms.toFixed(1)} ms, p99 ${figures.p99Ms.toFixed(1)} ms, max ${figures.maxMs.toFixed(1)} ms` +
          (rate === 1_000 ? ' (target p99 <= 100 ms on PostgreSQL)' : '') +
          (figures.achievedRate < rate * 0.9
            ? ` (the database sustains only ~${figures.achievedRate.toFixed(0)} appends/s here: the backlog is part of the lag)`
            : ''),
      );
    }
  } finally {
    await projector.stop();
  }
  return { database: kind, rebuild, lag };
}

async function onPostgres(): Promise<ProjectorFigures | undefined> {
  const admin = new Client({ connectionString: ADMIN_URL });
  try {
    await admin.connect();
  } catch (error) {
    print(`[postgres] skipped: cannot reach ${new URL(ADMIN_URL).host} (${String(error)})`);
    return undefined;
  }
  const name = `ledger_bench_projector_${randomBytes(4).toString('hex')}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    const database = await openDatabase({
      databaseUrl: url.toString(),
      dataDir: tmpdir(),
      poolSize: SEED_WRITERS + 4,
      applicationName: 'bench-projector',
    });
    // Backends come and go with the pool: each one's last reading is kept, so the total never drops.
    const lastReading = new Map<number, number>();
    const serverCpu = async () => {
      const backends = await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = $1`,
        [name],
      );
      for (const { pid } of backends.rows) {
        lastReading.set(pid, Math.max(lastReading.get(pid) ?? 0, processCpuSeconds(pid)));
      }
      return [...lastReading.values()].reduce((total, seconds) => total + seconds, 0);
    };
    try {
      return await benchmark('postgres', database, async () => clientCpuSeconds() + (await serverCpu()));
    } finally {
      await database.close();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

async function onEmbedded(): Promise<ProjectorFigures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-bench-projector-'));
  try {
    const database = await openDatabase({ dataDir });
    try {
      return await benchmark('embedded', database, () => Promise.resolve(clientCpuSeconds()));
    } finally {
      await database.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Runs the projector benchmarks on PostgreSQL (when reachable) and on the embedded database. */
export async function runProjectorBenchmarks(): Promise<ProjectorFigures[]> {
  print(
    `projector benchmarks: ${EVENTS.toLocaleString('en')} events, lag ${LAG_SECONDS} s per rate; ` +
      `load average ${loadavg()
        .map((load) => load.toFixed(1))
        .join(' ')}`,
  );
  const figures: ProjectorFigures[] = [];
  const postgres = await onPostgres();
  if (postgres !== undefined) figures.push(postgres);
  figures.push(await onEmbedded());
  return figures;
}

if (require.main === module) {
  runProjectorBenchmarks().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
