import fc from 'fast-check';
import {
  contentTypeCharsetLabel,
  decodePairs,
  detectCharset,
  encodeForm,
  MAX_LISTED_FORM_ISSUES,
  parseForm,
  percentEncodeBytes,
} from './form-encoding';

function values(raw: string | Uint8Array): [string, string][] {
  return parseForm(raw).pairs.map((p) => [p.name, p.valueBytes.toString('latin1')]);
}

describe('parseForm', () => {
  it('splits on & and the first =, in received order', () => {
    expect(values('b=2&a=1&c=x=y')).toEqual([
      ['b', '2'],
      ['a', '1'],
      ['c', 'x=y'],
    ]);
  });

  it('reads + as a space and %2B as a plus', () => {
    // The genuine notification in docs/alipay-protocol.md, "Decoding pitfalls": body=7018-test-3+CNY is
    // signed as "7018-test-3 CNY".
    expect(values('body=7018-test-3+CNY&sign=ab%2Bcd')).toEqual([
      ['body', '7018-test-3 CNY'],
      ['sign', 'ab+cd'],
    ]);
    expect(values('notify_time=2016-09-24+21%3A03%3A57')).toEqual([['notify_time', '2016-09-24 21:03:57']]);
  });

  it('decodes exactly once, so a double-encoded notify_id keeps its %2F', () => {
    expect(values('notify_id=RqPnCoPT3K9%252Fvwbh3In')).toEqual([['notify_id', 'RqPnCoPT3K9%2Fvwbh3In']]);
  });

  it('percent-decodes to bytes, whatever the charset', () => {
    const [gbk] = parseForm('subject=%D6%D0%CE%C4').pairs;
    expect(gbk.valueBytes).toEqual(Buffer.from([0xd6, 0xd0, 0xce, 0xc4]));
    const [utf8] = parseForm('subject=%e4%b8%ad').pairs;
    expect(utf8.valueBytes).toEqual(Buffer.from('中', 'utf8'));
  });

  it('keeps a malformed % escape as a literal % and reports where it was', () => {
    const parsed = parseForm('a=100%&b=%zz1&c=%4');
    expect(parsed.pairs.map((p) => p.valueBytes.toString('latin1'))).toEqual(['100%', '%zz1', '%4']);
    expect(parsed.issues).toEqual([
      { kind: 'MALFORMED_PERCENT_ESCAPE', offset: 5 },
      { kind: 'MALFORMED_PERCENT_ESCAPE', offset: 9 },
      { kind: 'MALFORMED_PERCENT_ESCAPE', offset: 16 },
    ]);
  });

  it('does not let an escape reach across a separator', () => {
    expect(values('a=%2&b=1')).toEqual([
      ['a', '%2'],
      ['b', '1'],
    ]);
  });

  it('skips empty segments, keeps names without =, drops and reports nameless values', () => {
    const parsed = parseForm('&&a&=orphan&b=&c=3&');
    expect(parsed.pairs.map((p) => [p.name, p.valueBytes.length])).toEqual([
      ['a', 0],
      ['b', 0],
      ['c', 1],
    ]);
    expect(parsed.issues).toEqual([{ kind: 'EMPTY_NAME', offset: 4 }]);
  });

  it('parses an empty input to nothing', () => {
    const nothing = { pairs: [], issues: [], ascii: true, segments: 0, stopped: false, unlistedIssues: 0 };
    expect(parseForm('')).toEqual(nothing);
    expect(parseForm(new Uint8Array(0))).toEqual(nothing);
  });

  it('stops at maxPairs segments, nameless ones included, and still counts them all', () => {
    const parsed = parseForm('a=1&&=x&b&c=3&d=4&', { maxPairs: 3 });
    expect(parsed.pairs.map((p) => p.name)).toEqual(['a', 'b']);
    expect(parsed.issues).toEqual([{ kind: 'EMPTY_NAME', offset: 5 }]);
    expect(parsed).toMatchObject({ segments: 5, stopped: true });

    const exact = parseForm('a=1&b=2&c=3', { maxPairs: 3 });
    expect(exact).toMatchObject({ segments: 3, stopped: false });
    expect(exact.pairs).toHaveLength(3);
  });

  it('lists the first issues and counts the rest, whatever their number', () => {
    const parsed = parseForm(`a=${'%'.repeat(1000)}&${'=x&'.repeat(10)}`);
    expect(parsed.issues).toHaveLength(MAX_LISTED_FORM_ISSUES);
    expect(parsed.unlistedIssues).toBe(1010 - MAX_LISTED_FORM_ISSUES);
    expect(parsed.pairs[0].binaryValue).toBe('%'.repeat(1000));
  });

  it('says whether any byte, raw or escaped, is above 0x7F', () => {
    expect(parseForm('a=%41%7F+b').ascii).toBe(true);
    expect(parseForm('a=%80').ascii).toBe(false);
    expect(parseForm('a=%e4%b8%ad').ascii).toBe(false);
    expect(parseForm(Buffer.from([0x61, 0x3d, 0xd6])).ascii).toBe(false);
  });

  it('does not read %uXXXX, which form encoding does not have', () => {
    const parsed = parseForm('a=%u4E2D%41');
    expect(parsed.pairs[0].valueBytes.toString('latin1')).toBe('%u4E2DA');
    expect(parsed.issues).toEqual([{ kind: 'MALFORMED_PERCENT_ESCAPE', offset: 2 }]);
  });

  it('decodes exactly like a byte-by-byte reference decoder (property)', () => {
    const hex = (b: number) =>
      (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
    const reference = (bytes: Uint8Array) => {
      const pairs: [string, string][] = [];
      const issues: number[] = [];
      const decode = (from: number, to: number) => {
        const out: number[] = [];
        for (let i = from; i < to; i++) {
          if (bytes[i] === 0x2b) out.push(0x20);
          else if (bytes[i] === 0x25 && i + 2 < to && hex(bytes[i + 1]) && hex(bytes[i + 2])) {
            out.push(parseInt(String.fromCharCode(bytes[i + 1], bytes[i + 2]), 16));
            i += 2;
          } else {
            if (bytes[i] === 0x25) issues.push(i);
            out.push(bytes[i]);
          }
        }
        return Buffer.from(out).toString('latin1');
      };
      let start = 0;
      for (let i = 0; i <= bytes.length; i++) {
        if (i === bytes.length || bytes[i] === 0x26) {
          let equals = start;
          while (equals < i && bytes[equals] !== 0x3d) equals++;
          if (i > start && equals > start) {
            pairs.push([decode(start, equals), equals < i ? decode(equals + 1, i) : '']);
          }
          start = i + 1;
        }
      }
      return { pairs, issues };
    };
    const alphabet = fc.constantFrom(...'%%%u+&==aF09gZ'.split('').map((c) => c.charCodeAt(0)), 0xd6, 0x00);
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }), (codes) => {
        const bytes = Uint8Array.from(codes);
        const parsed = parseForm(bytes);
        const expected = reference(bytes);
        expect(parsed.pairs.map((p) => [p.name, p.valueBytes.toString('latin1')])).toEqual(expected.pairs);
        expect(
          parsed.issues.filter((i) => i.kind === 'MALFORMED_PERCENT_ESCAPE').map((i) => i.offset),
        ).toEqual(expected.issues);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts a Uint8Array view into a larger buffer', () => {
    const backing = Buffer.from('xxxxa=1&b=2yyyy');
    expect(values(new Uint8Array(backing.buffer, backing.byteOffset + 4, 7))).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });

  it('never throws on arbitrary bytes, and never yields more bytes than it read', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const parsed = parseForm(bytes);
        const total = parsed.pairs.reduce((sum, p) => sum + p.nameBytes.length + p.valueBytes.length, 0);
        expect(total).toBeLessThanOrEqual(bytes.length);
      }),
    );
  });

  it('inverts encodeForm for any text in either charset', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ minLength: 1 }), fc.string({ unit: 'grapheme' })), { maxLength: 8 }),
        fc.constantFrom('utf-8' as const, 'gbk' as const),
        (entries, charset) => {
          const params = entries.map(([name, value]) => ({ name, value }));
          const encoded = encodeForm(params, charset);
          if (!encoded.ok) return;
          expect(decodePairs(parseForm(encoded.value).pairs, charset)).toEqual(params);
        },
      ),
    );
  });
});

describe('percentEncodeBytes', () => {
  it('leaves only unreserved ASCII', () => {
    expect(percentEncodeBytes(Buffer.from('a b+c&d=e%f~_.-/'))).toBe('a%20b%2Bc%26d%3De%25f~_.-%2F');
    expect(percentEncodeBytes(Buffer.from([0xd6, 0xd0]))).toBe('%D6%D0');
  });
});

describe('contentTypeCharsetLabel', () => {
  it.each([
    ['application/x-www-form-urlencoded; text/html; charset=UTF-8', 'UTF-8'],
    ['application/x-www-form-urlencoded;charset=GBK', 'GBK'],
    ['application/x-www-form-urlencoded; CHARSET = "gbk"', '"gbk"'],
    ['application/x-www-form-urlencoded', undefined],
    ['', undefined],
    [';;;=;charset', undefined],
    [undefined, undefined],
  ])('reads %j as %j', (header, label) => {
    expect(contentTypeCharsetLabel(header)).toBe(label);
  });
});

describe('detectCharset', () => {
  const pairs = (raw: string) => parseForm(raw).pairs;

  it('prefers a signed _input_charset over everything', () => {
    expect(detectCharset(pairs('_input_charset=gbk&a=1'), 'text/plain; charset=utf-8', 'utf-8')).toEqual({
      charset: 'gbk',
      source: '_input_charset',
      notes: ['content-type says utf-8, overridden by _input_charset (gbk)'],
    });
    expect(detectCharset(pairs('charset=GBK'), undefined, 'utf-8')).toMatchObject({
      charset: 'gbk',
      source: 'charset',
    });
  });

  it('reads the charset of Alipay’s malformed Content-Type', () => {
    const header = 'application/x-www-form-urlencoded; text/html; charset=GBK';
    expect(detectCharset(pairs('a=1'), header, 'utf-8')).toEqual({
      charset: 'gbk',
      source: 'content-type',
      notes: [],
    });
  });

  it('falls back to the configured charset, noting labels it cannot use', () => {
    expect(detectCharset(pairs('_input_charset=big5'), 'x; charset=klingon', 'gbk')).toEqual({
      charset: 'gbk',
      source: 'default',
      notes: [
        '_input_charset names an unsupported charset "big5"',
        'content-type names an unsupported charset "klingon"',
      ],
    });
  });
});
