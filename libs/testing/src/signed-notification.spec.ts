import { generateKeyPairSync } from 'node:crypto';
import { verifyNotification } from '@ledger/alipay-protocol';
import { DEMO_ALIPAY } from '@ledger/platform';
import { signedNotification, tradeStatusSyncParams } from './signed-notification';

const KEY = DEMO_ALIPAY.md5Key;

function paramsOf(result: ReturnType<typeof verifyNotification>): Record<string, string> {
  return Object.fromEntries(result.params.map(({ name, value }) => [name, value]));
}

describe('signedNotification', () => {
  it('writes spaces as + and verifies over the raw bytes like a genuine notification', () => {
    const notification = signedNotification({
      notify_id: 'abc',
      body: '7018-test-3 CNY',
      subject: '测试 商品',
    });
    expect(notification.text).toContain('body=7018-test-3+CNY');
    expect(notification.contentType).toBe('application/x-www-form-urlencoded; text/html; charset=UTF-8');
    const result = verifyNotification(notification.body, {
      signType: 'MD5',
      md5Keys: [KEY],
      defaultCharset: 'utf-8',
      contentType: notification.contentType,
      source: 'notify',
    });
    expect(result.reason).toBe('VERIFIED');
    expect(paramsOf(result)).toMatchObject({
      subject: '测试 商品',
      sign_type: 'MD5',
      sign: notification.sign,
    });
  });

  it('signs and encodes a GBK merchant’s notification over GBK bytes', () => {
    const notification = signedNotification({ notify_id: 'abc', subject: '中文' }, KEY, 'gbk');
    expect(notification.text).toContain('subject=%D6%D0%CE%C4');
    const options = { signType: 'MD5', md5Keys: [KEY], source: 'notify' } as const;
    const asGbk = verifyNotification(notification.body, {
      ...options,
      defaultCharset: 'utf-8',
      contentType: notification.contentType,
    });
    expect(asGbk.reason).toBe('VERIFIED');
    expect(paramsOf(asGbk).subject).toBe('中文');
    expect(notification.sign).not.toBe(signedNotification({ notify_id: 'abc', subject: '中文' }, KEY).sign);
  });

  it('double-encodes a return_url notify_id, which verifies in its once-decoded form', () => {
    const notification = signedNotification({ notify_id: 'RqPnCoPT3K9%2Fvwbh3In', is_success: 'T' });
    expect(notification.text).toContain('notify_id=RqPnCoPT3K9%252Fvwbh3In');
    const result = verifyNotification(notification.text, {
      signType: 'MD5',
      md5Keys: [KEY],
      defaultCharset: 'utf-8',
      source: 'return',
    });
    expect(result.reason).toBe('VERIFIED');
  });

  it('leaves out empty and undefined values, as Alipay signs without them', () => {
    const notification = signedNotification({ notify_id: 'abc', buyer_email: '', refund_status: undefined });
    expect(notification.params.map((p) => p.name)).toEqual(['notify_id', 'sign', 'sign_type']);
  });

  it('signs with an RSA key that verifies with its public half', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const notification = signedNotification(
      { notify_id: 'abc', total_fee: '0.01' },
      { signType: 'RSA', privateKey },
    );
    const result = verifyNotification(notification.body, {
      signType: 'RSA',
      alipayPublicKeyPem: publicKey,
      defaultCharset: 'utf-8',
      source: 'notify',
    });
    expect(result.reason).toBe('VERIFIED');
  });
});

describe('tradeStatusSyncParams', () => {
  const facts = { outTradeNo: 'T1', tradeNo: '2026112321001004370000361525', totalFee: '12.34' };

  it('has no payment time before payment, and one after', () => {
    expect(tradeStatusSyncParams({ ...facts, tradeStatus: 'WAIT_BUYER_PAY' }).gmt_payment).toBeUndefined();
    expect(tradeStatusSyncParams({ ...facts, tradeStatus: 'TRADE_SUCCESS' }).gmt_payment).toMatch(
      /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/,
    );
  });

  it('adds the logistics fields of trade_create_by_buyer, and lets extra values win', () => {
    const params = tradeStatusSyncParams({
      ...facts,
      tradeStatus: 'WAIT_SELLER_SEND_GOODS',
      service: 'trade_create_by_buyer',
      extra: { seller_id: '2088000000000999', logistics_fee: undefined },
    });
    expect(params).toMatchObject({
      logistics_type: 'EXPRESS',
      seller_id: '2088000000000999',
      total_fee: '12.34',
    });
    expect(params.logistics_fee).toBeUndefined();
  });
});
