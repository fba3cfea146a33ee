import { createHash, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { decode, encode } from 'iconv-lite';
import { MAX_EXPLANATION_BYTES } from './explanation-bounds';
import { parseForm } from './form-encoding';
import { buildSingleTradeQueryRequest, type MerchantConfig } from './requests';
import {
  formatGatewayErrorReply,
  formatSingleTradeQueryReply,
  MAX_TRADE_FIELDS,
  parseSingleTradeQueryReply,
  type SingleTradeQueryOptions,
  type SingleTradeQueryReply,
} from './single-trade-query';
import type { TextParam } from './form-encoding';
import { MAX_REPLY_BYTES } from './xml-replies';

const KEY = '10000000000000000000000000000000';
const OTHER_KEY = '20000000000000000000000000000000';
const md5 = (text: string, charset: 'utf-8' | 'gbk' = 'utf-8') =>
  createHash('md5')
    .update(charset === 'gbk' ? encode(text + KEY, 'gbk') : Buffer.from(text + KEY, 'utf8'))
    .digest('hex');

const utf8Options: SingleTradeQueryOptions = { signType: 'MD5', md5Keys: [KEY], charset: 'utf-8' };
const gbkOptions: SingleTradeQueryOptions = { ...utf8Options, charset: 'gbk' };

function unwrap(result: ReturnType<typeof parseSingleTradeQueryReply>): SingleTradeQueryReply {
  if (!result.ok)
    throw new Error(result.errors.map((e) => `${e.code} ${e.field ?? ''} ${e.message}`).join('; '));
  return result.value;
}

function codes(result: { ok: boolean; errors?: readonly { code: string }[] }): string[] {
  return result.ok ? [] : (result.errors ?? []).map((e) => e.code);
}

// A reply in the shape of a public one (cn.ponfee commons' TestXmlReader fixture: a partially refunded
// instant trade), its sign recomputed with the test key over the <trade> fields as we read the rule.
const PONFEE_TRADE =
  '<body>abcd</body><buyer_email>1034792318@qq.com</buyer_email><buyer_id>2088212560609971</buyer_id>' +
  '<discount>0.00</discount><flag_trade_locked>0</flag_trade_locked><gmt_create>2015-03-18 15:22:26</gmt_create>' +
  '<gmt_last_modified_time>2015-03-18 15:43:11</gmt_last_modified_time><gmt_payment>2015-03-18 15:22:36</gmt_payment>' +
  '<gmt_refund>2015-03-18 15:43:11</gmt_refund><is_total_fee_adjust>F</is_total_fee_adjust><operator_role>B</operator_role>' +
  '<out_trade_no>20150318151412944</out_trade_no><payment_type>8</payment_type><price>0.10</price><quantity>1</quantity>' +
  '<refund_fee>0.03</refund_fee><refund_flow_type>1</refund_flow_type><refund_id>97622780097</refund_id>' +
  '<refund_status>REFUND_SUCCESS</refund_status><seller_email>piaokuan03@dfasfds.com</seller_email>' +
  '<seller_id>2088411293539364</seller_id><subject>abcd全国汽车票</subject><to_buyer_fee>0.03</to_buyer_fee>' +
  '<to_seller_fee>0.10</to_seller_fee><total_fee>0.10</total_fee><trade_no>2015031800001000970051218861</trade_no>' +
  '<trade_status>TRADE_SUCCESS</trade_status><use_coupon>F</use_coupon>';
// Written by hand: every child of <trade>, sorted, name=value joined by &, nothing encoded.
const PONFEE_PRE_SIGN =
  'body=abcd&buyer_email=1034792318@qq.com&buyer_id=2088212560609971&discount=0.00&flag_trade_locked=0' +
  '&gmt_create=2015-03-18 15:22:26&gmt_last_modified_time=2015-03-18 15:43:11&gmt_payment=2015-03-18 15:22:36' +
  '&gmt_refund=2015-03-18 15:43:11&is_total_fee_adjust=F&operator_role=B&out_trade_no=20150318151412944' +
  '&payment_type=8&price=0.10&quantity=1&refund_fee=0.03&refund_flow_type=1&refund_id=97622780097' +
  '&refund_status=REFUND_SUCCESS&seller_email=piaokuan03@dfasfds.com&seller_id=2088411293539364' +
  '&subject=abcd全国汽车票&to_buyer_fee=0.03&to_seller_fee=0.10&total_fee=0.10' +
  '&trade_no=2015031800001000970051218861&trade_status=TRADE_SUCCESS&use_coupon=F';

function ponfee(trade = PONFEE_TRADE, sign = md5(PONFEE_PRE_SIGN), charset = 'UTF-8'): string {
  return (
    `<?xml version="1.0" encoding="${charset}"?><alipay><is_success>T</is_success><request>` +
    '<param name="trade_no">2015031800001000970051218861</param><param name="_input_charset">UTF-8</param>' +
    '<param name="service">single_trade_query</param><param name="partner">2088411293539364</param>' +
    `<param name="out_trade_no">0515abcdbcd3831256</param></request><response><trade>${trade}</trade></response>` +
    `<sign>${sign}</sign><sign_type>MD5</sign_type></alipay>`
  );
}

describe('parseSingleTradeQueryReply', () => {
  it('verifies a public reply re-signed over its <trade> fields and reads the trade in fen and Beijing time', () => {
    const reply = unwrap(parseSingleTradeQueryReply(Buffer.from(ponfee()), utf8Options));
    expect(reply.status).toBe('found');
    if (reply.status !== 'found') return;
    expect(reply.verification).toMatchObject({ outcome: 'VERIFIED', verified: true, matchedKeyIndex: 0 });
    expect(reply.verification.preSign).toBe(PONFEE_PRE_SIGN);
    expect(reply.charset).toBe('utf-8');
    expect(reply.charsetSource).toBe('declaration');
    expect(reply.request).toMatchObject({ service: 'single_trade_query', _input_charset: 'UTF-8' });
    expect(reply.trade).toEqual({
      tradeNo: '2015031800001000970051218861',
      outTradeNo: '20150318151412944',
      tradeStatus: 'TRADE_SUCCESS',
      refundStatus: 'REFUND_SUCCESS',
      subject: 'abcd全国汽车票',
      body: 'abcd',
      paymentType: '8',
      sellerId: '2088411293539364',
      sellerEmail: 'piaokuan03@dfasfds.com',
      buyerId: '2088212560609971',
      buyerEmail: '1034792318@qq.com',
      totalFee: 10,
      price: 10,
      quantity: 1,
      discount: 0,
      refundFee: 3,
      toBuyerFee: 3,
      toSellerFee: 10,
      refundId: '97622780097',
      refundFlowType: '1',
      gmtCreate: new Date('2015-03-18T07:22:26Z'),
      gmtPayment: new Date('2015-03-18T07:22:36Z'),
      gmtRefund: new Date('2015-03-18T07:43:11Z'),
      gmtLastModifiedTime: new Date('2015-03-18T07:43:11Z'),
      isTotalFeeAdjust: false,
      useCoupon: false,
      flagTradeLocked: false,
      operatorRole: 'B',
      otherFields: {},
    });
  });

  it('notes that the echoed charset differs in case only as no problem, and a different one as a note', () => {
    const same = unwrap(parseSingleTradeQueryReply(ponfee(), utf8Options));
    expect(same.status === 'found' && same.verification.notes).toEqual([]);
    const other = unwrap(parseSingleTradeQueryReply(ponfee(), gbkOptions));
    // ASCII and UTF-8 differ for the subject: a GBK reading of the same text signs other bytes.
    expect(other.status).toBe('unverified');
    expect(other.status === 'unverified' && other.verification.notes[0]).toMatch(/_input_charset "UTF-8"/);
  });

  it('reads a pretty-printed reply (a public SDK test fixture) with a doubly escaped subject, once', () => {
    // chloerei/alipay test_single_trade_query: whitespace between elements, `&amp;amp;` in the subject.
    const subject = '[LC希澈家族&amp;百度金希澈吧] SJ六巡澳门 团票【含内场和看台】';
    const preSign =
      'additional_trade_status=DAEMON_CONFIRM_CLOSE&buyer_email=foo@gmail.com&buyer_id=222222222222222' +
      '&discount=0.00&flag_trade_locked=0&gmt_close=2015-01-20 02:37:00&gmt_create=2015-01-20 02:17:00' +
      '&gmt_last_modified_time=2015-01-20 02:37:00&is_total_fee_adjust=F&operator_role=B' +
      `&out_trade_no=abcdefg0123456789&payment_type=1&price=640.00&quantity=1&seller_email=bar@gmail.com` +
      `&seller_id=3333333333333&subject=${subject}&to_buyer_fee=0.00&to_seller_fee=0.00&total_fee=640.00` +
      '&trade_no=20150123123123&trade_status=TRADE_CLOSED&use_coupon=F';
    const xml = `<?xml version="1.0" encoding="utf-8"?>
      <alipay>
        <is_success>T</is_success>
        <request>
          <param name="trade_no">20150123123123</param>
          <param name="_input_charset">utf-8</param>
          <param name="service">single_trade_query</param>
          <param name="partner">11111111111111</param>
        </request>
        <response>
          <trade>
            <additional_trade_status>DAEMON_CONFIRM_CLOSE</additional_trade_status>
            <buyer_email>foo@gmail.com</buyer_email>
            <buyer_id>222222222222222</buyer_id>
            <discount>0.00</discount>
            <flag_trade_locked>0</flag_trade_locked>
            <gmt_close>2015-01-20 02:37:00</gmt_close>
            <gmt_create>2015-01-20 02:17:00</gmt_create>
            <gmt_last_modified_time>2015-01-20 02:37:00</gmt_last_modified_time>
            <is_total_fee_adjust>F</is_total_fee_adjust>
            <operator_role>B</operator_role>
            <out_trade_no>abcdefg0123456789</out_trade_no>
            <payment_type>1</payment_type>
            <price>640.00</price>
            <quantity>1</quantity>
            <seller_email>bar@gmail.com</seller_email>
            <seller_id>3333333333333</seller_id>
            <subject>[LC希澈家族&amp;amp;百度金希澈吧] SJ六巡澳门 团票【含内场和看台】</subject>
            <to_buyer_fee>0.00</to_buyer_fee>
            <to_seller_fee>0.00</to_seller_fee>
            <total_fee>640.00</total_fee>
            <trade_no>20150123123123</trade_no>
            <trade_status>TRADE_CLOSED</trade_status>
            <use_coupon>F</use_coupon>
            </trade></response>
            <sign>${md5(preSign)}</sign>
            <sign_type>MD5</sign_type>
          </alipay>`;
    const reply = unwrap(parseSingleTradeQueryReply(Buffer.from(xml), utf8Options));
    expect(reply.status).toBe('found');
    if (reply.status !== 'found') return;
    expect(reply.trade).toMatchObject({
      subject,
      tradeStatus: 'TRADE_CLOSED',
      totalFee: 64000,
      additionalTradeStatus: 'DAEMON_CONFIRM_CLOSE',
      gmtClose: new Date('2015-01-19T18:37:00Z'),
    });
  });

  it('decodes character references once and never twice', () => {
    const trade =
      '<subject>a&#38;b &amp;#38; &#x4E2D;</subject><trade_no>2015031800001000970051218861</trade_no><trade_status>WAIT_BUYER_PAY</trade_status>';
    const preSign = 'subject=a&b &#38; 中&trade_no=2015031800001000970051218861&trade_status=WAIT_BUYER_PAY';
    const reply = unwrap(parseSingleTradeQueryReply(ponfee(trade, md5(preSign)), utf8Options));
    expect(reply.status === 'found' && reply.trade.subject).toBe('a&b &#38; 中');
  });

  describe('GBK', () => {
    const answer = {
      request: [
        { name: '_input_charset', value: 'gbk' },
        { name: 'service', value: 'single_trade_query' },
        { name: 'out_trade_no', value: 'A-1' },
      ],
      trade: [
        { name: 'out_trade_no', value: 'A-1' },
        { name: 'subject', value: '测试商品 & 赠品' },
        { name: 'trade_no', value: '2026120721001004370000361525' },
        { name: 'trade_status', value: 'TRADE_SUCCESS' },
        { name: 'total_fee', value: '12.34' },
        { name: 'gmt_payment', value: '2026-12-07 10:00:00' },
        { name: 'use_coupon', value: 'F' },
      ],
      charset: 'gbk' as const,
      signingKey: { signType: 'MD5' as const, md5Key: KEY },
    };

    it('writes a GBK document declared GBK, signed over the GBK bytes of the fields, and reads it back', () => {
      const body = formatSingleTradeQueryReply(answer);
      if (!body.ok) throw new Error('unsigned');
      expect(body.value.subarray(0, 38).toString('latin1')).toBe('<?xml version="1.0" encoding="GBK"?><a');
      expect(body.value.includes(encode('测试商品', 'gbk'))).toBe(true);
      const preSign =
        'gmt_payment=2026-12-07 10:00:00&out_trade_no=A-1&subject=测试商品 & 赠品' +
        '&total_fee=12.34&trade_no=2026120721001004370000361525&trade_status=TRADE_SUCCESS&use_coupon=F';
      expect(decode(body.value, 'gbk')).toContain(`<sign>${md5(preSign, 'gbk')}</sign>`);
      const reply = unwrap(parseSingleTradeQueryReply(body.value, gbkOptions));
      expect(reply).toMatchObject({
        status: 'found',
        charset: 'gbk',
        trade: {
          subject: '测试商品 & 赠品',
          totalFee: 1234,
          useCoupon: false,
          gmtPayment: new Date('2026-12-07T02:00:00Z'),
        },
      });
      // The same answer verified as UTF-8 bytes fails: the charset is part of what is signed.
      expect(unwrap(parseSingleTradeQueryReply(body.value, utf8Options)).status).toBe('unverified');
    });

    it('does not verify a GBK reply whose subject bytes were changed', () => {
      const body = formatSingleTradeQueryReply(answer);
      if (!body.ok) throw new Error('unsigned');
      const tampered = Buffer.from(body.value);
      const at = tampered.indexOf(encode('赠', 'gbk'));
      tampered.set(encode('礼', 'gbk'), at);
      const reply = unwrap(parseSingleTradeQueryReply(tampered, gbkOptions));
      expect(reply.status).toBe('unverified');
      expect(reply.status === 'unverified' && reply.verification.outcome).toBe('SIGNATURE_MISMATCH');
    });
  });

  describe('tampered or unsigned answers are never found', () => {
    it.each([
      [
        'a changed amount',
        ponfee(PONFEE_TRADE.replace('<total_fee>0.10', '<total_fee>9.10')),
        'SIGNATURE_MISMATCH',
      ],
      [
        'a changed status',
        ponfee(PONFEE_TRADE.replace('>TRADE_SUCCESS<', '>TRADE_FINISHED<')),
        'SIGNATURE_MISMATCH',
      ],
      ['an added field', ponfee(`${PONFEE_TRADE}<x>1</x>`), 'SIGNATURE_MISMATCH'],
      ['no sign', ponfee().replace(/<sign>[^<]*<\/sign>/, ''), 'MISSING_SIGN'],
      ['no sign_type', ponfee().replace('<sign_type>MD5</sign_type>', ''), 'MISSING_SIGN_TYPE'],
      ['DSA', ponfee().replace('>MD5<', '>DSA<'), 'UNSUPPORTED_SIGN_TYPE'],
      ['RSA when MD5 is configured', ponfee().replace('>MD5<', '>RSA<'), 'SIGN_TYPE_MISMATCH'],
      ['upper-case hex', ponfee(PONFEE_TRADE, md5(PONFEE_PRE_SIGN).toUpperCase()), 'MALFORMED_SIGNATURE'],
    ])('%s', (_what, xml, outcome) => {
      const reply = unwrap(parseSingleTradeQueryReply(xml, utf8Options));
      expect(reply.status).toBe('unverified');
      expect(reply.status === 'unverified' && reply.verification.outcome).toBe(outcome);
      expect(JSON.stringify(reply)).not.toContain(KEY);
    });

    it('is verified by the second key of a rotation, and by none of the wrong ones', () => {
      const rotated = unwrap(
        parseSingleTradeQueryReply(ponfee(), { ...utf8Options, md5Keys: [OTHER_KEY, KEY] }),
      );
      expect(rotated.status === 'found' && rotated.verification.matchedKeyIndex).toBe(1);
      const wrong = unwrap(parseSingleTradeQueryReply(ponfee(), { ...utf8Options, md5Keys: [OTHER_KEY] }));
      expect(wrong.status).toBe('unverified');
      const none = unwrap(parseSingleTradeQueryReply(ponfee(), { ...utf8Options, md5Keys: [] }));
      expect(none.status === 'unverified' && none.verification.outcome).toBe('NO_USABLE_KEY');
    });
  });

  describe('RSA', () => {
    const alipay = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const options: SingleTradeQueryOptions = {
      signType: 'RSA',
      alipayPublicKeyPem: alipay.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      charset: 'utf-8',
    };
    const trade: TextParam[] = [
      { name: 'trade_no', value: '2026120721001004370000361525' },
      { name: 'trade_status', value: 'TRADE_FINISHED' },
      { name: 'subject', value: '商品 +/=' },
    ];

    it("verifies an answer signed with Alipay's key, not one signed with another", () => {
      const body = formatSingleTradeQueryReply({
        request: [],
        trade,
        charset: 'utf-8',
        signingKey: { signType: 'RSA', privateKey: alipay.privateKey },
      });
      if (!body.ok) throw new Error('unsigned');
      expect(unwrap(parseSingleTradeQueryReply(body.value, options))).toMatchObject({
        status: 'found',
        trade: { tradeStatus: 'TRADE_FINISHED', subject: '商品 +/=' },
      });
      const impostor = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const forged = formatSingleTradeQueryReply({
        request: [],
        trade,
        charset: 'utf-8',
        signingKey: { signType: 'RSA', privateKey: impostor.privateKey },
      });
      if (!forged.ok) throw new Error('unsigned');
      expect(unwrap(parseSingleTradeQueryReply(forged.value, options)).status).toBe('unverified');
    });
  });

  describe('F answers', () => {
    it.each([
      ['TRADE_IS_NOT_EXIST', 'not_found'],
      ['TRADE_NOT_EXIST', 'not_found'],
      ['ILLEGAL_PARTNER', 'rejected'],
      ['ILLEGAL_SIGN', 'rejected'],
    ])('%s is %s, unsigned', (code, status) => {
      const reply = unwrap(parseSingleTradeQueryReply(formatGatewayErrorReply(code, 'gbk'), gbkOptions));
      expect(reply).toMatchObject({ status, error: code, charset: 'gbk' });
    });

    it('reads the documented sample with its declaration and whitespace', () => {
      const xml =
        '<?xml version="1.0" encoding="utf-8"?> \n<alipay> \n    <is_success>F</is_success> \n    <error>TRADE_IS_NOT_EXIST</error> \n</alipay>';
      expect(unwrap(parseSingleTradeQueryReply(xml, utf8Options))).toMatchObject({ status: 'not_found' });
      expect(
        unwrap(parseSingleTradeQueryReply('<alipay><is_success>F</is_success></alipay>', utf8Options)),
      ).toEqual({
        status: 'rejected',
        charset: 'utf-8',
        charsetSource: 'text',
        request: {},
      });
    });
  });

  describe('hostile input is refused, bounded', () => {
    const field = (i: number) => `<f${i}>x</f${i}>`;
    it.each([
      [
        'larger than any reply',
        `<alipay><is_success>T</is_success><x>${'a'.repeat(MAX_REPLY_BYTES)}</x></alipay>`,
        'MALFORMED_XML',
      ],
      [
        'nested deeper than a reply',
        `<alipay><is_success>T</is_success>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</alipay>`,
        'MALFORMED_XML',
      ],
      [
        'a DOCTYPE',
        '<!DOCTYPE a [<!ENTITY x "y">]><alipay><is_success>&x;</is_success></alipay>',
        'MALFORMED_XML',
      ],
      ['CDATA', ponfee('<subject><![CDATA[&amp;]]></subject>'), 'MALFORMED_XML'],
      [
        'too many trade fields',
        ponfee(Array.from({ length: MAX_TRADE_FIELDS + 1 }, (_, i) => field(i)).join('')),
        'MALFORMED_XML',
      ],
      [
        'a field sent twice',
        ponfee('<total_fee>1.00</total_fee><total_fee>2.00</total_fee>'),
        'DUPLICATE_FIELD',
      ],
      ['an element inside a field', ponfee('<subject><b>x</b></subject>'), 'MALFORMED_XML'],
      ['an attribute on a field', ponfee('<subject a="1">x</subject>'), 'MALFORMED_XML'],
      ['text beside the fields', ponfee('loose<subject>x</subject>'), 'MALFORMED_XML'],
      ['an unknown entity', ponfee('<subject>&nbsp;</subject>'), 'MALFORMED_XML'],
      ['a NUL reference', ponfee('<subject>&#0;</subject>'), 'MALFORMED_XML'],
      ['a long field name', ponfee(`<${'n'.repeat(49)}>x</${'n'.repeat(49)}>`), 'MALFORMED_XML'],
      ['no response', '<alipay><is_success>T</is_success></alipay>', 'MISSING_FIELD'],
      ['two trades', ponfee('<a>1</a></trade><trade><a>2</a>'), 'DUPLICATE_FIELD'],
      ['an HTML page', '<html><body>502 Bad Gateway</body></html>', 'MALFORMED_XML'],
      ['is_success Y', '<alipay><is_success>Y</is_success></alipay>', 'UNKNOWN_IS_SUCCESS'],
      [
        'two is_success',
        '<alipay><is_success>T</is_success><is_success>F</is_success></alipay>',
        'UNKNOWN_IS_SUCCESS',
      ],
    ])('%s', (_what, xml, code) => {
      expect(codes(parseSingleTradeQueryReply(xml, utf8Options))).toContain(code);
    });

    it('refuses a verified trade whose fields are malformed, naming them', () => {
      const trade = '<trade_no>1</trade_no><trade_status>PAID</trade_status><total_fee>1.5.0</total_fee>';
      const preSign = 'total_fee=1.5.0&trade_no=1&trade_status=PAID';
      const result = parseSingleTradeQueryReply(ponfee(trade, md5(preSign)), utf8Options);
      expect(result.ok === false && result.errors.map((e) => e.field)).toEqual(['trade_status', 'total_fee']);
    });

    it('never throws, and keeps what it says about any answer under the explanation cap', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 400 }),
          (bytes) => void parseSingleTradeQueryReply(bytes, utf8Options),
        ),
      );
      const xmlish = fc.stringMatching(/^[<>/a-z_?!="' TF&;#x0-9[\]-]*$/);
      fc.assert(
        fc.property(xmlish, xmlish, (a, b) => {
          const result = parseSingleTradeQueryReply(ponfee(`<a>${a}</a>${b}`), utf8Options);
          if (result.ok && result.value.status === 'unverified') {
            expect(Buffer.byteLength(JSON.stringify(result.value.verification))).toBeLessThan(
              MAX_EXPLANATION_BYTES,
            );
          }
        }),
      );
      const widest = Array.from(
        { length: MAX_TRADE_FIELDS },
        (_, i) =>
          `<${'n'.repeat(44)}${String(i).padStart(4, '0')}>${'值'.repeat(300)}</${'n'.repeat(44)}${String(i).padStart(4, '0')}>`,
      ).join('');
      const result = unwrap(parseSingleTradeQueryReply(ponfee(widest), utf8Options));
      expect(
        result.status === 'unverified' && Buffer.byteLength(JSON.stringify(result.verification)),
      ).toBeLessThan(MAX_EXPLANATION_BYTES);
    });
  });

  it('reads back whatever trade text it wrote, in either charset (property)', () => {
    const gbkText = fc
      .array(fc.constantFrom(...'ab &<>"\'\r\n\t=+%中文商品【】￥'.split('')), { maxLength: 40 })
      .map((chars) => chars.join(''));
    fc.assert(
      fc.property(
        gbkText,
        gbkText,
        fc.constantFrom('utf-8' as const, 'gbk' as const),
        (subject, body, charset) => {
          const written = formatSingleTradeQueryReply({
            request: [{ name: 'out_trade_no', value: subject }],
            trade: [
              { name: 'trade_no', value: '2026120721001004370000361525' },
              { name: 'trade_status', value: 'TRADE_SUCCESS' },
              { name: 'subject', value: subject },
              { name: 'body', value: body },
            ],
            charset,
            signingKey: { signType: 'MD5', md5Key: KEY },
          });
          if (!written.ok) throw new Error(JSON.stringify(written.errors));
          const reply = unwrap(parseSingleTradeQueryReply(written.value, { ...utf8Options, charset }));
          expect(reply.status).toBe('found');
          expect(reply.request.out_trade_no).toBe(subject);
          if (reply.status === 'found') {
            expect(reply.trade.subject).toBe(subject === '' ? undefined : subject);
            expect(reply.trade.body).toBe(body === '' ? undefined : body);
          }
        },
      ),
    );
  });

  it('refuses to write what XML cannot carry', () => {
    const written = formatSingleTradeQueryReply({
      request: [],
      trade: [{ name: 'subject', value: 'a\u0001b' }],
      charset: 'utf-8',
      signingKey: { signType: 'MD5', md5Key: KEY },
    });
    expect(codes(written)).toEqual(['INVALID_PARAMETER']);
  });
});

describe('buildSingleTradeQueryRequest', () => {
  const merchant: MerchantConfig = {
    partner: '1000000000000000',
    charset: 'gbk',
    signingKey: { signType: 'MD5', md5Key: KEY },
    gateway: 'http://127.0.0.1:3001/gateway.do',
  };

  it('signs service, partner, _input_charset and the trade number, as the demos do', () => {
    const built = buildSingleTradeQueryRequest(merchant, { outTradeNo: 'A-1' });
    if (!built.ok) throw new Error('not built');
    const preSign = '_input_charset=gbk&out_trade_no=A-1&partner=1000000000000000&service=single_trade_query';
    expect(built.value.preSign).toBe(preSign);
    expect(built.value.params.find((p) => p.name === 'sign')?.value).toBe(md5(preSign));
    expect(built.value.formAction).toBe('http://127.0.0.1:3001/gateway.do?_input_charset=gbk');
    expect(parseForm(built.value.url.split('?')[1]).pairs.map((p) => p.name)).toEqual([
      '_input_charset',
      'out_trade_no',
      'partner',
      'service',
      'sign',
      'sign_type',
    ]);
  });

  it('takes trade_no, or both', () => {
    const both = buildSingleTradeQueryRequest(merchant, {
      outTradeNo: 'A-1',
      tradeNo: '2026120721001004370000361525',
    });
    expect(both.ok && both.value.preSign).toContain('trade_no=2026120721001004370000361525');
  });

  it.each([
    [{}, 'MISSING_FIELD out_trade_no'],
    [{ outTradeNo: '' }, 'MISSING_FIELD out_trade_no'],
    [{ tradeNo: 'abc' }, 'INVALID_PARAMETER trade_no'],
    [{ outTradeNo: 'a b' }, 'INVALID_PARAMETER out_trade_no'],
  ])('refuses %j', (query, error) => {
    const built = buildSingleTradeQueryRequest(merchant, query);
    expect(built.ok ? [] : built.errors.map((e) => `${e.code} ${e.field ?? ''}`)).toEqual([error]);
  });
});
