import { encode } from 'iconv-lite';
import {
  buildDirectPayRequest,
  buildRefundNopwdRequest,
  encodeForm,
  formatBatchNo,
  signParams,
  type SignedRequest,
} from '@ledger/alipay-protocol';
import {
  asGatewayRequest,
  GBK_KEY,
  GBK_PARTNER,
  MD5_KEY,
  MD5_PARTNER,
  MERCHANT_MAP,
  merchantConfig,
  RSA_PARTNER,
  valueOf,
} from '../sandbox.fixture';
import { checkGatewayRequest, type RawGatewayRequest } from './gateway-request';

function directPay(
  partner = MD5_PARTNER,
  subject = 'a cup of tea',
  charset: 'utf-8' | 'gbk' = 'utf-8',
): SignedRequest {
  return valueOf(
    buildDirectPayRequest(merchantConfig(partner, charset), {
      outTradeNo: 'order-1',
      subject,
      totalFee: 1234,
      notifyUrl: 'http://shop.test/notify',
    }),
  );
}

function tamper(request: RawGatewayRequest, from: string, to: string): RawGatewayRequest {
  const field = request.method === 'GET' ? 'query' : 'body';
  const text = request[field].toString('latin1');
  expect(text).toContain(from);
  return { ...request, [field]: Buffer.from(text.replace(from, to), 'latin1') };
}

describe('checkGatewayRequest', () => {
  it('accepts a request signed with the merchant MD5 key, from the query of a GET', () => {
    const checked = checkGatewayRequest(asGatewayRequest(directPay()), MERCHANT_MAP);
    expect(checked).toMatchObject({
      ok: true,
      service: 'create_direct_pay_by_user',
      signType: 'MD5',
      charset: 'utf-8',
      params: { out_trade_no: 'order-1', subject: 'a cup of tea', total_fee: '12.34' },
    });
  });

  it('refuses a request over the parameter cap by its signature check, naming the cap', () => {
    const request = asGatewayRequest(directPay(), 'POST');
    const padded = Buffer.concat([
      request.body,
      Buffer.from(Array.from({ length: 50_000 }, (_, i) => `&p${i}`).join('')),
    ]);
    const checked = checkGatewayRequest({ ...request, body: padded }, MERCHANT_MAP);
    expect(checked).toMatchObject({ ok: false, code: 'ILLEGAL_SIGN', service: 'create_direct_pay_by_user' });
    expect(checked.ok === false && checked.detail).toMatch(/parameters received, at most 200 accepted/);
  });

  it('accepts the same request from the body of a POST', () => {
    const checked = checkGatewayRequest(asGatewayRequest(directPay(), 'POST'), MERCHANT_MAP);
    expect(checked).toMatchObject({ ok: true, params: { subject: 'a cup of tea' } });
  });

  it('reads a GBK request over its GBK bytes and decodes its text afterwards', () => {
    const request = asGatewayRequest(directPay(GBK_PARTNER, '中文 商品', 'gbk'), 'POST');
    // 中 is D6 D0 in GBK: the body carries GBK escapes, not UTF-8 ones.
    expect(request.body.toString('latin1')).toContain('%D6%D0');
    expect(checkGatewayRequest(request, MERCHANT_MAP)).toMatchObject({
      ok: true,
      charset: 'gbk',
      params: { subject: '中文 商品' },
    });
  });

  it('verifies an RSA request with the merchant public key', () => {
    const checked = checkGatewayRequest(asGatewayRequest(directPay(RSA_PARTNER)), MERCHANT_MAP);
    expect(checked).toMatchObject({ ok: true, signType: 'RSA' });
  });

  it('refuses a tampered amount with ILLEGAL_SIGN, explaining without revealing the key', () => {
    const checked = checkGatewayRequest(
      tamper(asGatewayRequest(directPay()), 'total_fee=12.34', 'total_fee=0.01'),
      MERCHANT_MAP,
    );
    expect(checked).toMatchObject({ ok: false, code: 'ILLEGAL_SIGN', service: 'create_direct_pay_by_user' });
    expect(JSON.stringify(checked)).not.toContain(MD5_KEY);
  });

  it('refuses a request signed with another key', () => {
    const forged = valueOf(
      buildDirectPayRequest(
        { ...merchantConfig(MD5_PARTNER), signingKey: { signType: 'MD5', md5Key: 'f'.repeat(32) } },
        { outTradeNo: 'order-1', subject: 'tea', totalFee: 1 },
      ),
    );
    expect(checkGatewayRequest(asGatewayRequest(forged), MERCHANT_MAP)).toMatchObject({
      code: 'ILLEGAL_SIGN',
    });
  });

  it('refuses an unknown partner, service, sign type or charset with their codes', () => {
    const request = asGatewayRequest(directPay());
    expect(
      checkGatewayRequest(
        tamper(request, `partner=${MD5_PARTNER}`, 'partner=2088999999999999'),
        MERCHANT_MAP,
      ),
    ).toMatchObject({ ok: false, code: 'ILLEGAL_PARTNER' });
    expect(
      checkGatewayRequest(
        tamper(request, 'service=create_direct_pay_by_user', 'service=close_trade'),
        MERCHANT_MAP,
      ),
    ).toMatchObject({ ok: false, code: 'ILLEGAL_SERVICE', service: 'close_trade' });
    expect(
      checkGatewayRequest(tamper(request, 'sign_type=MD5', 'sign_type=DSA'), MERCHANT_MAP),
    ).toMatchObject({
      code: 'ILLEGAL_SIGN_TYPE',
    });
    expect(
      checkGatewayRequest(tamper(request, 'sign_type=MD5', 'sign_type=RSA'), MERCHANT_MAP),
    ).toMatchObject({
      code: 'ILLEGAL_SIGN_TYPE',
    });
    expect(
      checkGatewayRequest(tamper(request, '_input_charset=utf-8', '_input_charset=big5'), MERCHANT_MAP),
    ).toMatchObject({ code: 'ILLEGAL_CHARSET' });
  });

  it('refuses a request whose service is missing altogether', () => {
    expect(
      checkGatewayRequest({ method: 'GET', query: Buffer.alloc(0), body: Buffer.alloc(0) }, MERCHANT_MAP),
    ).toMatchObject({ ok: false, code: 'ILLEGAL_SERVICE', service: undefined });
  });

  it('passes notify_verify through unsigned', () => {
    const query = Buffer.from(`service=notify_verify&partner=${MD5_PARTNER}&notify_id=abc`);
    expect(checkGatewayRequest({ method: 'GET', query, body: Buffer.alloc(0) }, MERCHANT_MAP)).toEqual({
      ok: true,
      service: 'notify_verify',
      params: { service: 'notify_verify', partner: MD5_PARTNER, notify_id: 'abc' },
    });
  });

  it('honours _input_charset on the action URL when the POST body lacks it', () => {
    const params = [
      { name: 'service', value: 'refund_fastpay_by_platform_nopwd' },
      { name: 'partner', value: GBK_PARTNER },
      { name: 'batch_no', value: '20240101001' },
      { name: 'detail_data', value: '2024010121001004000000000001^1.00^协商退款' },
    ];
    const signed = valueOf(signParams(params, 'gbk', { signType: 'MD5', md5Key: GBK_KEY }));
    const body = Buffer.from(valueOf(encodeForm(signed.params, 'gbk')), 'latin1');
    const checked = checkGatewayRequest(
      { method: 'POST', query: Buffer.from('_input_charset=gbk'), body },
      MERCHANT_MAP,
    );
    expect(checked).toMatchObject({
      ok: true,
      charset: 'gbk',
      params: { detail_data: expect.stringContaining('协商退款') },
    });
  });
});

describe('checkGatewayRequest: the encodings of Alipay’s own kits', () => {
  const boundary = '------------------------d74496d66958873e';

  /**
   * What the PHP kit's buildRequestHttp makes curl send: the signed parameters as multipart/form-data parts,
   * each value the raw bytes of the merchant's charset, and `_input_charset` on the gateway URL.
   */
  function asCurlMultipart(request: SignedRequest): RawGatewayRequest {
    const parts = request.params.flatMap(({ name, value }) => [
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`, 'latin1'),
      request.charset === 'gbk' ? encode(value, 'gbk') : Buffer.from(value, 'utf8'),
      Buffer.from('\r\n', 'latin1'),
    ]);
    return {
      method: 'POST',
      query: Buffer.from(`_input_charset=${request.charset}`, 'latin1'),
      body: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`, 'latin1')]),
      contentType: `multipart/form-data; boundary=${boundary}`,
    };
  }

  function nopwd(charset: 'utf-8' | 'gbk', reason = '协商退款'): SignedRequest {
    const now = new Date();
    return valueOf(
      buildRefundNopwdRequest(merchantConfig(charset === 'gbk' ? GBK_PARTNER : MD5_PARTNER, charset), {
        batchNo: valueOf(formatBatchNo(now, '001')),
        refundDate: now,
        records: [{ tradeNo: '2026120721001004370000361525', amount: 100, reason }],
        notifyUrl: 'http://shop.test/refund-notify',
      }),
    );
  }

  it.each(['gbk', 'utf-8'] as const)(
    'accepts a %s nopwd refund posted as multipart/form-data, verified over the bytes of each part',
    (charset) => {
      const checked = checkGatewayRequest(asCurlMultipart(nopwd(charset)), MERCHANT_MAP);
      expect(checked).toMatchObject({
        ok: true,
        service: 'refund_fastpay_by_platform_nopwd',
        charset,
        params: { detail_data: '2026120721001004370000361525^1.00^协商退款' },
      });
    },
  );

  it('refuses a multipart whose GBK bytes were changed, and reads GBK parts as UTF-8 never', () => {
    const request = asCurlMultipart(nopwd('gbk'));
    const at = request.body.indexOf(encode('协商', 'gbk'));
    const tampered = Buffer.from(request.body);
    tampered.set(encode('退', 'gbk'), at);
    expect(checkGatewayRequest({ ...request, body: tampered }, MERCHANT_MAP)).toMatchObject({
      ok: false,
      code: 'ILLEGAL_SIGN',
    });
    // The same request signed over UTF-8 text but sent as GBK bytes is not the signed request.
    const utf8Signed = nopwd('utf-8');
    const mislabelled = asCurlMultipart({ ...utf8Signed, charset: 'gbk' });
    expect(checkGatewayRequest(mislabelled, MERCHANT_MAP)).toMatchObject({ ok: false, code: 'ILLEGAL_SIGN' });
  });

  it('refuses a malformed multipart with ILLEGAL_ARGUMENT, in XML', () => {
    const request = asCurlMultipart(nopwd('utf-8'));
    const cut = { ...request, body: request.body.subarray(0, request.body.length - 40) };
    expect(checkGatewayRequest(cut, MERCHANT_MAP)).toMatchObject({
      ok: false,
      code: 'ILLEGAL_ARGUMENT',
      detail: expect.stringMatching(/multipart/),
    });
  });

  it('reads a POST whose parameters are split between the query and the body', () => {
    const request = nopwd('gbk');
    const form = asGatewayRequest(request, 'POST');
    const pairs = request.formBody.split('&');
    const inQuery = pairs.filter((p) => /^(service|partner|sign_type|sign)=/.test(p));
    const inBody = pairs.filter((p) => !inQuery.includes(p));
    const split: RawGatewayRequest = {
      ...form,
      query: Buffer.from([`_input_charset=gbk`, ...inQuery].join('&'), 'latin1'),
      body: Buffer.from(inBody.join('&'), 'latin1'),
    };
    expect(checkGatewayRequest(split, MERCHANT_MAP)).toMatchObject({
      ok: true,
      service: 'refund_fastpay_by_platform_nopwd',
      charset: 'gbk',
    });
    // A parameter in both places counts once when its bytes are the same…
    const both = { ...split, body: Buffer.from([...inBody, inQuery[0]].join('&'), 'latin1') };
    expect(checkGatewayRequest(both, MERCHANT_MAP)).toMatchObject({ ok: true });
    // …and makes the request ambiguous when they differ.
    const conflicting = {
      ...split,
      body: Buffer.from([...inBody, 'partner=2088000000000001'].join('&'), 'latin1'),
    };
    expect(checkGatewayRequest(conflicting, MERCHANT_MAP)).toMatchObject({
      ok: false,
      code: 'ILLEGAL_ARGUMENT',
      detail: 'partner is in the query and in the body with other values',
    });
    // A parameter added to the query that the merchant did not sign breaks the signature.
    const added = { ...split, query: Buffer.concat([split.query, Buffer.from('&use_freeze_amount=Y')]) };
    expect(checkGatewayRequest(added, MERCHANT_MAP)).toMatchObject({ ok: false, code: 'ILLEGAL_SIGN' });
  });

  it('takes the query’s _input_charset as the charset of a body that has none, and never signs it', () => {
    const request = nopwd('gbk');
    const withoutCharset = valueOf(
      signParams(
        request.params.filter(
          (p) => p.name !== '_input_charset' && p.name !== 'sign' && p.name !== 'sign_type',
        ),
        'gbk',
        { signType: 'MD5', md5Key: GBK_KEY },
      ),
    );
    const checked = checkGatewayRequest(
      {
        method: 'POST',
        query: Buffer.from('_input_charset=gbk'),
        body: Buffer.from(valueOf(encodeForm(withoutCharset.params, 'gbk')), 'latin1'),
        contentType: 'application/x-www-form-urlencoded',
      },
      MERCHANT_MAP,
    );
    expect(checked).toMatchObject({
      ok: true,
      charset: 'gbk',
      params: { detail_data: expect.stringContaining('协商退款') },
    });
  });
});
