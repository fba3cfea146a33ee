import { MD5_PARTNER, MERCHANT_MAP } from '../sandbox.fixture';
import { readRefundRequest } from './refund-request';

const merchant = MERCHANT_MAP.get(MD5_PARTNER)!;
// 2024-03-05 10:00:00 in Beijing.
const now = new Date('2024-03-05T02:00:00Z');
const TRADE_A = '2024030521001004000000000001';
const TRADE_B = '2024030521001004000000000002';

const params = (extra: Record<string, string | undefined> = {}) =>
  Object.fromEntries(
    Object.entries({
      batch_no: '20240305001',
      refund_date: '2024-03-05 10:00:00',
      batch_num: '2',
      detail_data: `${TRADE_A}^1.00^damaged#${TRADE_B}^0.50^late`,
      notify_url: 'http://shop.test/refund-notify',
      seller_user_id: MD5_PARTNER,
      ...extra,
    }).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );

describe('readRefundRequest', () => {
  it('reads a batch: records in fen, the refund date as an instant', () => {
    expect(readRefundRequest('nopwd', params(), merchant, now)).toEqual({
      ok: true,
      value: {
        service: 'nopwd',
        batchNo: '20240305001',
        refundDate: now,
        records: [
          { tradeNo: TRADE_A, amount: 100, reason: 'damaged' },
          { tradeNo: TRADE_B, amount: 50, reason: 'late' },
        ],
        notifyUrl: 'http://shop.test/refund-notify',
      },
    });
  });

  it.each([
    ['a malformed batch_no', { batch_no: '2024-03-05-1' }, 'BATCH_NO_FORMAT_ERROR'],
    ['a batch_no of another day than refund_date', { batch_no: '20240304001' }, 'BATCH_NO_FORMAT_ERROR'],
    // 2024-03-05 01:00 in Beijing is still 2024-03-04 in UTC: the Beijing day counts.
    [
      'a batch_no dated by a UTC clock',
      { batch_no: '20240304001', refund_date: '2024-03-05 01:00:00' },
      'BATCH_NO_FORMAT_ERROR',
    ],
    [
      'a refund_date that is not now',
      { refund_date: '2024-03-01 10:00:00', batch_no: '20240301001' },
      'REFUND_DATE_ERROR',
    ],
    ['a malformed refund_date', { refund_date: '2024/03/05 10:00' }, 'REFUND_DATE_ERROR'],
    ['a batch_num that is not a number', { batch_num: 'two' }, 'BATCH_NUM_ERROR'],
    ['more than 1000 records announced', { batch_num: '1001' }, 'BATCH_NUM_EXCEED_LIMIT'],
    ['a batch_num that does not count the records', { batch_num: '3' }, 'BATCH_NUM_NOT_EQUAL_TOTAL'],
    [
      'the same trade twice',
      { detail_data: `${TRADE_A}^1.00^a#${TRADE_A}^2.00^b` },
      'DUBL_TRADE_NO_IN_SAME_BATCH',
    ],
    ['a zero amount', { detail_data: `${TRADE_A}^0.00^a#${TRADE_B}^1.00^b` }, 'REFUND_AMOUNT_NOT_VALID'],
    ['a malformed amount', { detail_data: `${TRADE_A}^1,00^a#${TRADE_B}^1.00^b` }, 'REFUND_AMOUNT_NOT_VALID'],
    [
      'a record with a missing field',
      { detail_data: `${TRADE_A}^1.00#${TRADE_B}^1.00^b` },
      'DETAIL_DATA_FORMAT_ERROR',
    ],
    ['a relative notify_url', { notify_url: '/refund-notify' }, 'ILLEGAL_ARGUMENT'],
  ])('refuses %s', (_what, extra, code) => {
    expect(readRefundRequest('nopwd', params(extra), merchant, now)).toMatchObject({ ok: false, code });
  });

  it('refuses royalty parts in a password refund, and any part in the sandbox', () => {
    const withRoyalty = {
      batch_num: '1',
      detail_data: `${TRADE_A}^1.00^a|a@x.com^2088000000000011^b@x.com^2088000000000012^0.10^r`,
    };
    expect(readRefundRequest('pwd', params(withRoyalty), merchant, now)).toMatchObject({
      code: 'PWD_REFUND_NOT_ALLOW_ROYALTY',
    });
    expect(readRefundRequest('nopwd', params(withRoyalty), merchant, now)).toMatchObject({
      code: 'ILLEGAL_ARGUMENT',
    });
  });

  it('asks a password refund for the seller, and only this partner', () => {
    expect(readRefundRequest('pwd', params(), merchant, now)).toMatchObject({ ok: true });
    expect(
      readRefundRequest('pwd', params({ seller_user_id: '2088000000000009' }), merchant, now),
    ).toMatchObject({
      code: 'SELLER_INFO_NOT_EXIST',
    });
    expect(readRefundRequest('pwd', params({ seller_user_id: undefined }), merchant, now)).toMatchObject({
      code: 'SELLER_INFO_NOT_EXIST',
    });
    expect(readRefundRequest('nopwd', params({ seller_user_id: undefined }), merchant, now)).toMatchObject({
      ok: true,
    });
  });
});
