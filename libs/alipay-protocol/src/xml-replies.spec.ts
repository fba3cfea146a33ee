import fc from 'fast-check';
import { encode } from 'iconv-lite';
import { MAX_REPLY_BYTES, parseGatewayReply } from './xml-replies';

function codes(result: { ok: boolean; errors?: readonly { code: string }[] }): string[] {
  return result.ok ? [] : (result.errors ?? []).map((e) => e.code);
}

describe('parseGatewayReply', () => {
  it('refuses a reply larger than any gateway sends, before reading it', () => {
    const large = `<alipay><is_success>T</is_success><x>${'a'.repeat(MAX_REPLY_BYTES)}</x></alipay>`;
    expect(codes(parseGatewayReply(Buffer.from(large)))).toEqual(['MALFORMED_XML']);
    expect(codes(parseGatewayReply(large))).toEqual(['MALFORMED_XML']);
  });

  it('refuses elements nested deeper than a reply has, and reads the usual depth', () => {
    const nested = (depth: number) =>
      `<alipay><is_success>T</is_success>${'<a>'.repeat(depth)}x${'</a>'.repeat(depth)}</alipay>`;
    expect(parseGatewayReply(nested(5)).ok).toBe(true);
    const deep = parseGatewayReply(nested(5_000));
    expect(deep.ok === false && deep.errors[0].message).toMatch(/nested more than 16 deep/);
  });

  // docs/alipay-protocol.md, "XML replies"
  it('reads the accepted nopwd reply with its GBK declaration', () => {
    const body = Buffer.from(
      '<?xml version="1.0" encoding="GBK"?><alipay><is_success>T</is_success></alipay>',
    );
    expect(parseGatewayReply(body)).toEqual({
      ok: true,
      value: { status: 'accepted', isSuccess: 'T', fields: {}, charset: 'gbk', charsetSource: 'declaration' },
    });
  });

  it('reads a rejection with its error code', () => {
    const body = Buffer.from('<alipay><is_success>F</is_success><error>DUPLICATE_BATCH_NO</error></alipay>');
    expect(parseGatewayReply(body)).toEqual({
      ok: true,
      value: {
        status: 'rejected',
        isSuccess: 'F',
        error: 'DUPLICATE_BATCH_NO',
        fields: {},
        charset: 'utf-8',
        charsetSource: 'default',
      },
    });
  });

  it('reads P as pending, and a rejection without error code', () => {
    expect(parseGatewayReply('<alipay><is_success>P</is_success></alipay>')).toMatchObject({
      ok: true,
      value: { status: 'pending', charsetSource: 'text' },
    });
    const bare = parseGatewayReply('<alipay><is_success>F</is_success><error></error></alipay>');
    expect(bare).toMatchObject({ ok: true, value: { status: 'rejected' } });
    expect(bare.ok && 'error' in bare.value).toBe(false);
  });

  it('decodes GBK bytes per the declaration and keeps the other fields', () => {
    const xml =
      '<?xml version="1.0" encoding="GBK"?>\n<alipay>\n  <is_success>T</is_success>\n  <request><param>顺丰速运</param></request>\n' +
      '  <response><tradeBase><trade_no>2015051900001000980052833539</trade_no><trade_status>WAIT_BUYER_CONFIRM_GOODS</trade_status></tradeBase></response>\n' +
      '  <sign>abc</sign><sign_type>MD5</sign_type>\n</alipay>';
    const result = parseGatewayReply(encode(xml, 'gbk'));
    expect(result).toEqual({
      ok: true,
      value: {
        status: 'accepted',
        isSuccess: 'T',
        charset: 'gbk',
        charsetSource: 'declaration',
        fields: {
          request: { param: '顺丰速运' },
          response: {
            tradeBase: { trade_no: '2015051900001000980052833539', trade_status: 'WAIT_BUYER_CONFIRM_GOODS' },
          },
          sign: 'abc',
          sign_type: 'MD5',
        },
      },
    });
  });

  it('reads a UTF-8 body without declaration, BOM included', () => {
    const body = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('<alipay><is_success>T</is_success></alipay>'),
    ]);
    expect(parseGatewayReply(body).ok).toBe(true);
  });

  it('unescapes the standard entities', () => {
    const result = parseGatewayReply('<alipay><is_success>F</is_success><error>A&amp;B</error></alipay>');
    expect(result.ok && result.value.status === 'rejected' && result.value.error).toBe('A&B');
  });

  it.each([
    ['', 'MALFORMED_XML'],
    ['true', 'MALFORMED_XML'],
    ['<alipay><is_success>T</alipay>', 'MALFORMED_XML'],
    ['<html><body>502 Bad Gateway</body></html>', 'MALFORMED_XML'],
    ['<alipay></alipay>', 'MALFORMED_XML'],
    ['<alipay><error>X</error></alipay>', 'MISSING_FIELD'],
    ['<alipay><is_success>Y</is_success></alipay>', 'UNKNOWN_IS_SUCCESS'],
    ['<alipay><is_success>T</is_success><is_success>F</is_success></alipay>', 'UNKNOWN_IS_SUCCESS'],
    [
      '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><alipay><is_success>&x;</is_success></alipay>',
      'MALFORMED_XML',
    ],
  ])('refuses %j with %s', (xml, code) => {
    expect(codes(parseGatewayReply(xml))).toEqual([code]);
  });

  it('refuses an encoding it cannot read', () => {
    const body = Buffer.from('<?xml version="1.0" encoding="EBCDIC"?><alipay/>');
    expect(codes(parseGatewayReply(body))).toEqual(['UNSUPPORTED_CHARSET']);
  });

  it('never throws on arbitrary bytes or text', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => void parseGatewayReply(bytes)));
    fc.assert(fc.property(fc.string(), (text) => void parseGatewayReply(text)));
    const xmlish = fc.stringMatching(/^[<>/a-z_?!="' TFP&;#[\]-]*$/);
    fc.assert(
      fc.property(
        xmlish,
        (inner) => void parseGatewayReply(`<alipay><is_success>${inner}</is_success>${inner}</alipay>`),
      ),
    );
  });
});
