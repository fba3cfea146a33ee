import { CSV_BOM, csvField, csvRecord, guardFormula } from './csv';

describe('CSV encoding of the exports', () => {
  it('quotes what RFC 4180 requires, doubling quotes, and nothing else', () => {
    expect(csvField('龙井绿茶 250g')).toBe('龙井绿茶 250g');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField(' padded ')).toBe(' padded ');
  });

  it('writes null as an empty field and numbers as they are', () => {
    expect(csvField(null)).toBe('');
    expect(csvField('')).toBe('');
    expect(csvField(42)).toBe('42');
    expect(csvRecord(['A-1', null, 3, '12.30'])).toBe('A-1,,3,12.30\r\n');
  });

  it.each([
    ['=HYPERLINK("http://evil.example","点我")', `"'=HYPERLINK(""http://evil.example"",""点我"")"`],
    ['+86 138', "'+86 138"],
    ['-1+2', "'-1+2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=1', "'\t=1"],
    ['\r=1', `"'\r=1"`],
  ])('never lets a spreadsheet evaluate %j', (text, field) => {
    expect(csvField(text)).toBe(field);
  });

  it('leaves text that only contains a formula character alone', () => {
    expect(guardFormula('a=b')).toBe('a=b');
    expect(guardFormula('2024-05-01 10:00:00+08:00')).toBe('2024-05-01 10:00:00+08:00');
    expect(guardFormula('12.30')).toBe('12.30');
  });

  it('starts a file with the UTF-8 byte order mark', () => {
    expect(Buffer.from(CSV_BOM, 'utf8')).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
  });
});
