import { GBK_PARTNER, MD5_PARTNER, MERCHANT_MAP } from '../sandbox.fixture';
import { differingTerms, readPaymentRequest } from './payment-request';

const merchant = MERCHANT_MAP.get(MD5_PARTNER)!;

const direct = (extra: Record<string, string | undefined> = {}) =>
  Object.fromEntries(
    Object.entries({
      out_trade_no: 'order-1',
      subject: 'tea',
      payment_type: '1',
      seller_id: MD5_PARTNER,
      total_fee: '12.34',
      notify_url: 'http://shop.test/notify',
      return_url: 'http://shop.test/return',
      ...extra,
    }).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );

const dual = (extra: Record<string, string | undefined> = {}) =>
  direct({
    total_fee: undefined,
    price: '10.00',
    quantity: '2',
    logistics_type: 'EXPRESS',
    logistics_fee: '5.00',
    logistics_payment: 'BUYER_PAY',
    receive_name: '张三',
    ...extra,
  });

describe('readPaymentRequest', () => {
  it('refuses text that the trade query XML could not carry', () => {
    expect(readPaymentRequest('create_direct_pay_by_user', direct({ body: 'a\u0001b' }), merchant)).toEqual({
      ok: false,
      code: 'ILLEGAL_ARGUMENT',
      detail: 'body holds a control character',
    });
    expect(
      readPaymentRequest('create_direct_pay_by_user', direct({ body: 'line\r\n\tnext' }), merchant).ok,
    ).toBe(true);
  });

  it('reads the terms of an instant payment, amounts in fen', () => {
    expect(readPaymentRequest('create_direct_pay_by_user', direct(), merchant)).toEqual({
      ok: true,
      value: {
        terms: {
          service: 'create_direct_pay_by_user',
          outTradeNo: 'order-1',
          subject: 'tea',
          totalFee: 1234,
          price: 1234,
          quantity: 1,
          sellerId: MD5_PARTNER,
        },
        channels: { notifyUrl: 'http://shop.test/notify', returnUrl: 'http://shop.test/return' },
      },
    });
  });

  it('takes price × quantity instead of total_fee', () => {
    const read = readPaymentRequest(
      'create_direct_pay_by_user',
      direct({ total_fee: undefined, price: '0.50', quantity: '3' }),
      merchant,
    );
    expect(read).toMatchObject({ ok: true, value: { terms: { price: 50, quantity: 3, totalFee: 150 } } });
  });

  it.each([
    ['both total_fee and price', { price: '1.00', quantity: '1' }, 'ILLEGAL_FEE_PARAM'],
    ['neither total_fee nor price', { total_fee: undefined }, 'ILLEGAL_FEE_PARAM'],
    ['a malformed amount', { total_fee: '1.234' }, 'ILLEGAL_FEE_PARAM'],
    ['a float-looking amount', { total_fee: '1e2' }, 'ILLEGAL_FEE_PARAM'],
    ['a zero amount', { total_fee: '0.00' }, 'TOTAL_FEE_LESSEQUAL_ZERO'],
    ['a negative amount', { total_fee: '-1.00' }, 'TOTAL_FEE_LESSEQUAL_ZERO'],
    ['another payment_type', { payment_type: '4' }, 'ILLEGAL_PAYMENT_TYPE'],
    ['no subject', { subject: undefined }, 'ILLEGAL_ARGUMENT'],
    ['a long out_trade_no', { out_trade_no: 'x'.repeat(65) }, 'ILLEGAL_ARGUMENT'],
    ['a relative notify_url', { notify_url: '/notify' }, 'ILLEGAL_ARGUMENT'],
    ['no seller', { seller_id: undefined }, 'ILLEGAL_ARGUMENT'],
    ["another partner's seller_id", { seller_id: '2088000000000009' }, 'SELLER_NOT_IN_SPECIFIED_SELLERS'],
  ])('refuses %s', (_what, extra, code) => {
    expect(readPaymentRequest('create_direct_pay_by_user', direct(extra), merchant)).toMatchObject({
      ok: false,
      code,
    });
  });

  it('accepts seller_email only when it is the merchant account', () => {
    const gbk = MERCHANT_MAP.get(GBK_PARTNER)!;
    const byEmail = (email: string) => direct({ seller_id: undefined, seller_email: email });
    expect(readPaymentRequest('create_direct_pay_by_user', byEmail('shop@example.com'), gbk)).toMatchObject({
      ok: true,
      value: { terms: { sellerId: GBK_PARTNER, sellerEmail: 'shop@example.com' } },
    });
    expect(readPaymentRequest('create_direct_pay_by_user', byEmail('other@example.com'), gbk)).toMatchObject({
      code: 'SELLER_NOT_EXIST',
    });
  });

  it('adds the logistics fee to an escrow total when the buyer pays it', () => {
    expect(readPaymentRequest('trade_create_by_buyer', dual(), merchant)).toMatchObject({
      ok: true,
      value: {
        terms: {
          totalFee: 2500,
          logistics: { type: 'EXPRESS', fee: 500, payment: 'BUYER_PAY' },
          receiver: { name: '张三' },
        },
      },
    });
    expect(
      readPaymentRequest('trade_create_by_buyer', dual({ logistics_payment: 'SELLER_PAY' }), merchant),
    ).toMatchObject({ value: { terms: { totalFee: 2000 } } });
  });

  it.each([
    ['an unknown logistics_type', { logistics_type: 'CAMEL' }],
    ['no logistics_payment', { logistics_payment: undefined }],
    ['a malformed logistics_fee', { logistics_fee: 'free' }],
  ])('refuses an escrow request with %s as ILLEGAL_LOGISTICS_FORMAT', (_what, extra) => {
    expect(readPaymentRequest('trade_create_by_buyer', dual(extra), merchant)).toMatchObject({
      code: 'ILLEGAL_LOGISTICS_FORMAT',
    });
  });
});

describe('differingTerms', () => {
  const terms = (extra: Record<string, string | undefined> = {}) => {
    const read = readPaymentRequest('trade_create_by_buyer', dual(extra), merchant);
    if (!read.ok) throw new Error(read.detail);
    return read.value.terms;
  };

  it('finds nothing for the same request, whatever its URLs', () => {
    expect(
      differingTerms(terms(), terms({ notify_url: 'http://elsewhere.test/n', return_url: undefined })),
    ).toEqual([]);
  });

  it('names every business field that changed, nested ones included', () => {
    expect(differingTerms(terms(), terms({ price: '11.00', receive_name: '李四', body: 'gift' }))).toEqual([
      'body',
      'price',
      'receiver.name',
      'totalFee',
    ]);
  });
});
