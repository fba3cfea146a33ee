import type { QueriedTrade } from '@ledger/alipay-protocol';
import { queryFactKey, readQueriedTrade } from './query-command';

const trade: QueriedTrade = {
  tradeNo: '2024050122001456781234567890',
  outTradeNo: 'order-1',
  tradeStatus: 'TRADE_SUCCESS',
  sellerId: '2088000000000001',
  buyerId: '2088202561123456',
  totalFee: 1234,
  gmtPayment: new Date('2024-05-01T02:04:59.000Z'),
  gmtLastModifiedTime: new Date('2024-05-01T02:05:00.000Z'),
  otherFields: {},
};
const answeredAt = new Date('2024-05-01T03:00:00.000Z');

describe('queryFactKey', () => {
  it('is the same for two answers about a trade that has not moved', () => {
    expect(queryFactKey({ ...trade })).toBe(queryFactKey(trade));
  });

  it('differs once the trade moved (status, refund, last change)', () => {
    const keys = new Set([
      queryFactKey(trade),
      queryFactKey({ ...trade, tradeStatus: 'TRADE_FINISHED' }),
      queryFactKey({ ...trade, refundStatus: 'REFUND_SUCCESS' }),
      queryFactKey({ ...trade, gmtLastModifiedTime: new Date('2024-05-02T00:00:00.000Z') }),
    ]);
    expect(keys.size).toBe(4);
  });

  it('cannot be taken for a notify_id', () => {
    expect(queryFactKey(trade)).toMatch(/^query:/);
  });
});

describe('readQueriedTrade', () => {
  it('reads a verified trade into the command a notification makes, with source query', () => {
    const reading = readQueriedTrade(trade, 'order-1', answeredAt);
    expect(reading).toEqual({
      ok: true,
      command: {
        type: 'RecordTradeStatus',
        outTradeNo: 'order-1',
        tradeNo: trade.tradeNo,
        tradeStatus: 'TRADE_SUCCESS',
        totalFee: 1234,
        sellerId: '2088000000000001',
        buyer: { id: '2088202561123456' },
        times: { gmtPayment: '2024-05-01T02:04:59.000Z' },
        notifyId: queryFactKey(trade),
        notifyTime: '2024-05-01T03:00:00.000Z',
        source: 'query',
      },
    });
  });

  it('refuses an answer about another order than the one asked about', () => {
    expect(readQueriedTrade(trade, 'order-2', answeredAt)).toMatchObject({
      ok: false,
      reason: 'unexpected_trade',
    });
  });

  it('refuses a trade without the amount or the seller the business checks need', () => {
    const { totalFee: _fee, sellerId: _seller, ...bare } = trade;
    const reading = readQueriedTrade(bare, 'order-1', answeredAt);
    expect(reading).toMatchObject({ ok: false, reason: 'malformed' });
    expect(!reading.ok && reading.message).toMatch(/seller_id.*total_fee/);
  });

  it('takes the order asked about when the answer does not name it', () => {
    const { outTradeNo: _name, ...unnamed } = trade;
    expect(readQueriedTrade(unnamed, 'order-1', answeredAt)).toMatchObject({
      ok: true,
      command: { outTradeNo: 'order-1' },
    });
  });
});
