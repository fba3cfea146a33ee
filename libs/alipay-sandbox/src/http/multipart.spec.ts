import fc from 'fast-check';
import { encode } from 'iconv-lite';
import { MAX_MULTIPART_PARTS, multipartBoundary, parseMultipart } from './multipart';

const BOUNDARY = '------------------------4ebf00fbcf09';

/** A body as curl writes one for an array of fields (CURLOPT_POSTFIELDS), values as raw bytes. */
function curlBody(fields: readonly (readonly [string, Buffer | string])[], boundary = BOUNDARY): Buffer {
  return Buffer.concat([
    ...fields.flatMap(([name, value]) => [
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`, 'latin1'),
      typeof value === 'string' ? Buffer.from(value, 'latin1') : value,
      Buffer.from('\r\n', 'latin1'),
    ]),
    Buffer.from(`--${boundary}--\r\n`, 'latin1'),
  ]);
}

describe('multipartBoundary', () => {
  it.each([
    ['multipart/form-data; boundary=------------------------4ebf00fbcf09', BOUNDARY],
    ['Multipart/Form-Data; charset=utf-8; boundary="a b:c"', 'a b:c'],
    ['application/x-www-form-urlencoded', undefined],
    [undefined, undefined],
    ['multipart/form-data', null],
    [`multipart/form-data; boundary=${'x'.repeat(71)}`, null],
    ['multipart/form-data; boundary=a;b', 'a'],
  ])('%j → %j', (contentType, boundary) => {
    expect(multipartBoundary(contentType)).toBe(boundary);
  });
});

describe('parseMultipart', () => {
  it('reads the fields of a curl body as the bytes sent, GBK included, CRLF and dashes inside values', () => {
    const gbk = encode('退款测试', 'gbk');
    const body = curlBody([
      ['service', 'refund_fastpay_by_platform_nopwd'],
      ['detail_data', Buffer.concat([Buffer.from('2026^0.01^'), gbk])],
      ['odd', `line\r\n--${BOUNDARY.slice(0, 10)} not a boundary`],
      ['empty', ''],
    ]);
    const parsed = parseMultipart(Buffer.concat([Buffer.from('preamble\r\n'), body]), BOUNDARY);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.fields.map((f) => f.name)).toEqual(['service', 'detail_data', 'odd', 'empty']);
    expect(parsed.fields[1].value.equals(Buffer.concat([Buffer.from('2026^0.01^'), gbk]))).toBe(true);
    expect(parsed.fields[2].value.toString('latin1')).toBe(
      `line\r\n--${BOUNDARY.slice(0, 10)} not a boundary`,
    );
    expect(parsed.fields[3].value.length).toBe(0);
  });

  it.each([
    ['no boundary', Buffer.from('service=x'), /no boundary/],
    [
      'no closing boundary',
      Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n\r\nx`),
      /closing/,
    ],
    [
      'a file',
      Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="a"; filename="x"\r\n\r\nx\r\n--${BOUNDARY}--`,
      ),
      /file/,
    ],
    [
      'no name',
      Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--${BOUNDARY}--`),
      /name/,
    ],
    [
      'base64 parts',
      Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\nContent-Transfer-Encoding: base64\r\n\r\neA==\r\n--${BOUNDARY}--`,
      ),
      /base64/,
    ],
    ['endless headers', Buffer.from(`--${BOUNDARY}\r\nX: ${'a'.repeat(5000)}`), /headers/],
  ])('refuses %s', (_what, body, problem) => {
    const parsed = parseMultipart(body, BOUNDARY);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.problem).toMatch(problem);
  });

  it('stops at the part cap', () => {
    const many = curlBody(Array.from({ length: MAX_MULTIPART_PARTS + 1 }, (_, i) => [`p${i}`, 'x'] as const));
    expect(parseMultipart(many, BOUNDARY)).toEqual({
      ok: false,
      problem: `more than ${MAX_MULTIPART_PARTS} parts`,
    });
  });

  it('never throws, and reads back any fields it is given (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 500 }),
        (bytes) => void parseMultipart(Buffer.from(bytes), BOUNDARY),
      ),
    );
    const name = fc.stringMatching(/^[a-z_]{1,20}$/);
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.uint8Array({ maxLength: 60 })), { maxLength: 10 }), (fields) => {
        const body = curlBody(fields.map(([n, v]) => [n, Buffer.from(v)] as const));
        const parsed = parseMultipart(body, BOUNDARY);
        // A value that happens to hold the delimiter is ambiguous for any reader; curl picks a random one.
        if (fields.some(([, v]) => Buffer.from(v).includes(`\r\n--${BOUNDARY}`))) return;
        expect(parsed.ok && parsed.fields.map((f) => [f.name, [...f.value]])).toEqual(
          fields.map(([n, v]) => [n, [...v]]),
        );
      }),
    );
  });
});
