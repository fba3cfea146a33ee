import { ProjectionsError } from './projections-error';
import { decodeRefundBatchCursor, encodeRefundBatchCursor } from './refund-batch-cursor';

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
