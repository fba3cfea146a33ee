import {
  LEDGER_EVENT_CATALOGUE,
  orderStreamId,
  type OrderCommand,
  type RecordTradeStatus,
} from '@ledger/domain';
import { EventSchemas, EventStore, Projector, type AppendResult } from '@ledger/event-store';
import { createTestDatabase, csvObjects, parseCsv, type TestDatabase } from '@ledger/testing';
import {
  MONEY_MOVEMENTS_PROJECTION,
  moneyMovementsProjection,
} from '../money-movements/money-movements.projection';
import { appendOrderCommand } from '../order-commands.fixture';
import { ORDER_STATUS_PROJECTION, orderStatusProjection } from '../order-status.projection';
import { AccountingExports, EXPORT_PAGE_SIZE } from './accounting-exports';
import type { ExportInput } from './export-request';

const schemas = new EventSchemas(LEDGER_EVENT_CATALOGUE);
const SELLER = '2088101122136241';

jest.setTimeout(180_000);

describe('the accounting exports', () => {
  let db: TestDatabase;
  let store: EventStore;
  let projector: Projector;
  let exports: AccountingExports;
  let notices = 0;

  async function run(command: OrderCommand): Promise<void> {
    const appended = await appendOrderCommand(store, command);
    expect(appended).toBeDefined();
    await projector.waitFor(ORDER_STATUS_PROJECTION, appended!, 20_000);
    await projector.waitFor(MONEY_MOVEMENTS_PROJECTION, appended!, 20_000);
  }
  const place = (outTradeNo: string, subject: string, totalFee: number, placedAt: string) =>
    run({
      type: 'PlaceOrder',
      outTradeNo,
      subject,
      totalFee,
      service: 'create_direct_pay_by_user',
      sellerId: SELLER,
      requestParameters: { out_trade_no: outTradeNo },
      placedAt,
    });
  const trade = (
    outTradeNo: string,
    totalFee: number,
    tradeStatus: RecordTradeStatus['tradeStatus'],
    at: string,
    extra: Partial<RecordTradeStatus> = {},
  ) =>
    run({
      type: 'RecordTradeStatus',
      outTradeNo,
      tradeNo: `T-${outTradeNo}`,
      tradeStatus,
      totalFee,
      sellerId: SELLER,
      buyer: { id: '2088102122524333', email: 'buyer@example.com' },
      times: tradeStatus === 'TRADE_CLOSED' ? { gmtClose: at } : { gmtPayment: at },
      notifyId: `notify-${++notices}`,
      notifyTime: at,
      source: 'notify',
      ...extra,
    });
  const refund = async (outTradeNo: string, batchNo: string, amount: number, code: string, at: string) => {
    await run({ type: 'ReserveBatchRefund', outTradeNo, batchNo, amount, reason: '退货', requestedAt: at });
    await run({
      type: 'RecordBatchRefundResult',
      outTradeNo,
      batchNo,
      tradeNo: `T-${outTradeNo}`,
      amount,
      code,
      notifyId: `notify-${++notices}`,
      notifyTime: at,
    });
  };
  const text = async (input: ExportInput) => {
    let all = '';
    for await (const chunk of exports.stream(input)) all += chunk;
    return all;
  };
  const csv = async (input: ExportInput) => {
    const body = await text({ ...input, format: 'csv' });
    expect(body.startsWith('\uFEFF')).toBe(true);
    return csvObjects(parseCsv(body.slice(1)));
  };
  const jsonl = async (input: ExportInput) =>
    (await text({ ...input, format: 'jsonl' }))
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  beforeAll(async () => {
    db = await createTestDatabase('accounting_exports');
    store = new EventStore(db.dataSource, schemas);
    projector = new Projector(db.dataSource, [orderStatusProjection, moneyMovementsProjection], {
      schemas,
      rebuildBatchSize: 50,
    });
    await projector.start();
    exports = new AccountingExports(db.dataSource);

    // Beijing: 30 April 23:59:59 (the day before), 1 May 10:00, 1 May 11:00, 2 May 00:00 (the next day).
    await place('TEA-0', '前一天的订单', 100, '2024-04-30T15:59:59.000Z');
    await place('TEA-1', '龙井绿茶 250g', 12_800, '2024-05-01T02:00:00.000Z');
    await trade('TEA-1', 12_800, 'TRADE_SUCCESS', '2024-05-01T02:05:00.000Z');
    await refund('TEA-1', '20240501001', 3_000, 'SUCCESS', '2024-05-01T06:00:00.000Z');
    await place('TEA-2', '=HYPERLINK("http://evil.example","碧螺春, 特级")', 990, '2024-05-01T03:00:00.000Z');
    await trade('TEA-2', 990, 'TRADE_SUCCESS', '2024-05-01T03:01:00.000Z');
    await refund('TEA-2', '20240501002', 990, 'TRADE_NOT_ALLOWED', '2024-05-01T07:00:00.000Z');
    // Refunded in full from Alipay's console: the trade notice counts it.
    await trade('TEA-2', 990, 'TRADE_CLOSED', '2024-05-01T08:00:00.000Z', {
      refundStatus: 'REFUND_SUCCESS',
      gmtRefund: '2024-05-01T08:00:00.000Z',
    });
    await place('TEA-3', '普洱茶饼', 5_000, '2024-05-01T16:00:00.000Z');
    await trade('TEA-3', 5_000, 'TRADE_CLOSED', '2024-05-01T18:00:00.000Z');
  });
  afterAll(async () => {
    await projector?.stop();
    await db?.close();
  });

  const MAY_1 = { from: '2024-05-01', to: '2024-05-02' };

  it('exports the orders placed in a Beijing day, with amounts in yuan and Beijing times', async () => {
    expect(await csv({ kind: 'orders', ...MAY_1 })).toEqual([
      {
        out_trade_no: 'TEA-1',
        trade_no: 'T-TEA-1',
        subject: '龙井绿茶 250g',
        buyer_email: 'buyer@example.com',
        buyer_id: '2088102122524333',
        total_yuan: '128.00',
        paid_yuan: '128.00',
        refunded_yuan: '30.00',
        status: 'partially_refunded',
        trade_status: 'TRADE_SUCCESS',
        placed_at: '2024-05-01 10:00:00+08:00',
        paid_at: '2024-05-01 10:05:00+08:00',
        closed_at: '',
      },
      {
        out_trade_no: 'TEA-2',
        trade_no: 'T-TEA-2',
        // Guarded: a spreadsheet shows it as text, never as a formula.
        subject: `'=HYPERLINK("http://evil.example","碧螺春, 特级")`,
        buyer_email: 'buyer@example.com',
        buyer_id: '2088102122524333',
        total_yuan: '9.90',
        paid_yuan: '9.90',
        refunded_yuan: '9.90',
        status: 'refunded',
        trade_status: 'TRADE_CLOSED',
        placed_at: '2024-05-01 11:00:00+08:00',
        paid_at: '2024-05-01 11:01:00+08:00',
        closed_at: '2024-05-01 16:00:00+08:00',
      },
    ]);
    const [next] = await csv({ kind: 'orders', from: '2024-05-02', to: '2024-05-03' });
    expect(next).toMatchObject({
      out_trade_no: 'TEA-3',
      status: 'closed',
      closed_at: '2024-05-02 02:00:00+08:00',
    });
  });

  it('writes CSV as spreadsheets read it: a BOM, CRLF, quotes only where needed', async () => {
    const body = await text({ kind: 'orders', ...MAY_1, format: 'csv' });
    const lines = body.slice(1).split('\r\n');
    expect(lines[0]).toBe(
      'out_trade_no,trade_no,subject,buyer_email,buyer_id,total_yuan,paid_yuan,refunded_yuan,status,' +
        'trade_status,placed_at,paid_at,closed_at',
    );
    expect(lines[1]).toBe(
      'TEA-1,T-TEA-1,龙井绿茶 250g,buyer@example.com,2088102122524333,128.00,128.00,30.00,' +
        'partially_refunded,TRADE_SUCCESS,2024-05-01 10:00:00+08:00,2024-05-01 10:05:00+08:00,',
    );
    expect(lines[2]).toContain(`"'=HYPERLINK(""http://evil.example"",""碧螺春, 特级"")"`);
    expect(lines.at(-1)).toBe('');
    expect(body).not.toMatch(/[^\r]\n/);
  });

  it('gives JSON lines the same rows, with the text as it is and null for what is absent', async () => {
    const rows = await jsonl({ kind: 'orders', ...MAY_1 });
    expect(rows.map((row) => row.subject)).toEqual([
      '龙井绿茶 250g',
      '=HYPERLINK("http://evil.example","碧螺春, 特级")',
    ]);
    expect(rows[0]).toMatchObject({ total_yuan: '128.00', closed_at: null });
  });

  it('exports payments, refund outcomes and the money movements by Alipay’s time', async () => {
    const payments = await csv({ kind: 'payments', ...MAY_1 });
    expect(
      payments.map((p) => [p.paid_at, p.out_trade_no, p.amount_yuan, p.trade_status, p.subject]),
    ).toEqual([
      ['2024-05-01 10:05:00+08:00', 'TEA-1', '128.00', 'TRADE_SUCCESS', '龙井绿茶 250g'],
      [
        '2024-05-01 11:01:00+08:00',
        'TEA-2',
        '9.90',
        'TRADE_SUCCESS',
        `'=HYPERLINK("http://evil.example","碧螺春, 特级")`,
      ],
    ]);
    expect(Number(payments[0].event_position)).toBeGreaterThan(0);

    const refunds = await jsonl({ kind: 'refunds', ...MAY_1 });
    expect(
      refunds.map((r) => [
        r.occurred_at,
        r.out_trade_no,
        r.batch_no,
        r.channel,
        r.outcome,
        r.code,
        r.amount_yuan,
        r.counted_yuan,
      ]),
    ).toEqual([
      ['2024-05-01 14:00:00+08:00', 'TEA-1', '20240501001', 'batch', 'refunded', 'SUCCESS', '30.00', '30.00'],
      [
        '2024-05-01 15:00:00+08:00',
        'TEA-2',
        '20240501002',
        'batch',
        'failed',
        'TRADE_NOT_ALLOWED',
        '9.90',
        '0.00',
      ],
      ['2024-05-01 16:00:00+08:00', 'TEA-2', null, 'trade', 'refunded', 'REFUND_SUCCESS', '9.90', '9.90'],
    ]);

    const movements = await csv({ kind: 'movements', ...MAY_1 });
    expect(movements.map((m) => [m.kind, m.out_trade_no, m.income_yuan, m.expense_yuan])).toEqual([
      ['payment', 'TEA-1', '128.00', ''],
      ['payment', 'TEA-2', '9.90', ''],
      ['refund', 'TEA-1', '', '30.00'],
      ['refund', 'TEA-2', '', '9.90'],
    ]);
  });

  it('takes [from, to): an instant at from is in, one at to is out', async () => {
    const at = (from: string, to: string) => csv({ kind: 'payments', from, to });
    expect((await at('2024-05-01T02:05:00Z', '2024-05-01T03:01:00Z')).map((p) => p.out_trade_no)).toEqual([
      'TEA-1',
    ]);
    expect(
      await exports.count({ kind: 'payments', from: '2024-05-01T02:05:00Z', to: '2024-05-01T03:01:00Z' }),
    ).toBe(1);
  });

  it.each([
    [{ kind: 'invoices', ...MAY_1 }, 'kind', /not one of orders, payments, refunds, movements/],
    [{ kind: 'orders', ...MAY_1, format: 'xlsx' }, 'format', /not one of csv, jsonl/],
    [{ kind: 'orders', to: '2024-05-02' }, 'from', /required/],
    [{ kind: 'orders', from: '2024-05-01', to: '2024-05-01T10:00:00' }, 'to', /with its zone/],
    [{ kind: 'orders', from: '2024-02-30', to: '2024-03-02' }, 'from', /neither a date/],
    [{ kind: 'orders', from: '2024-05-02', to: '2024-05-01' }, 'to', /must be after from/],
    [{ kind: 'orders', from: '2024-05-01', to: '2024-05-01' }, 'to', /must be after from/],
  ])('refuses %j before anything is read, naming %s', (input, field, message) => {
    let thrown: unknown;
    try {
      exports.stream(input);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'INVALID_FILTER', field, message: expect.stringMatching(message) });
  });

  it('pages through more orders than a page holds, ties on the time included, each once and in order', async () => {
    const placedAt = '2024-06-01T00:00:00.000Z';
    const count = EXPORT_PAGE_SIZE * 2 + 3;
    const streams = Array.from({ length: count }, (_, i) => `BULK-${String(i).padStart(4, '0')}`);
    let last: AppendResult | undefined;
    for (const outTradeNo of streams) {
      last = await store.append(orderStreamId(outTradeNo), 'no_stream', [
        {
          type: 'OrderPlaced',
          data: {
            outTradeNo,
            subject: '茶',
            totalFee: 1,
            service: 'create_direct_pay_by_user',
            sellerId: SELLER,
            requestParameters: {},
            // Three instants: hundreds of orders share each.
            placedAt: new Date(Date.parse(placedAt) + (streams.indexOf(outTradeNo) % 3) * 1000).toISOString(),
          },
        },
      ]);
    }
    await projector.waitFor(ORDER_STATUS_PROJECTION, last!, 60_000);

    const rows = await jsonl({ kind: 'orders', from: '2024-06-01T00:00:00Z', to: '2024-06-02T00:00:00Z' });

    const byTime = [0, 1, 2].flatMap((second) => streams.filter((_, i) => i % 3 === second));
    expect(rows.map((row) => row.out_trade_no)).toEqual(byTime);
  });
});
