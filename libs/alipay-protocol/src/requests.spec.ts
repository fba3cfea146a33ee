import { createHash, generateKeyPairSync } from 'node:crypto';
import { decode } from 'iconv-lite';
import { parseForm } from './form-encoding';
import {
  buildDirectPayRequest,
  buildNotifyVerifyUrl,
  buildRefundNopwdRequest,
  buildRefundPwdRequest,
  buildSendGoodsConfirmRequest,
  buildTradeCreateByBuyerRequest,
  isNotifyVerified,
  renderAutoSubmitForm,
  type MerchantConfig,
  type SignedRequest,
} from './requests';
import { verifyNotification } from './verification';

const KEY = '10000000000000000000000000000000';
const test: MerchantConfig = {
  partner: '1000000000000000',
  charset: 'utf-8',
  signingKey: { signType: 'MD5', md5Key: KEY },
};
const gbk: MerchantConfig = { ...test, charset: 'gbk', gateway: 'http://127.0.0.1:8080/gateway.do' };

function unwrap(
  result: { ok: true; value: SignedRequest } | { ok: false; errors: readonly { message: string }[] },
) {
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('; '));
  return result.value;
}

function errorsOf(result: { ok: boolean; errors?: readonly { code: string; field?: string }[] }): string[] {
  return result.ok ? [] : (result.errors ?? []).map((e) => `${e.code} ${e.field ?? ''}`.trim());
}

function value(request: SignedRequest, name: string): string | undefined {
  return request.params.find((p) => p.name === name)?.value;
}

/** What a gateway of our own (the sandbox) does with the request: verify it from the raw bytes. */
function gatewayVerifies(raw: string, config: MerchantConfig): boolean {
  return verifyNotification(raw, {
    signType: 'MD5',
    md5Keys: [KEY],
    defaultCharset: config.charset,
    source: 'request',
  }).ok;
}

describe('buildDirectPayRequest', () => {
  // docs/alipay-protocol.md, "MD5 examples"
  it('reproduces the public create_direct_pay_by_user example', () => {
    const request = unwrap(
      buildDirectPayRequest(test, { outTradeNo: '1', subject: 'test', price: 1, quantity: 1 }),
    );
    expect(request.preSign).toBe(
      '_input_charset=utf-8&out_trade_no=1&partner=1000000000000000&payment_type=1&price=0.01&quantity=1&seller_id=1000000000000000&service=create_direct_pay_by_user&subject=test',
    );
    expect(value(request, 'sign')).toBe('682ad02280fca7d4c0fd22678fdddeef');
    expect(value(request, 'sign_type')).toBe('MD5');
    expect(request.url.startsWith('https://mapi.alipay.com/gateway.do?_input_charset=utf-8&')).toBe(true);
    expect(request.formAction).toBe('https://mapi.alipay.com/gateway.do?_input_charset=utf-8');
  });

  it('signs and percent-encodes a Chinese subject in GBK bytes, verifiable from the URL and the form body', () => {
    const request = unwrap(
      buildDirectPayRequest(gbk, {
        outTradeNo: 'A1001',
        subject: '测试商品',
        body: 'a&b=c+d 100%',
        totalFee: 1000,
        notifyUrl: 'https://merchant.example/alipay/notify',
        returnUrl: 'https://merchant.example/alipay/return',
        extraCommonParam: 'channel:web',
        itBPay: '30m',
      }),
    );
    expect(request.formBody).toContain('subject=%B2%E2%CA%D4%C9%CC%C6%B7');
    expect(request.formBody).toContain('body=a%26b%3Dc%2Bd%20100%25');
    expect(request.formAction).toBe('http://127.0.0.1:8080/gateway.do?_input_charset=gbk');
    expect(request.formContentType).toBe('application/x-www-form-urlencoded; charset=gbk');
    expect(gatewayVerifies(request.formBody, gbk)).toBe(true);
    expect(gatewayVerifies(request.url.split('?')[1], gbk)).toBe(true);
    expect(value(request, 'total_fee')).toBe('10.00');
  });

  it('differs from the UTF-8 signature of the same order', () => {
    const order = { outTradeNo: 'A1', subject: '测试', totalFee: 1 };
    const a = unwrap(buildDirectPayRequest(gbk, order));
    const b = unwrap(buildDirectPayRequest({ ...gbk, charset: 'utf-8' }, order));
    expect(value(a, 'sign')).not.toBe(value(b, 'sign'));
  });

  it('signs with an RSA private key', () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const config: MerchantConfig = {
      ...test,
      signingKey: {
        signType: 'RSA',
        privateKey: pair.privateKey.export({ format: 'pem', type: 'pkcs1' }).toString(),
      },
    };
    const request = unwrap(buildDirectPayRequest(config, { outTradeNo: 'A1', subject: 'x', totalFee: 1 }));
    expect(value(request, 'sign_type')).toBe('RSA');
    const result = verifyNotification(request.formBody, {
      signType: 'RSA',
      alipayPublicKeyPem: pair.publicKey,
      defaultCharset: 'utf-8',
      source: 'request',
    });
    expect(result.ok).toBe(true);
  });

  it('sends seller_email instead of the default seller_id when given', () => {
    const request = unwrap(
      buildDirectPayRequest(test, {
        outTradeNo: 'A1',
        subject: 'x',
        totalFee: 1,
        sellerEmail: 'shop@example.com',
      }),
    );
    expect([value(request, 'seller_id'), value(request, 'seller_email')]).toEqual([
      undefined,
      'shop@example.com',
    ]);
  });

  it.each([
    [{ outTradeNo: '' }, ['MISSING_FIELD out_trade_no']],
    [{ outTradeNo: 'has space' }, ['INVALID_PARAMETER out_trade_no']],
    [{ outTradeNo: 'x'.repeat(65) }, ['INVALID_PARAMETER out_trade_no']],
    [{ subject: '' }, ['MISSING_FIELD subject']],
    [{ subject: '测'.repeat(86) }, ['TOO_LONG subject']],
    [{ body: 'x'.repeat(1001) }, ['TOO_LONG body']],
    [{ totalFee: 0 }, ['AMOUNT_OUT_OF_RANGE total_fee']],
    [{ totalFee: 10.5 }, ['AMOUNT_OUT_OF_RANGE total_fee']],
    [{ totalFee: 10_000_000_001 }, ['AMOUNT_OUT_OF_RANGE total_fee']],
    [{ totalFee: undefined }, ['INVALID_PARAMETER total_fee']],
    [{ price: 1, quantity: 1 }, ['INVALID_PARAMETER total_fee']],
    [{ totalFee: undefined, price: 1 }, ['INVALID_PARAMETER quantity']],
    [{ totalFee: undefined, price: 1, quantity: 0 }, ['INVALID_PARAMETER quantity']],
    [{ notifyUrl: '/notify' }, ['INVALID_PARAMETER notify_url']],
    [{ returnUrl: 'javascript:alert(1)' }, ['INVALID_PARAMETER return_url']],
    [{ extraCommonParam: 'a=b' }, ['FORBIDDEN_CHARACTER extra_common_param']],
    [{ itBPay: '15x' }, ['INVALID_PARAMETER it_b_pay']],
    [
      { sellerId: '2088', sellerEmail: 'a@b.c' },
      ['INVALID_PARAMETER seller_id', 'INVALID_PARAMETER seller_email'],
    ],
  ])('refuses %j', (change, expected) => {
    const order = { outTradeNo: 'A1', subject: 'x', totalFee: 1, ...change };
    expect(errorsOf(buildDirectPayRequest(test, order))).toEqual(expected);
  });

  it('refuses a subject GBK cannot carry, and a malformed partner or gateway', () => {
    expect(errorsOf(buildDirectPayRequest(gbk, { outTradeNo: 'A1', subject: '한국', totalFee: 1 }))).toEqual([
      'UNENCODABLE_CHARACTER subject',
    ]);
    expect(
      errorsOf(
        buildDirectPayRequest(
          { ...test, partner: '2088', gateway: 'ftp://x' },
          { outTradeNo: 'A1', subject: 'x', totalFee: 1 },
        ),
      ),
    ).toEqual(['INVALID_PARAMETER partner', 'INVALID_PARAMETER gateway']);
  });

  it('refuses to sign with a malformed key', () => {
    const config: MerchantConfig = { ...test, signingKey: { signType: 'MD5', md5Key: 'short' } };
    expect(errorsOf(buildDirectPayRequest(config, { outTradeNo: 'A1', subject: 'x', totalFee: 1 }))).toEqual([
      'INVALID_KEY',
    ]);
  });
});

describe('buildTradeCreateByBuyerRequest', () => {
  const order = {
    outTradeNo: '1',
    subject: 'test',
    price: 1,
    quantity: 1,
    logistics: { type: 'POST' as const, fee: 0, payment: 'SELLER_PAY' as const },
  };

  it('signs the logistics parameters of the public example, with a two-decimal logistics_fee', () => {
    const request = unwrap(buildTradeCreateByBuyerRequest(test, order));
    const expected =
      '_input_charset=utf-8&logistics_fee=0.00&logistics_payment=SELLER_PAY&logistics_type=POST&out_trade_no=1&partner=1000000000000000&payment_type=1&price=0.01&quantity=1&seller_id=1000000000000000&service=trade_create_by_buyer&subject=test';
    expect(request.preSign).toBe(expected);
    expect(value(request, 'sign')).toBe(createHash('md5').update(`${expected}${KEY}`).digest('hex'));
  });

  it('sends the consignee in the request charset', () => {
    const request = unwrap(
      buildTradeCreateByBuyerRequest(gbk, {
        ...order,
        receiver: {
          name: '张三',
          address: '浙江省杭州市',
          zip: '310000',
          phone: '0571-88888888',
          mobile: '13800000000',
        },
      }),
    );
    expect(value(request, 'receive_name')).toBe('张三');
    expect(request.formBody).toContain('receive_name=%D5%C5%C8%FD');
    expect(gatewayVerifies(request.formBody, gbk)).toBe(true);
  });

  it.each([
    [{ logistics: { type: 'SHIP', fee: 0, payment: 'SELLER_PAY' } }, ['INVALID_PARAMETER logistics_type']],
    [{ logistics: { type: 'POST', fee: -1, payment: 'SELLER_PAY' } }, ['AMOUNT_OUT_OF_RANGE logistics_fee']],
    [{ logistics: { type: 'POST', fee: 0, payment: 'NOBODY' } }, ['INVALID_PARAMETER logistics_payment']],
    [
      { logistics: undefined },
      [
        'MISSING_FIELD logistics_type',
        'MISSING_FIELD logistics_payment',
        'AMOUNT_OUT_OF_RANGE logistics_fee',
      ],
    ],
    [{ quantity: 1.5 }, ['INVALID_PARAMETER quantity']],
  ])('refuses %j', (change, expected) => {
    expect(errorsOf(buildTradeCreateByBuyerRequest(test, { ...order, ...change } as never))).toEqual(
      expected,
    );
  });
});

describe('batch refund requests', () => {
  const refundDate = new Date('2024-03-09T16:30:00Z'); // 2024-03-10 00:30:00 in Beijing
  const records = [{ tradeNo: '2016082921001004270202288006', amount: 1, reason: '协商退款' }];

  it('builds the password refund URL with the Beijing refund date and the partner as seller', () => {
    const request = unwrap(
      buildRefundPwdRequest(gbk, {
        batchNo: '202403100001',
        refundDate,
        records,
        notifyUrl: 'https://merchant.example/alipay/refund',
      }),
    );
    expect(request.service).toBe('refund_fastpay_by_platform_pwd');
    expect(value(request, 'refund_date')).toBe('2024-03-10 00:30:00');
    expect(value(request, 'batch_num')).toBe('1');
    expect(value(request, 'detail_data')).toBe('2016082921001004270202288006^0.01^协商退款');
    expect(value(request, 'seller_user_id')).toBe('1000000000000000');
    expect(request.url).toContain('refund_date=2024-03-10%2000%3A30%3A00');
    expect(gatewayVerifies(request.url.split('?')[1], gbk)).toBe(true);
  });

  it('refuses a batch_no dated another day than the refund, and the errors of detail_data', () => {
    const result = buildRefundPwdRequest(test, {
      batchNo: '202403090001',
      refundDate,
      records: [...records, { ...records[0], royalties: [] }],
    });
    expect(errorsOf(result)).toEqual([
      'BATCH_DATE_MISMATCH batch_no',
      'DUPLICATE_TRADE_IN_BATCH detail_data[1].tradeNo',
    ]);
  });

  it('refuses royalty parts in a password refund', () => {
    const withSub = [{ ...records[0], subTrade: { amount: 1, reason: 'x' } }];
    expect(
      errorsOf(buildRefundPwdRequest(test, { batchNo: '202403100001', refundDate, records: withSub })),
    ).toEqual(['PART_NOT_ALLOWED detail_data[0]']);
  });

  it('builds the no-password refund with its own parameters', () => {
    const request = unwrap(
      buildRefundNopwdRequest(test, {
        batchNo: '202403100002',
        refundDate,
        records: [{ ...records[0], subTrade: { amount: 1, reason: 'sub' } }],
        notifyUrl: 'https://merchant.example/alipay/refund',
        dbackNotifyUrl: 'https://merchant.example/alipay/dback',
        useFreezeAmount: true,
      }),
    );
    expect(request.service).toBe('refund_fastpay_by_platform_nopwd');
    expect([
      value(request, 'dback_notify_url'),
      value(request, 'use_freeze_amount'),
      value(request, 'return_type'),
    ]).toEqual(['https://merchant.example/alipay/dback', 'Y', 'xml']);
    expect(value(request, 'seller_user_id')).toBeUndefined();
    expect(gatewayVerifies(request.formBody, test)).toBe(true);
  });

  it('refuses an invalid refund date', () => {
    expect(
      errorsOf(
        buildRefundNopwdRequest(test, { batchNo: '202403100001', refundDate: new Date(Number.NaN), records }),
      ),
    ).toEqual(['INVALID_PARAMETER refund_date']);
  });
});

describe('buildSendGoodsConfirmRequest', () => {
  it('signs a shipping confirmation', () => {
    const request = unwrap(
      buildSendGoodsConfirmRequest(gbk, {
        tradeNo: '2015051900001000980052833539',
        logisticsName: '顺丰速运',
        invoiceNo: 'SF123456',
        transportType: 'EXPRESS',
      }),
    );
    expect(request.service).toBe('send_goods_confirm_by_platform');
    expect(gatewayVerifies(request.formBody, gbk)).toBe(true);
  });

  it('needs a waybill unless nothing is shipped', () => {
    const shipment = { tradeNo: 'T', logisticsName: 'none', transportType: 'DIRECT' as const };
    expect(buildSendGoodsConfirmRequest(test, shipment).ok).toBe(true);
    expect(errorsOf(buildSendGoodsConfirmRequest(test, { ...shipment, transportType: 'EMS' }))).toEqual([
      'MISSING_FIELD invoice_no',
    ]);
    expect(errorsOf(buildSendGoodsConfirmRequest(test, { ...shipment, tradeNo: '' }))).toEqual([
      'MISSING_FIELD trade_no',
    ]);
  });
});

describe('notify_verify', () => {
  it('builds the HTTPS gateway URL with three parameters and no signature', () => {
    expect(
      buildNotifyVerifyUrl({ partner: '2088101122136241', notifyId: '70fec0c2730b27528665af4517c27b95' }),
    ).toEqual({
      ok: true,
      value:
        'https://mapi.alipay.com/gateway.do?service=notify_verify&partner=2088101122136241&notify_id=70fec0c2730b27528665af4517c27b95',
    });
  });

  it('passes a return_url notify_id in its once-decoded form, as the demos do', () => {
    const result = buildNotifyVerifyUrl({
      partner: '2088101122136241',
      notifyId: 'RqPnCoPT3K9%2Fvwbh3In%2BTNHUY',
    });
    expect(result.ok && result.value.endsWith('notify_id=RqPnCoPT3K9%2Fvwbh3In%2BTNHUY')).toBe(true);
  });

  it('encodes characters that would break the URL', () => {
    const result = buildNotifyVerifyUrl({ partner: '2088101122136241', notifyId: 'a b&c=d/+' });
    expect(result.ok && result.value.endsWith('notify_id=a%20b%26c%3Dd%2F%2B')).toBe(true);
  });

  it('refuses a missing notify_id or a malformed partner', () => {
    expect(errorsOf(buildNotifyVerifyUrl({ partner: '2088101122136241', notifyId: '' }))).toEqual([
      'MISSING_FIELD notify_id',
    ]);
    expect(errorsOf(buildNotifyVerifyUrl({ partner: '', notifyId: 'x' }))).toEqual([
      'INVALID_PARAMETER partner',
    ]);
  });

  it.each([
    ['true', true],
    ['true\n', true],
    [' true ', true],
    ['false', false],
    ['invalid', false],
    ['TRUE', false],
    ['<html>400 The plain HTTP request was sent to HTTPS port</html>', false],
    ['', false],
  ])('reads the answer %j as %s', (body, expected) => {
    expect(isNotifyVerified(body)).toBe(expected);
  });
});

describe('renderAutoSubmitForm', () => {
  it('posts to the action with _input_charset, in a page written in the request charset', () => {
    const request = unwrap(
      buildDirectPayRequest(gbk, {
        outTradeNo: 'A1',
        subject: '测试 "<商品>"',
        totalFee: 1,
        body: "it's & more",
      }),
    );
    const page = renderAutoSubmitForm(request, { nonce: 'abc' });
    expect(page.ok).toBe(true);
    if (!page.ok) return;
    expect(page.value.contentType).toBe('text/html; charset=gbk');
    expect(page.value.html).toContain(
      'action="http://127.0.0.1:8080/gateway.do?_input_charset=gbk" method="post" accept-charset="gbk"',
    );
    expect(page.value.html).toContain('value="测试 &quot;&lt;商品&gt;&quot;"');
    expect(page.value.html).toContain('value="it&#39;s &amp; more"');
    expect(page.value.html).toContain('<script nonce="abc">');
    expect(decode(page.value.bytes, 'gbk')).toBe(page.value.html);

    // What the browser submits: the hidden fields, unescaped, encoded in the page's charset.
    const fields = [...page.value.html.matchAll(/name="([^"]*)" value="([^"]*)"/g)].map(([, name, v]) => ({
      name,
      value: v
        .replace(/&quot;/g, '"')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&#39;/g, "'")
        .replace(/&amp;/g, '&'),
    }));
    expect(fields).toEqual(request.params);
    expect(parseForm(request.formBody).pairs.map((p) => p.name)).toEqual(fields.map((f) => f.name));
  });
});
