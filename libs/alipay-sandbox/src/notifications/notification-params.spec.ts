import { parseNotification, verifyNotification } from '@ledger/alipay-protocol';
import {
  GBK_KEY,
  GBK_PARTNER,
  MD5_KEY,
  MD5_PARTNER,
  MERCHANT_MAP,
  RSA_KEYS,
  RSA_PARTNER,
  valueOf,
} from '../sandbox.fixture';
import { SandboxStore } from '../store/sandbox-store';
import type { Trade } from '../trades/trade';
import {
  batchRefundNotifyParams,
  notificationContentType,
  notificationKey,
  returnParams,
  signAndEncode,
  tradeStatusSyncParams,
  withQuery,
} from './notification-params';

const t0 = new Date('2024-03-05T02:00:00Z');
const store = new SandboxStore();

function paidTrade(partner: string, subject = 'a cup of tea', charset: 'utf-8' | 'gbk' = 'utf-8'): Trade {
  return {
    partner,
    tradeNo: '2024030521001004000000000001',
    terms: {
      service: 'create_direct_pay_by_user',
      outTradeNo: 'order-1',
      subject,
      totalFee: 1234,
      price: 1234,
      quantity: 1,
      sellerId: partner,
    },
    channels: { notifyUrl: 'http://shop.test/notify', returnUrl: 'http://shop.test/return?from=alipay' },
    charset,
    signType: partner === RSA_PARTNER ? 'RSA' : 'MD5',
    tradeStatus: 'TRADE_SUCCESS',
    paymentType: 'instant',
    refundedFee: 0,
    buyerId: '2088102122524333',
    buyerEmail: '137******70',
    gmtCreate: t0,
    gmtPayment: t0,
  };
}

function notificationBody(trade: Trade, notifyId = store.newNotifyId()): string {
  const merchant = MERCHANT_MAP.get(trade.partner)!;
  const params = [
    { name: 'notify_time', value: '2024-03-05 10:00:01' },
    ...tradeStatusSyncParams(trade, merchant, notifyId),
  ];
  return valueOf(signAndEncode(params, trade.charset, notificationKey(merchant, trade.signType))).text;
}

describe('trade_status_sync notifications', () => {
  it('verify with the merchant key over the form bytes, spaces sent as +', () => {
    const body = notificationBody(paidTrade(MD5_PARTNER));
    expect(body).toContain('subject=a+cup+of+tea');
    expect(body).not.toMatch(/%20| /);
    const verified = verifyNotification(Buffer.from(body, 'latin1'), {
      signType: 'MD5',
      md5Keys: [MD5_KEY],
      defaultCharset: 'utf-8',
      contentType: notificationContentType('utf-8'),
      source: 'notify',
    });
    expect(verified.reason).toBe('VERIFIED');
    const parsed = valueOf(parseNotification(verified.params));
    expect(parsed).toMatchObject({
      notifyType: 'trade_status_sync',
      outTradeNo: 'order-1',
      tradeStatus: 'TRADE_SUCCESS',
      totalFee: 1234,
      sellerId: MD5_PARTNER,
      subject: 'a cup of tea',
      notifyTime: new Date('2024-03-05T02:00:01Z'),
      gmtPayment: t0,
    });
  });

  it("are signed and encoded in a GBK merchant's bytes", () => {
    const body = notificationBody(paidTrade(GBK_PARTNER, '中文 商品', 'gbk'));
    // 中 = D6 D0 in GBK (E4 B8 AD in UTF-8).
    expect(body).toContain('subject=%D6%D0%CE%C4+%C9%CC%C6%B7');
    const verified = verifyNotification(Buffer.from(body, 'latin1'), {
      signType: 'MD5',
      md5Keys: [GBK_KEY],
      defaultCharset: 'utf-8',
      contentType: notificationContentType('gbk'),
      source: 'notify',
    });
    expect(verified.reason).toBe('VERIFIED');
    expect(verified.params.find((p) => p.name === 'subject')?.value).toBe('中文 商品');
  });

  it("are signed with Alipay's RSA key for an RSA merchant", () => {
    const body = notificationBody(paidTrade(RSA_PARTNER));
    const verify = (key: string) =>
      verifyNotification(Buffer.from(body, 'latin1'), {
        signType: 'RSA',
        alipayPublicKeyPem: key,
        defaultCharset: 'utf-8',
        source: 'notify',
      }).reason;
    expect(verify(RSA_KEYS.alipay.publicKey)).toBe('VERIFIED');
    expect(verify(RSA_KEYS.merchant.publicKey)).toBe('SIGNATURE_MISMATCH');
  });

  it('carry refund facts and escrow logistics when there are some', () => {
    const merchant = MERCHANT_MAP.get(MD5_PARTNER)!;
    const refunded: Trade = {
      ...paidTrade(MD5_PARTNER),
      refundStatus: 'REFUND_SUCCESS',
      refundedFee: 100,
      gmtRefund: t0,
    };
    const names = tradeStatusSyncParams(refunded, merchant, 'n1').map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['refund_status', 'gmt_refund']));
    expect(names).not.toContain('logistics_type');
    const escrow: Trade = {
      ...paidTrade(MD5_PARTNER),
      terms: {
        ...paidTrade(MD5_PARTNER).terms,
        service: 'trade_create_by_buyer',
        logistics: { type: 'EXPRESS', fee: 0, payment: 'SELLER_PAY' },
      },
      tradeStatus: 'WAIT_SELLER_SEND_GOODS',
      paymentType: 'escrow',
    };
    expect(
      Object.fromEntries(tradeStatusSyncParams(escrow, merchant, 'n2').map((p) => [p.name, p.value])),
    ).toMatchObject({
      logistics_type: 'EXPRESS',
      logistics_fee: '0.00',
      logistics_payment: 'SELLER_PAY',
      buyer_actions: 'REFUND',
      seller_actions: 'SEND_GOODS',
    });
  });
});

describe('the return_url redirect', () => {
  it('double-encodes notify_id, which verifies in its once-decoded form', () => {
    const trade = paidTrade(MD5_PARTNER);
    const merchant = MERCHANT_MAP.get(MD5_PARTNER)!;
    const notifyId = store.newReturnNotifyId();
    expect(notifyId).toMatch(/%2[FB]/);
    const query = valueOf(
      signAndEncode(returnParams(trade, merchant, notifyId, t0), 'utf-8', notificationKey(merchant, 'MD5')),
    ).text;
    expect(query).toMatch(/notify_id=[^&]*%252[FB]/);
    const url = withQuery(trade.channels.returnUrl!, query);
    expect(url.startsWith('http://shop.test/return?from=alipay&')).toBe(true);
    const verified = verifyNotification(query, {
      signType: 'MD5',
      md5Keys: [MD5_KEY],
      defaultCharset: 'utf-8',
      source: 'return',
    });
    expect(verified.reason).toBe('VERIFIED');
    expect(verified.params.find((p) => p.name === 'notify_id')?.value).toBe(notifyId);
    expect(Object.fromEntries(verified.params.map((p) => [p.name, p.value]))).toMatchObject({
      is_success: 'T',
      exterface: 'create_direct_pay_by_user',
      trade_status: 'TRADE_SUCCESS',
    });
  });
});

describe('batch_refund_notify', () => {
  it('parses back to its per-record results', () => {
    const merchant = MERCHANT_MAP.get(MD5_PARTNER)!;
    const params = [
      { name: 'notify_time', value: '2024-03-05 10:00:01' },
      ...batchRefundNotifyParams('20240305001', 1, '2024030521001004000000000001^1.00^SUCCESS', 'n3'),
    ];
    const body = valueOf(signAndEncode(params, 'utf-8', notificationKey(merchant, 'MD5'))).text;
    const verified = verifyNotification(body, {
      signType: 'MD5',
      md5Keys: [MD5_KEY],
      defaultCharset: 'utf-8',
      source: 'notify',
    });
    expect(valueOf(parseNotification(verified.params))).toMatchObject({
      notifyType: 'batch_refund_notify',
      batchNo: '20240305001',
      successNum: 1,
      resultDetails: [{ tradeNo: '2024030521001004000000000001', amount: 100, code: 'SUCCESS' }],
    });
  });
});

describe('notificationContentType', () => {
  it("is Alipay's malformed header", () => {
    expect(notificationContentType('utf-8')).toBe(
      'application/x-www-form-urlencoded; text/html; charset=UTF-8',
    );
    expect(notificationContentType('gbk')).toBe('application/x-www-form-urlencoded; text/html; charset=GBK');
  });
});
