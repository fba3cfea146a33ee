import fc from 'fast-check';
import { encodeForm } from './form-encoding';
import {
  parseBatchRefundNotify,
  parseNotification,
  parseTradeStatusSync,
  type NotificationParams,
} from './notifications';
import { signParams } from './signing';
import { verifyNotification } from './verification';

const directPayNotify = {
  notify_time: '2016-09-24 21:03:57',
  notify_type: 'trade_status_sync',
  notify_id: '70fec0c2730b27528665af4517c27b95',
  notify_action_type: 'payByAccountAction',
  out_trade_no: 'A1001',
  subject: '测试商品',
  payment_type: '1',
  trade_no: '2016092421001004060212345678',
  trade_status: 'TRADE_SUCCESS',
  gmt_create: '2016-09-24 21:03:50',
  gmt_payment: '2016-09-24 21:03:57',
  seller_email: 'seller@example.com',
  buyer_email: '137******70',
  seller_id: '2088101122136241',
  buyer_id: '2088202561123456',
  price: '10.00',
  total_fee: '10.00',
  quantity: '1',
  body: '7018-test-3 CNY',
  discount: '0.00',
  is_total_fee_adjust: 'N',
  use_coupon: 'N',
  extra_common_param: 'channel=web',
  business_scene: 'qrpay',
  sign: 'bbd13b52823b576291595f472ebcfbc2',
  sign_type: 'MD5',
};

function errorsOf(result: { ok: boolean; errors?: readonly { code: string; field?: string }[] }): string[] {
  return result.ok ? [] : (result.errors ?? []).map((e) => `${e.code} ${e.field ?? ''}`.trim());
}

describe('parseTradeStatusSync', () => {
  it('types every field of a create_direct_pay_by_user notification', () => {
    const result = parseTradeStatusSync(directPayNotify);
    expect(result).toEqual({
      ok: true,
      value: {
        notifyType: 'trade_status_sync',
        notifyId: '70fec0c2730b27528665af4517c27b95',
        notifyTime: new Date('2016-09-24T13:03:57Z'),
        notifyActionType: 'payByAccountAction',
        outTradeNo: 'A1001',
        tradeNo: '2016092421001004060212345678',
        tradeStatus: 'TRADE_SUCCESS',
        subject: '测试商品',
        body: '7018-test-3 CNY',
        paymentType: '1',
        gmtCreate: new Date('2016-09-24T13:03:50Z'),
        gmtPayment: new Date('2016-09-24T13:03:57Z'),
        sellerId: '2088101122136241',
        sellerEmail: 'seller@example.com',
        buyerId: '2088202561123456',
        buyerEmail: '137******70',
        totalFee: 1000,
        price: 1000,
        quantity: 1,
        discount: 0,
        isTotalFeeAdjust: false,
        useCoupon: false,
        extraCommonParam: 'channel=web',
        businessScene: 'qrpay',
        otherParams: {},
      },
    });
  });

  it('types the escrow fields of trade_create_by_buyer', () => {
    const result = parseTradeStatusSync({
      notify_time: '2015-05-19 09:20:39',
      notify_type: 'trade_status_sync',
      notify_id: 'RqPnCoPT3K9%2Fvwbh3InWes5p8ZRYIdWn4DYfTZV%2FByZc5wcE2q9pffj29yQCHA%2BTNHUY',
      is_success: 'T',
      out_trade_no: 'B2002',
      trade_no: '2015051900001000980052833539',
      trade_status: 'WAIT_BUYER_CONFIRM_GOODS',
      refund_status: 'WAIT_SELLER_AGREE',
      gmt_logistics_modify: '2015-05-19 09:19:05',
      gmt_send_goods: '2015-05-19 09:20:38',
      gmt_refund: '2015-05-19 10:00:00',
      gmt_close: '2015-05-19 11:00:00',
      logistics_type: 'EXPRESS',
      logistics_fee: '0.00',
      logistics_payment: 'SELLER_PAY',
      receive_name: '张三',
      receive_address: '浙江省杭州市',
      receive_zip: '310000',
      receive_phone: '0571-88888888',
      receive_mobile: '13800000000',
      buyer_actions: 'REFUND,CONFIRM_GOODS',
      seller_actions: 'EXTEND_TIMEOUT',
      discount: '-5',
      is_total_fee_adjust: 'Y',
      use_coupon: 'T',
      price: '0.01',
      quantity: '3',
      logistics_status: 'WAIT_SEND',
      out_channel_type: 'BALANCE',
      out_channel_amount: '0.03',
      out_channel_inst: 'ALIPAYACCOUNT',
      agent_user_id: '2088000000000009',
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toMatchObject({
      isSuccess: true,
      tradeStatus: 'WAIT_BUYER_CONFIRM_GOODS',
      refundStatus: 'WAIT_SELLER_AGREE',
      notifyId: 'RqPnCoPT3K9%2Fvwbh3InWes5p8ZRYIdWn4DYfTZV%2FByZc5wcE2q9pffj29yQCHA%2BTNHUY',
      gmtLogisticsModify: new Date('2015-05-19T01:19:05Z'),
      gmtSendGoods: new Date('2015-05-19T01:20:38Z'),
      gmtRefund: new Date('2015-05-19T02:00:00Z'),
      gmtClose: new Date('2015-05-19T03:00:00Z'),
      logisticsType: 'EXPRESS',
      logisticsFee: 0,
      logisticsPayment: 'SELLER_PAY',
      receiveName: '张三',
      receiveAddress: '浙江省杭州市',
      receiveZip: '310000',
      receivePhone: '0571-88888888',
      receiveMobile: '13800000000',
      buyerActions: ['REFUND', 'CONFIRM_GOODS'],
      sellerActions: ['EXTEND_TIMEOUT'],
      discount: -500,
      isTotalFeeAdjust: true,
      useCoupon: true,
      price: 1,
      quantity: 3,
      outChannelType: 'BALANCE',
      outChannelAmount: '0.03',
      outChannelInst: 'ALIPAYACCOUNT',
      agentUserId: '2088000000000009',
      otherParams: { logistics_status: 'WAIT_SEND' },
    });
    expect(result.value.totalFee).toBeUndefined();
  });

  it('reads the return_url fields of create_direct_pay_by_user', () => {
    const result = parseTradeStatusSync({
      ...directPayNotify,
      is_success: 'F',
      exterface: 'create_direct_pay_by_user',
    });
    expect(result.ok && [result.value.isSuccess, result.value.exterface]).toEqual([
      false,
      'create_direct_pay_by_user',
    ]);
  });

  it('keeps a flag it does not know as unknown instead of failing', () => {
    const result = parseTradeStatusSync({ ...directPayNotify, use_coupon: 'maybe' });
    expect(result.ok && result.value.useCoupon).toBe('unknown');
  });

  it('keeps every parameter it does not name, and nothing of the signature', () => {
    const result = parseTradeStatusSync({ ...directPayNotify, new_field: 'x', coupon_discount: '1.00' });
    expect(result.ok && result.value.otherParams).toEqual({ new_field: 'x', coupon_discount: '1.00' });
  });

  it('treats an empty value as absent', () => {
    const result = parseTradeStatusSync({ ...directPayNotify, body: '', gmt_payment: '' });
    expect(result.ok && [result.value.body, result.value.gmtPayment]).toEqual([undefined, undefined]);
  });

  it.each([
    [{ notify_id: undefined }, ['MISSING_FIELD notify_id']],
    [{ notify_id: '' }, ['MISSING_FIELD notify_id']],
    [{ notify_time: undefined }, ['MISSING_FIELD notify_time']],
    [
      { out_trade_no: undefined, trade_no: undefined },
      ['MISSING_FIELD out_trade_no', 'MISSING_FIELD trade_no'],
    ],
    [{ total_fee: '10.001' }, ['MALFORMED_AMOUNT total_fee']],
    [{ total_fee: '1e3' }, ['MALFORMED_AMOUNT total_fee']],
    [{ total_fee: '0.00' }, ['AMOUNT_OUT_OF_RANGE total_fee']],
    [{ price: '-1.00' }, ['MALFORMED_AMOUNT price']],
    [{ discount: '-' }, ['MALFORMED_AMOUNT discount']],
    [{ gmt_payment: '2016-09-24T21:03:57' }, ['MALFORMED_TIME gmt_payment']],
    [{ notify_time: '2016-02-30 00:00:00' }, ['MALFORMED_TIME notify_time']],
    [{ trade_status: 'TRADE_PAID' }, ['UNKNOWN_TRADE_STATUS trade_status']],
    [{ trade_status: 'trade_success' }, ['UNKNOWN_TRADE_STATUS trade_status']],
    [{ trade_status: undefined }, ['MISSING_FIELD trade_status']],
    [{ refund_status: 'REFUNDED' }, ['UNKNOWN_REFUND_STATUS refund_status']],
    [{ notify_type: 'batch_refund_notify' }, ['UNEXPECTED_NOTIFY_TYPE notify_type']],
    [{ quantity: '0' }, ['MALFORMED_FIELD quantity']],
    [{ quantity: '1.5' }, ['MALFORMED_FIELD quantity']],
    [{ is_success: 'Y' }, ['MALFORMED_FIELD is_success']],
  ])('reports %j precisely', (change, expected) => {
    const params = Object.fromEntries(
      Object.entries({ ...directPayNotify, ...change }).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;
    expect(errorsOf(parseTradeStatusSync(params))).toEqual(expected);
  });

  it('reports every problem at once', () => {
    const result = parseTradeStatusSync({ notify_type: 'trade_status_sync', total_fee: 'x', gmt_close: 'y' });
    expect(errorsOf(result)).toEqual([
      'MISSING_FIELD notify_id',
      'MISSING_FIELD notify_time',
      'MISSING_FIELD out_trade_no',
      'MISSING_FIELD trade_no',
      'MISSING_FIELD trade_status',
      'MALFORMED_TIME gmt_close',
      'MALFORMED_AMOUNT total_fee',
    ]);
  });

  it('refuses a parameter given twice in a list', () => {
    const list = Object.entries(directPayNotify).map(([name, value]) => ({ name, value }));
    const result = parseTradeStatusSync([...list, { name: 'total_fee', value: '0.01' }]);
    expect(errorsOf(result)).toEqual(['DUPLICATE_FIELD total_fee']);
  });

  it('reads the parameters of a verified notification', () => {
    const key = '10000000000000000000000000000000';
    const params = Object.entries(directPayNotify)
      .filter(([name]) => name !== 'sign' && name !== 'sign_type')
      .map(([name, value]) => ({ name, value }));
    const signed = signParams(params, 'gbk', { signType: 'MD5', md5Key: key });
    const body = signed.ok ? encodeForm(signed.value.params, 'gbk') : undefined;
    if (body === undefined || !body.ok) throw new Error('cannot build the body');
    const verified = verifyNotification(body.value, {
      signType: 'MD5',
      md5Keys: [key],
      defaultCharset: 'gbk',
      source: 'notify',
    });
    expect(verified.ok).toBe(true);
    const parsed = parseTradeStatusSync(verified.params);
    expect(parsed.ok && [parsed.value.subject, parsed.value.totalFee, parsed.value.body]).toEqual([
      '测试商品',
      1000,
      '7018-test-3 CNY',
    ]);
  });
});

const batchNotify = {
  notify_time: '2016-08-29 10:00:00',
  notify_type: 'batch_refund_notify',
  notify_id: 'a1b2c3',
  batch_no: '20160829001',
  success_num: '1',
  result_details:
    '2016082921001004270202288006^0.01^SUCCESS#2016082721001004640239968415^160.00^SELLER_BALANCE_NOT_ENOUGH',
  sign: 'x',
  sign_type: 'MD5',
};

describe('parseBatchRefundNotify', () => {
  it('types the notification and its result details', () => {
    expect(parseBatchRefundNotify(batchNotify)).toEqual({
      ok: true,
      value: {
        notifyType: 'batch_refund_notify',
        notifyId: 'a1b2c3',
        notifyTime: new Date('2016-08-29T02:00:00Z'),
        batchNo: '20160829001',
        successNum: 1,
        resultDetails: [
          { tradeNo: '2016082921001004270202288006', amount: 1, code: 'SUCCESS' },
          { tradeNo: '2016082721001004640239968415', amount: 16000, code: 'SELLER_BALANCE_NOT_ENOUGH' },
        ],
        otherParams: {},
      },
    });
  });

  it('keeps unfreezed_details as sent', () => {
    const result = parseBatchRefundNotify({ ...batchNotify, unfreezed_details: 'T^0.01^SUCCESS' });
    expect(result.ok && result.value.unfreezedDetails).toBe('T^0.01^SUCCESS');
  });

  it.each([
    [{ notify_id: undefined }, ['MISSING_FIELD notify_id']],
    [{ batch_no: undefined }, ['MISSING_FIELD batch_no']],
    [{ success_num: 'one' }, ['MALFORMED_FIELD success_num']],
    [{ success_num: '-1' }, ['MALFORMED_FIELD success_num']],
    [{ result_details: undefined }, ['MISSING_FIELD result_details']],
    [{ result_details: 'T^0.01^SUCCESS#T2^x^SUCCESS' }, ['MALFORMED_AMOUNT result_details[1].amount']],
    [{ notify_type: 'trade_status_sync' }, ['UNEXPECTED_NOTIFY_TYPE notify_type']],
  ])('reports %j precisely', (change, expected) => {
    const params = Object.fromEntries(
      Object.entries({ ...batchNotify, ...change }).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;
    expect(errorsOf(parseBatchRefundNotify(params))).toEqual(expected);
  });
});

describe('parseNotification', () => {
  it('dispatches on notify_type', () => {
    expect(parseNotification(directPayNotify)).toMatchObject({
      ok: true,
      value: { notifyType: 'trade_status_sync' },
    });
    expect(parseNotification(batchNotify)).toMatchObject({
      ok: true,
      value: { notifyType: 'batch_refund_notify' },
    });
  });

  it('refuses other notification types and a missing type', () => {
    expect(errorsOf(parseNotification({ notify_type: 'dback_notify' }))).toEqual([
      'UNEXPECTED_NOTIFY_TYPE notify_type',
    ]);
    expect(errorsOf(parseNotification({}))).toEqual(['MISSING_FIELD notify_type']);
  });
});

describe('notification parsers never throw', () => {
  const field = fc.constantFrom(
    ...Object.keys(directPayNotify),
    ...Object.keys(batchNotify),
    '__proto__',
    'constructor',
  );
  const anyParams: fc.Arbitrary<NotificationParams> = fc.oneof(
    fc.dictionary(fc.oneof(field, fc.string()), fc.string()),
    fc.array(fc.record({ name: fc.oneof(field, fc.string()), value: fc.string() })),
    fc.anything() as fc.Arbitrary<NotificationParams>,
  );

  it('on arbitrary parameters', () => {
    fc.assert(
      fc.property(anyParams, (params) => {
        for (const parse of [parseTradeStatusSync, parseBatchRefundNotify, parseNotification]) {
          const result = parse(params);
          if (!result.ok) expect(result.errors.length).toBeGreaterThan(0);
        }
      }),
    );
  });

  it('on valid notifications with one field replaced by anything', () => {
    fc.assert(
      fc.property(field, fc.string(), (name, value) => {
        void parseTradeStatusSync({ ...directPayNotify, [name]: value });
        void parseBatchRefundNotify({ ...batchNotify, [name]: value });
      }),
    );
  });
});
