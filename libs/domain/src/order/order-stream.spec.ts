import { DomainError } from '../domain-error';
import { isValidOutTradeNo, orderStreamId, outTradeNoOfStream } from './order-stream';

describe('orderStreamId', () => {
  it('prefixes the out_trade_no', () => {
    expect(orderStreamId('ORD_2024-05-01a')).toBe('order-ORD_2024-05-01a');
  });

  it('accepts 64 characters and refuses 65', () => {
    expect(orderStreamId('a'.repeat(64))).toBe(`order-${'a'.repeat(64)}`);
    expect(() => orderStreamId('a'.repeat(65))).toThrow(DomainError);
  });

  it.each(['', ' ORD1', 'ORD 1', 'ORD#1', 'ORD^1', 'ORD&x=1', 'ORD%201', '订单1', 'ORD\n1', 'ORD/1'])(
    'refuses %j with INVALID_OUT_TRADE_NO',
    (value) => {
      expect(isValidOutTradeNo(value)).toBe(false);
      expect(() => orderStreamId(value)).toThrow(expect.objectContaining({ code: 'INVALID_OUT_TRADE_NO' }));
    },
  );

  it('reads the out_trade_no back from a stream id, and nothing from other streams', () => {
    expect(outTradeNoOfStream(orderStreamId('A-1'))).toBe('A-1');
    expect(outTradeNoOfStream('refund-batch-20240501001')).toBeUndefined();
    expect(outTradeNoOfStream('order-')).toBeUndefined();
    expect(outTradeNoOfStream('order-a b')).toBeUndefined();
  });
});
