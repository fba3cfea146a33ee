import fc from 'fast-check';
import { charsetFromLabel, decodeBytes, decodesCleanly, encodeText } from './charset';

describe('charsetFromLabel', () => {
  it.each([
    ['utf-8', 'utf-8'],
    ['UTF-8', 'utf-8'],
    [' utf8 ', 'utf-8'],
    ['"UTF-8"', 'utf-8'],
    ['GBK', 'gbk'],
    ['gb2312', 'gbk'],
    ['x-gbk', 'gbk'],
  ])('maps %j to %s', (label, charset) => {
    expect(charsetFromLabel(label)).toBe(charset);
  });

  it.each(['', 'latin1', 'gb18030', 'toString', '__proto__', 'utf-16'])('does not support %j', (label) => {
    expect(charsetFromLabel(label)).toBeUndefined();
  });
});

describe('encodeText', () => {
  it('writes Chinese as two bytes per character in GBK and three in UTF-8', () => {
    expect(encodeText('中文', 'gbk')).toEqual({ ok: true, value: Buffer.from([0xd6, 0xd0, 0xce, 0xc4]) });
    expect(encodeText('中文', 'utf-8')).toEqual({ ok: true, value: Buffer.from('中文', 'utf8') });
  });

  it('refuses text GBK cannot represent instead of writing "?"', () => {
    const result = encodeText('pay 😀', 'gbk', 'subject');
    expect(result).toEqual({
      ok: false,
      errors: [
        { code: 'UNENCODABLE_CHARACTER', field: 'subject', message: 'the text cannot be represented in gbk' },
      ],
    });
    expect(encodeText('한', 'gbk').ok).toBe(false);
    expect(encodeText('😀', 'utf-8').ok).toBe(true);
  });

  it('refuses a lone surrogate in UTF-8', () => {
    expect(encodeText('a\uD800b', 'utf-8').ok).toBe(false);
  });

  it('round-trips whatever it accepts', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme' }),
        fc.constantFrom('utf-8' as const, 'gbk' as const),
        (text, charset) => {
          const bytes = encodeText(text, charset);
          if (bytes.ok) expect(decodeBytes(bytes.value, charset)).toBe(text);
        },
      ),
    );
  });
});

describe('decodesCleanly', () => {
  it('tells valid bytes from bytes of the other charset', () => {
    const gbk = Buffer.from([0xd6, 0xd0, 0xce, 0xc4]);
    expect(decodesCleanly(gbk, 'gbk')).toBe(true);
    expect(decodesCleanly(gbk, 'utf-8')).toBe(false);
    expect(decodesCleanly(Buffer.from('\uFFFD', 'utf8'), 'utf-8')).toBe(true);
  });
});
