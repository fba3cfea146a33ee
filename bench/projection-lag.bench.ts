// The read side's figures, printed, asserting nothing: how long after an order's events
// commit the order status projection shows them (the wait of read-your-writes), alone and under concurrent
// writers; and how long `POST /admin/projections/rebuild`'s rebuild takes for the events written. Runs on
// PostgreSQL (a scratch database on 127.0.0.1:5432, TEST_DATABASE_ADMIN_URL to change it) and on the
// embedded database. BENCH_ORDERS (default 2,000) orders, each placed then paid: two commands, two events.
//
//   node -r @swc-node/register bench/projection-lag.bench.ts
import 'reflect-metadata';
import { loadavg } from 'node:os';
import { CommandBus } from '@nestjs/cqrs';
import { DEMO_ALIPAY, LedgerLogger, loadConfig } from '@ledger/platform';
import { PlaceOrderCommand, RecordTradeStatusCommand, type CommandContext } from '@ledger/commands';
import { ProjectionsService } from '@ledger/projections';
import { createTestDatabase, type TestDatabase } from '@ledger/testing';
import { createLedgerApp } from '../apps/ledger/src/ledger-app';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 2_000);
const WRITERS = 16;

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms`;
}

function commandsFor(i: number): [PlaceOrderCommand, RecordTradeStatusCommand] {
  const outTradeNo = `LAG-${i}`;
  const now = new Date().toISOString();
  const context: CommandContext = { causationId: `bench-${i}` };
  return [
    new PlaceOrderCommand(
      {
        type: 'PlaceOrder',
        outTradeNo,
        subject: 'Annual membership',
        totalFee: 12_000,
        service: 'create_direct_pay_by_user',
        sellerId: DEMO_ALIPAY.partner,
        requestParameters: { out_trade_no: outTradeNo, total_fee: '120.00' },
        placedAt: now,
      },
      context,
    ),
    new RecordTradeStatusCommand(
      {
        type: 'RecordTradeStatus',
        outTradeNo,
        tradeNo: `2026112322001004${String(i).padStart(12, '0')}`,
        tradeStatus: 'TRADE_SUCCESS',
        totalFee: 12_000,
        sellerId: DEMO_ALIPAY.partner,
        buyer: { id: '2088102122524333' },
        times: { gmtPayment: now },
        notifyId: `lag-${i}`,
        notifyTime: now,
        source: 'notify',
      },
      context,
    ),
  ];
}

/** Runs each command, then measures how long the projection takes to show its events. */
async function measure(
  commands: CommandBus,
  projections: ProjectionsService,
  from: number,
  to: number,
  writers: number,
): Promise<number[]> {
  const lags: number[] = [];
  let next = from;
  const writer = async () => {
    while (next < to) {
      const i = next++;
      for (const command of commandsFor(i)) {
        const decision = await commands.execute(command);
        if (decision.kind !== 'appended') continue;
        const committed = performance.now();
        await projections.waitForProjections(
          { transactionId: decision.transactionId, position: decision.position },
          30_000,
        );
        lags.push(performance.now() - committed);
      }
    }
  };
  await Promise.all(Array.from({ length: writers }, writer));
  return lags;
}

async function run(kind: 'postgres' | 'embedded'): Promise<void> {
  process.env.TEST_DATABASE = kind === 'postgres' ? 'postgres' : '';
  let database: TestDatabase;
  try {
    database = await createTestDatabase('bench_lag');
  } catch (error) {
    console.log(`${kind}: skipped (${String(error)})`);
    return;
  }
  const config = loadConfig(
    { ADMIN_TOKEN: 'bench-projection-lag-token-0000001', FULFILMENT_WORKER: 'false', LOG_LEVEL: 'warn' },
    { envFile: false },
  );
  const ledger = await createLedgerApp(config, { database, logger: new LedgerLogger('warn') });
  try {
    await ledger.app.init();
    const commands = ledger.app.get(CommandBus);
    const projections = ledger.app.get(ProjectionsService);
    const half = Math.floor(ORDERS / 2);
    const alone = await measure(commands, projections, 0, half, 1);
    const loaded = await measure(commands, projections, half, ORDERS, WRITERS);
    console.log(
      `${kind}: commit → visible in order_status, one writer:  ${summary(alone)} (${alone.length} commits)`,
    );
    console.log(
      `${kind}: commit → visible in order_status, ${WRITERS} writers: ${summary(loaded)} (${loaded.length} commits)`,
    );
    const report = await projections.rebuild();
    const [rebuilt] = report.projections;
    console.log(
      `${kind}: rebuild of ${rebuilt.events} events into ${rebuilt.rows} rows: ${report.durationMs} ms ` +
        `(${Math.round((rebuilt.events / Math.max(1, report.durationMs)) * 1000)} events/s)`,
    );
  } finally {
    await ledger.close();
    await database.close();
  }
}

async function main(): Promise<void> {
  console.log(
    `${ORDERS} orders, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  await run('postgres');
  await run('embedded');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
