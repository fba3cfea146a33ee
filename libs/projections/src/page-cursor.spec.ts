import {
  decodeOrderCursor,
  decodeRefundBatchCursor,
  encodeOrderCursor,
  encodeRefundBatchCursor,
} from './page-cursor';
import { ProjectionsError } from './projections-error';

describe('order list cursors', () => {
  it('give back the position they were made from, as URL-safe text', () => {
    const position = { createdAt: '2024-05-01T02:03:04.005Z', outTradeNo: 'ORD-20240501_0001' };
    const cursor = encodeOrderCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeOrderCursor(cursor)).toEqual(position);
  });

  it.each([
    ['text that is not base64 JSON', 'not a cursor'],
    ['an empty cursor', ''],
    ['JSON of another shape', Buffer.from('{"createdAt":"2024-05-01T02:03:04.005Z"}').toString('base64url')],
    ['a time that is not an instant', Buffer.from('["yesterday","A"]').toString('base64url')],
    ['a time without milliseconds', Buffer.from('["2024-05-01T02:03:04Z","A"]').toString('base64url')],
    ['an impossible date', Buffer.from('["2024-02-31T02:03:04.005Z","A"]').toString('base64url')],
    ['an empty order number', Buffer.from('["2024-05-01T02:03:04.005Z",""]').toString('base64url')],
    ['an order number that is not text', Buffer.from('["2024-05-01T02:03:04.005Z",7]').toString('base64url')],
  ])('refuse %s with INVALID_CURSOR', (_name, cursor) => {
    expect(() => decodeOrderCursor(cursor)).toThrow(ProjectionsError);
    expect(() => decodeOrderCursor(cursor)).toThrow(
      expect.objectContaining({ code: 'INVALID_CURSOR', field: 'cursor' }),
    );
  });
});

describe('refund batch list cursors', () => {
  it('give back the position they were made from, as URL-safe text', () => {
    const position = { submittedAt: '2024-05-01T02:03:04.005Z', batchNo: '20240501000000000000000000000001' };
    const cursor = encodeRefundBatchCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeRefundBatchCursor(cursor)).toEqual(position);
  });

  const encoded = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  it.each([
    ['text that is not base64 JSON', 'not a cursor'],
    ['an empty cursor', ''],
    ['JSON of another shape', encoded({ submittedAt: '2024-05-01T02:03:04.005Z', batchNo: '20240501001' })],
    ['a time that is not an instant', encoded(['yesterday', '20240501001'])],
    ['an impossible date', encoded(['2024-02-31T02:03:04.005Z', '20240501001'])],
    ['an order cursor', encoded(['2024-05-01T02:03:04.005Z', 'ORDER-1'])],
    ['a batch_no with an all-zero serial', encoded(['2024-05-01T02:03:04.005Z', '20240501000'])],
  ])('refuse %s with INVALID_CURSOR', (_name, cursor) => {
    expect(() => decodeRefundBatchCursor(cursor)).toThrow(ProjectionsError);
    expect(() => decodeRefundBatchCursor(cursor)).toThrow(
      expect.objectContaining({ code: 'INVALID_CURSOR', field: 'cursor' }),
    );
  });
});
