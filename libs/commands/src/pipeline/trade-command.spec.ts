import type { TextParam } from '@ledger/alipay-protocol';
import { readTradeCommand } from './trade-command';

function params(values: Record<string, string | undefined>): TextParam[] {
  return Object.entries({
    notify_time: '2024-05-01 10:00:05',
    notify_type: 'trade_status_sync',
    notify_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90mva',
    out_trade_no: 'T-1',
    trade_no: '2024050122001400000000000001',
    trade_status: 'TRADE_SUCCESS',
    total_fee: '12.30',
    seller_id: '2088000000000001',
    buyer_id: '2088102122524333',
    buyer_email: '137******70',
    gmt_create: '2024-05-01 09:59:00',
    gmt_payment: '2024-05-01 10:00:00',
    sign: 'ignored',
    sign_type: 'MD5',
    ...values,
  })
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => ({ name, value }));
}

describe('readTradeCommand', () => {
  it('reads a notification into RecordTradeStatus: fen, Beijing times as UTC instants, the buyer', () => {
    const reading = readTradeCommand(params({}), 'notify');
    expect(reading).toMatchObject({
      ok: true,
      command: {
        type: 'RecordTradeStatus',
        outTradeNo: 'T-1',
        tradeNo: '2024050122001400000000000001',
        tradeStatus: 'TRADE_SUCCESS',
        totalFee: 1230,
        sellerId: '2088000000000001',
        buyer: { id: '2088102122524333', email: '137******70' },
        times: { gmtCreate: '2024-05-01T01:59:00.000Z', gmtPayment: '2024-05-01T02:00:00.000Z' },
        notifyId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90mva',
        notifyTime: '2024-05-01T02:00:05.000Z',
        source: 'notify',
      },
    });
  });

  it('keeps a refund status and its time, and says where the notification came from', () => {
    const reading = readTradeCommand(
      params({
        trade_status: 'TRADE_CLOSED',
        refund_status: 'REFUND_SUCCESS',
        gmt_refund: '2024-05-02 08:00:00',
      }),
      'return',
    );
    expect(reading).toMatchObject({
      ok: true,
      command: { refundStatus: 'REFUND_SUCCESS', gmtRefund: '2024-05-02T00:00:00.000Z', source: 'return' },
    });
  });

  it('requires what the business checks compare: seller_id and total_fee', () => {
    const reading = readTradeCommand(params({ seller_id: undefined, total_fee: undefined }), 'notify');
    expect(reading.ok).toBe(false);
    if (reading.ok) return;
    expect(reading.reason).toBe('malformed');
    expect(reading.errors?.map((error) => error.field)).toEqual(['seller_id', 'total_fee']);
  });

  it('names every field that does not parse', () => {
    const reading = readTradeCommand(params({ total_fee: '12.3x', trade_status: 'TRADE_LOST' }), 'notify');
    expect(reading.ok).toBe(false);
    if (reading.ok) return;
    expect(reading.errors?.map((error) => error.field).sort()).toEqual(['total_fee', 'trade_status']);
  });

  it('refuses a batch refund result, an order number no stream can have, and an oversized notify_id', () => {
    expect(readTradeCommand(params({ notify_type: 'batch_refund_notify' }), 'notify')).toMatchObject({
      ok: false,
      reason: 'unexpected_notify_type',
    });
    expect(readTradeCommand(params({ out_trade_no: 'T 1;--' }), 'notify')).toMatchObject({
      ok: false,
      reason: 'invalid_out_trade_no',
    });
    expect(readTradeCommand(params({ notify_id: 'x'.repeat(257) }), 'notify')).toMatchObject({
      ok: false,
      reason: 'malformed',
    });
  });
});
