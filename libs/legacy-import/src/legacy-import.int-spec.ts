import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { encodeText, type Charset, type TextParam } from '@ledger/alipay-protocol';
import { LEDGER_EVENT_CATALOGUE, orderStatusOf } from '@ledger/domain';
import { EventStore, EventStoreModule } from '@ledger/event-store';
import { InboxQueries } from '@ledger/inbox';
import { LedgerLogger, loadConfig, PlatformModule } from '@ledger/platform';
import { CommandBus } from '@nestjs/cqrs';
import { ReplayNotificationsCommand, StreamReads } from '@ledger/commands';
import {
  createTestDatabase,
  newNotifyId,
  newTradeNo,
  signedNotification,
  tradeStatusSyncParams,
  type TestDatabase,
  type TradeStatusSyncFacts,
} from '@ledger/testing';
import { LegacyImportModule } from './legacy-import.module';
import { LogImporter, type LogImportReport } from './log-importer';
import { OrderTableImporter, type OrderTableOptions } from './order-table-importer';
import {
  createLinkstring,
  createLinkstringUrlencode,
  jsonEncode,
  logResult,
  printR,
  varExport,
} from './php-kit-output';

// A PHP integration's history imported into a fresh ledger: its order table, its logs in every format and
// both charsets, with retries, a tampered line and an order the logs never mention; then everything again.

const T0 = new Date('2016-11-30T02:00:00Z');
const minutes = (n: number): Date => new Date(T0.getTime() + n * 60_000);

function signed(facts: TradeStatusSyncFacts, charset: Charset = 'utf-8'): TextParam[] {
  return [...signedNotification(tradeStatusSyncParams(facts), undefined, charset).params];
}

function bytes(text: string, charset: Charset): Buffer {
  const encoded = encodeText(text, charset);
  if (!encoded.ok) throw new Error('unencodable');
  return encoded.value;
}

const A_PAID = { outTradeNo: 'php-A', tradeNo: newTradeNo(), totalFee: '12.30' };
const B_FINISHED = { outTradeNo: 'php-B', tradeNo: newTradeNo(), totalFee: '8.00' };
const E_REFUNDED = { outTradeNo: 'php-E', tradeNo: newTradeNo(), totalFee: '99.00' };
const F_AMOUNT = { outTradeNo: 'php-F', tradeNo: newTradeNo(), totalFee: '5.00' };

const CSV = [
  'id,trade_no,status,total_fee,subject,create_dtime',
  `php-A,${A_PAID.tradeNo},8,12.30,"年费, a&b=c+d",2016-11-30 09:58:00`,
  // Finished in the table; the log only saw the payment.
  `php-B,${B_FINISHED.tradeNo},4,8.00,会员,2016-11-30 09:59:00`,
  'php-C,,0,1.00,never paid,2016-11-30 10:00:00',
  // Known only from the table: paid, with no notification anywhere.
  'php-D,2016113021001004000000000001,8,3.00,only the table,2016-11-30 10:01:00',
  `php-E,${E_REFUNDED.tradeNo},105,99.00,refunded,2016-11-30 10:02:00`,
  // The table's amount is not what was paid.
  `php-F,${F_AMOUNT.tradeNo},8,6.00,amount differs,2016-11-30 10:03:00`,
].join('\n');

const aPaid = signed({
  ...A_PAID,
  tradeStatus: 'TRADE_SUCCESS',
  notifyId: newNotifyId(),
  notifyTime: minutes(1),
  subject: '年费, a&b=c+d 100%',
});
const aTampered = aPaid.map((p) => (p.name === 'total_fee' ? { ...p, value: '0.01' } : p));
const bPaid = signed(
  { ...B_FINISHED, tradeStatus: 'TRADE_SUCCESS', notifyTime: minutes(2), subject: '会员' },
  'gbk',
);
const eClosed = signed(
  { ...E_REFUNDED, tradeStatus: 'TRADE_CLOSED', refundStatus: 'REFUND_SUCCESS', notifyTime: minutes(30) },
  'gbk',
);
const eWait = signed({ ...E_REFUNDED, tradeStatus: 'WAIT_BUYER_PAY', notifyTime: minutes(3) });
const fPaid = signed({ ...F_AMOUNT, tradeStatus: 'TRADE_SUCCESS', notifyTime: minutes(4) });

/** The UTF-8 log: every format, a retry of A, a tampered copy of A, debug noise. */
const UTF8_LOG =
  logResult(minutes(1), createLinkstringUrlencode(aPaid, 'utf-8')) +
  logResult(minutes(1), '订单 php-A 处理成功') +
  logResult(minutes(5), createLinkstring(aPaid)) +
  logResult(minutes(6), createLinkstring(aTampered)) +
  logResult(minutes(3), printR(eWait)) +
  logResult(minutes(4), jsonEncode(fPaid));
/** The GBK log: var_export and an urlencoded linkstring of GBK bytes. */
const GBK_LOG =
  logResult(minutes(2), varExport(bPaid)) + logResult(minutes(30), createLinkstringUrlencode(eClosed, 'gbk'));

describe('importing a PHP integration history', () => {
  let database: TestDatabase;
  let app: INestApplicationContext;
  let logs: LogImporter;
  let table: OrderTableImporter;
  const files = (): { path: string; bytes: Buffer }[] => [
    { path: '/var/www/alipay/log.txt', bytes: bytes(UTF8_LOG, 'utf-8') },
    { path: '/var/www/alipay-gbk/log.txt', bytes: bytes(GBK_LOG, 'gbk') },
  ];
  const csv = { path: 'user_order.csv', bytes: Buffer.from(CSV) };
  const orderOptions = (extra: Partial<OrderTableOptions> = {}): OrderTableOptions => ({
    dryRun: false,
    placeOnly: false,
    columns: {},
    service: 'create_direct_pay_by_user',
    ...extra,
  });

  async function counts(): Promise<{ events: number; inbox: number }> {
    const [row] = await database.dataSource.query<{ events: string; inbox: string }[]>(
      `SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM inbox_notifications) AS inbox`,
    );
    return { events: Number(row.events), inbox: Number(row.inbox) };
  }

  beforeAll(async () => {
    database = await createTestDatabase('legacy_import');
    const config = loadConfig({ LOG_LEVEL: 'fatal' }, { envFile: false });
    const logger = new LedgerLogger('fatal');
    const module = await Test.createTestingModule({
      imports: [
        PlatformModule.forRoot({ config, database, logger }),
        EventStoreModule.forRoot({ catalogue: LEDGER_EVENT_CATALOGUE }),
        LegacyImportModule,
      ],
    })
      .setLogger(logger)
      .compile();
    app = await module.init();
    logs = app.get(LogImporter);
    table = app.get(OrderTableImporter);
  });

  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  it('previews, then places the orders of the table', async () => {
    const preview = await table.importTable(csv, orderOptions({ dryRun: true, placeOnly: true }));
    expect(preview.totals).toMatchObject({ rows: 6, placed: 6, errors: 0 });
    expect(await counts()).toEqual({ events: 0, inbox: 0 });

    const placed = await table.importTable(csv, orderOptions({ placeOnly: true }));
    expect(placed.totals).toMatchObject({ rows: 6, placed: 6, statusesImported: 0 });
    expect(await counts()).toEqual({ events: 6, inbox: 0 });
  });

  it('previews the logs without writing anything', async () => {
    const preview = await logs.importFiles(files(), { dryRun: true });
    expect(preview.totals).toMatchObject({
      entries: 8,
      would_apply: 5,
      duplicate: 1,
      would_reject: 1,
      skipped: 1,
    });
    expect(await counts()).toEqual({ events: 6, inbox: 0 });
  });

  let first: LogImportReport;
  it('records the verified notifications with Alipay’s times and keeps the tampered one as evidence', async () => {
    first = await logs.importFiles(files(), { dryRun: false, concurrency: 3 });
    expect(first.totals).toMatchObject({
      entries: 8,
      applied: 5,
      duplicate: 1,
      rejected: 1,
      skipped: 1,
      failed: 0,
    });
    expect(first.files.map((f) => f.charset)).toEqual(['utf-8', 'gbk']);
    const formats = first.notifications.filter((n) => n.result === 'applied').map((n) => n.format);
    expect(formats.sort()).toEqual([
      'json',
      'linkstring_urlencoded',
      'linkstring_urlencoded',
      'print_r',
      'var_export',
    ]);

    const store = app.get(EventStore);
    const paid = (await store.readStream('order-php-A')).find((e) => e.type === 'PaymentSucceeded');
    expect(paid?.data).toMatchObject({ notifyTime: minutes(1).toISOString(), paidFee: 1230 });

    const tampered = first.notifications.find((n) => n.result === 'rejected')!;
    expect(tampered).toMatchObject({ line: 7, outTradeNo: 'php-A' });
    const row = await app.get(InboxQueries).get(tampered.inboxId!);
    expect(row).toMatchObject({ channel: 'import', verified: false, outcome: 'rejected' });
    const applied = await app.get(InboxQueries).get(first.notifications[0].inboxId!);
    expect(applied).toMatchObject({
      channel: 'import',
      verified: true,
      notifyVerify: { skipped: 'imported' },
    });
    expect(applied?.headers).toMatchObject({ 'x-import-file': 'log.txt', 'x-import-line': '1' });
  });

  it('imports the statuses no notification explains, and reports what disagrees', async () => {
    const report = await table.importTable(csv, orderOptions());
    const byOrder = Object.fromEntries(report.orders.map((o) => [o.outTradeNo, o]));
    expect(byOrder['php-A']).toMatchObject({ status: 'explained', disagreements: [] });
    expect(byOrder['php-B']).toMatchObject({ status: 'imported', explainedStatus: 'paid' });
    expect(byOrder['php-B'].disagreements[0]).toMatch(/status 4 .* notifications show: paid/);
    expect(byOrder['php-C']).toMatchObject({ status: 'explained', disagreements: [] });
    expect(byOrder['php-D']).toMatchObject({ status: 'imported', explainedStatus: 'awaiting_payment' });
    expect(byOrder['php-D'].disagreements).toEqual([
      'status 8 (paid) is supported by no notification in the log',
    ]);
    expect(byOrder['php-E']).toMatchObject({ status: 'explained' });
    // The notification's amount is not the table's: an anomaly, no payment, the table's status imported.
    expect(byOrder['php-F']).toMatchObject({ status: 'imported', explainedStatus: 'awaiting_payment' });
    expect(byOrder['php-F'].disagreements).toEqual([
      'status 8 (paid) is not what the notifications show: awaiting_payment (0)',
      expect.stringMatching(/^notification \w+: total_fee 500 fen is not the order's 600 fen$/),
    ]);

    const reads = app.get(StreamReads);
    for (const [outTradeNo, code] of [
      ['php-A', 8],
      ['php-B', 4],
      ['php-C', 0],
      ['php-D', 8],
      ['php-E', 105],
    ] as const) {
      expect(orderStatusOf((await reads.order(outTradeNo)).state)?.statusCode).toBe(code);
    }
  });

  it('appends nothing when everything is imported again', async () => {
    const before = await counts();
    const again = await logs.importFiles(files(), { dryRun: false });
    expect(again.totals).toMatchObject({ applied: 0, rejected: 0, duplicate: 6, already_imported: 1 });
    const orders = await table.importTable(csv, orderOptions());
    expect(orders.totals).toMatchObject({ placed: 0, statusesImported: 0, alreadyImported: 3 });
    expect(await counts()).toEqual(before);

    // The imported rows are stored evidence like the others: a replay runs them and finds nothing new.
    const replay = await app
      .get(CommandBus)
      .execute(new ReplayNotificationsCommand({ all: true }, { dryRun: true }));
    expect(replay).toMatchObject({ selected: 6, replayed: 5, skipped: [{ reason: 'not_verified' }] });
    expect(replay.orders).toEqual([]);
  });

  it('routes an imported batch refund result by its notify_type, to the batch’s stream', async () => {
    const refund = [
      ...signedNotification({
        notify_time: '2016-11-30 12:00:00',
        notify_type: 'batch_refund_notify',
        notify_id: newNotifyId(),
        batch_no: '20161130001',
        success_num: '1',
        result_details: `${E_REFUNDED.tradeNo}^99.00^SUCCESS`,
      }).params,
    ];
    const log = Buffer.from(logResult(minutes(60), createLinkstring(refund)));
    const report = await logs.importFiles([{ path: 'refund_log.txt', bytes: log }], { dryRun: false });
    expect(report.totals).toMatchObject({ entries: 1, applied: 1 });
    const row = await app.get(InboxQueries).get(report.notifications[0].inboxId!);
    expect(row).toMatchObject({
      channel: 'import',
      batchNo: '20161130001',
      outcomeDetail: { outcome: 'applied', streamId: 'refund-batch-20161130001' },
    });
  });
});
