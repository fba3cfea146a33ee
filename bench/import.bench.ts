// `npm run bench:import`: notifications per second imported from a generated PHP integration log
// (`import-log`: parse, verify, de-duplicate, decide, one commit per notification on the `import` channel),
// against baselines in the same run: the log's raw parse rate (entries split and read as notifications, no
// signature) and the parse + signature rate (no database). The orders are placed first from a generated
// order table (`import-orders --place-only`), whose rows/s are printed too; then the same log is imported a
// second time (every notification a duplicate). Prints figures and the load average; asserts nothing.
//
// BENCH_NOTIFICATIONS (default 100,000) is the log's size in notifications, two per order
// (WAIT_BUYER_PAY, then TRADE_SUCCESS), as one-line createLinkstringUrlencode entries and one in ten as
// createLinkstring. TEST_DATABASE=postgres (the default here) runs on the PostgreSQL server of the test
// suites; BENCH_DATABASE=embedded on the embedded database.
import 'reflect-metadata';
import { loadavg } from 'node:os';
import { Test } from '@nestjs/testing';
import { verifyNotification, type TextParam } from '@ledger/alipay-protocol';
import { LEDGER_EVENT_CATALOGUE } from '@ledger/domain';
import { EventStoreModule } from '@ledger/event-store';
import {
  createLinkstring,
  createLinkstringUrlencode,
  LegacyImportModule,
  LogImporter,
  logResult,
  OrderTableImporter,
  readLogFile,
  readNotificationText,
} from '@ledger/legacy-import';
import { DEMO_ALIPAY, LedgerLogger, loadConfig, PlatformModule } from '@ledger/platform';
import { createTestDatabase, signedNotification, tradeStatusSyncParams } from '@ledger/testing';

const NOTIFICATIONS = positiveInteger('BENCH_NOTIFICATIONS', 100_000);
const CONCURRENCY = positiveInteger('BENCH_CONCURRENCY', 4);
const ORDERS = Math.max(1, Math.floor(NOTIFICATIONS / 2));

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

const T0 = Date.parse('2016-01-01T00:00:00Z');

function generate(): { log: Buffer; csv: Buffer } {
  const entries: string[] = [];
  const rows = ['id,trade_no,status,total_fee,subject,create_dtime'];
  for (let order = 0; order < ORDERS; order++) {
    const outTradeNo = `bench-${order}`;
    const tradeNo = `2016010121001004${String(order).padStart(12, '0')}`;
    rows.push(`${outTradeNo},${tradeNo},8,128.00,"会员, a&b=c",2016-01-01 08:00:00`);
    for (const [step, tradeStatus] of (['WAIT_BUYER_PAY', 'TRADE_SUCCESS'] as const).entries()) {
      const at = new Date(T0 + order * 1000 + step * 500);
      const params: TextParam[] = [
        ...signedNotification(
          tradeStatusSyncParams({
            outTradeNo,
            tradeNo,
            tradeStatus,
            totalFee: '128.00',
            subject: '会员, a&b=c+d',
            notifyTime: at,
            notifyId: `bench${order}x${step}`,
          }),
          DEMO_ALIPAY.md5Key,
        ).params,
      ];
      const text =
        (order * 2 + step) % 10 === 9 ? createLinkstring(params) : createLinkstringUrlencode(params, 'utf-8');
      entries.push(logResult(at, text));
    }
  }
  return { log: Buffer.from(entries.join('')), csv: Buffer.from(rows.join('\n')) };
}

function rate(count: number, ms: number): string {
  return `${Math.round((count / ms) * 1000).toLocaleString('en')}/s`;
}

function timed<T>(work: () => T): { value: T; ms: number } {
  const started = performance.now();
  const value = work();
  return { value, ms: performance.now() - started };
}

async function timedAsync<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

async function main(): Promise<void> {
  const load = (): string =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(`${NOTIFICATIONS} notifications (${ORDERS} orders); load average ${load()}`);
  const generated = timed(generate);
  const { log, csv } = generated.value;
  console.log(`generated a ${(log.length / 1e6).toFixed(1)} MB log in ${Math.round(generated.ms)} ms`);

  // Baselines: the same log read without a database.
  const parsed = timed(() => {
    const file = readLogFile(log);
    let read = 0;
    for (const entry of file.entries) if (readNotificationText(entry.text).kind === 'notification') read += 1;
    return { file, read };
  });
  const config = loadConfig({ LOG_LEVEL: 'warn' }, { envFile: false });
  const verified = timed(() => {
    let ok = 0;
    for (const entry of parsed.value.file.entries) {
      const reading = readNotificationText(entry.text);
      if (reading.kind !== 'notification') continue;
      // As the importer does: each reading in turn until one verifies.
      for (const candidate of reading.candidates) {
        const body =
          candidate.format === 'linkstring_urlencoded'
            ? Buffer.from(candidate.body, 'latin1')
            : Buffer.from(createLinkstringUrlencode(candidate.params, 'utf-8'), 'latin1');
        const result = verifyNotification(body, {
          signType: 'MD5',
          md5Keys: config.alipay.md5Keys,
          defaultCharset: 'utf-8',
          source: 'notify',
        });
        if (result.ok) {
          ok += 1;
          break;
        }
      }
    }
    return ok;
  });
  console.log(
    `baseline, parse only:        ${rate(parsed.value.read, parsed.ms)} (${parsed.value.read} read)`,
  );
  console.log(
    `baseline, parse + signature: ${rate(NOTIFICATIONS, verified.ms)} (${verified.value} verified)`,
  );

  const kind = process.env.BENCH_DATABASE === 'embedded' ? 'embedded' : 'postgres';
  process.env.TEST_DATABASE = kind === 'postgres' ? 'postgres' : '';
  const database = await createTestDatabase('bench_import');
  const logger = new LedgerLogger('warn');
  const module = await Test.createTestingModule({
    imports: [
      PlatformModule.forRoot({ config, database, logger }),
      EventStoreModule.forRoot({ catalogue: LEDGER_EVENT_CATALOGUE }),
      LegacyImportModule,
    ],
  })
    .setLogger(logger)
    .compile();
  const app = await module.init();
  try {
    const placed = await timedAsync(() =>
      app
        .get(OrderTableImporter)
        .importTable(
          { path: 'user_order.csv', bytes: csv },
          { dryRun: false, placeOnly: true, columns: {}, service: 'create_direct_pay_by_user' },
        ),
    );
    console.log(
      `${kind}: import-orders --place-only: ${rate(placed.value.totals.placed, placed.ms)} ` +
        `(${placed.value.totals.placed} orders in ${Math.round(placed.ms)} ms)`,
    );
    const first = await timedAsync(() =>
      app
        .get(LogImporter)
        .importFiles([{ path: 'log.txt', bytes: log }], { dryRun: false, concurrency: CONCURRENCY }),
    );
    const t = first.value.totals;
    console.log(
      `${kind}: import-log (${CONCURRENCY} lanes):       ${rate(t.entries, first.ms)} ` +
        `(${t.applied} applied, ${t.rejected} rejected, ${t.events} events in ${Math.round(first.ms)} ms)`,
    );
    const again = await timedAsync(() =>
      app
        .get(LogImporter)
        .importFiles([{ path: 'log.txt', bytes: log }], { dryRun: false, concurrency: CONCURRENCY }),
    );
    console.log(
      `${kind}: import-log again (${CONCURRENCY} lanes): ${rate(again.value.totals.entries, again.ms)} ` +
        `(${again.value.totals.duplicate} duplicates, ${again.value.totals.events} events)`,
    );
    console.log(`load average ${load()}`);
  } finally {
    await app.close();
    await database.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
