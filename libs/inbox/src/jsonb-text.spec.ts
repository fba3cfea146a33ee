import { jsonbText } from './inbox-store';

describe('jsonbText', () => {
  it('is the plain JSON text when no string holds U+0000', () => {
    const value = { a: 'text', list: [1, 'x\\u0000 as six characters'], nested: { b: null } };
    expect(jsonbText(value)).toBe(JSON.stringify(value));
  });

  it('shows U+0000 as U+2400 wherever it is, and keeps a written-out \\u0000 as it is', () => {
    const value = { a: 'a\u0000b', list: ['\u0000', 'x\\u0000'], nested: { 'k\u0000': '\u0000\u0000' } };
    expect(JSON.parse(jsonbText(value))).toEqual({
      a: 'a\u2400b',
      list: ['\u2400', 'x\\u0000'],
      nested: { 'k\u0000': '\u2400\u2400' },
    });
  });
});
