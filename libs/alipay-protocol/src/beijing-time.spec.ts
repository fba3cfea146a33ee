import fc from 'fast-check';
import { formatBeijingCompactDate, formatBeijingTime, isCompactDate, parseBeijingTime } from './beijing-time';

function instant(text: string): Date {
  const result = parseBeijingTime(text);
  if (!result.ok) throw new Error(result.errors[0].message);
  return result.value;
}

describe('parseBeijingTime', () => {
  it('reads Beijing wall time as UTC+8', () => {
    expect(instant('2016-09-24 21:03:57').toISOString()).toBe('2016-09-24T13:03:57.000Z');
    expect(instant('2015-01-01 00:00:00').toISOString()).toBe('2014-12-31T16:00:00.000Z');
  });

  it('accepts 29 February only in leap years', () => {
    expect(instant('2024-02-29 12:00:00').toISOString()).toBe('2024-02-29T04:00:00.000Z');
    expect(instant('2000-02-29 00:00:00').toISOString()).toBe('2000-02-28T16:00:00.000Z');
    expect(parseBeijingTime('2023-02-29 12:00:00').ok).toBe(false);
    expect(parseBeijingTime('1900-02-29 12:00:00').ok).toBe(false);
  });

  it.each([
    '2016-09-24T21:03:57',
    '2016-09-24 21:03:57+08:00',
    '2016-09-24 21:03',
    '2016-9-24 21:03:57',
    ' 2016-09-24 21:03:57',
    '2016-09-24  21:03:57',
    '2016-13-01 00:00:00',
    '2016-00-01 00:00:00',
    '2016-04-31 00:00:00',
    '2016-09-00 00:00:00',
    '2016-09-24 24:00:00',
    '2016-09-24 23:60:00',
    '2016-09-24 23:59:60',
    '0000-01-01 00:00:00',
    '',
  ])('rejects %j with MALFORMED_TIME', (text) => {
    const result = parseBeijingTime(text, 'gmt_payment');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]).toMatchObject({ code: 'MALFORMED_TIME', field: 'gmt_payment' });
  });

  it('keeps early years exact (no 19xx mapping of two-digit years)', () => {
    expect(instant('0099-12-31 08:00:00').getUTCFullYear()).toBe(99);
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const result = parseBeijingTime(text);
        if (result.ok) expect(Number.isNaN(result.value.getTime())).toBe(false);
      }),
    );
  });
});

describe('formatBeijingTime', () => {
  it('writes the Beijing wall time of an instant', () => {
    expect(formatBeijingTime(new Date('2014-12-31T16:00:00.000Z'))).toBe('2015-01-01 00:00:00');
    expect(formatBeijingTime(new Date('2016-09-24T13:03:57.999Z'))).toBe('2016-09-24 21:03:57');
  });

  it('round-trips with parseBeijingTime to the second', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253_402_271_999 }), (seconds) => {
        const date = new Date(seconds * 1000);
        expect(parseBeijingTime(formatBeijingTime(date))).toEqual({ ok: true, value: date });
      }),
    );
  });

  it('refuses an invalid Date', () => {
    expect(() => formatBeijingTime(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe('formatBeijingCompactDate', () => {
  it('uses the Beijing date, which is already tomorrow from 16:00 UTC', () => {
    expect(formatBeijingCompactDate(new Date('2024-03-09T15:59:59Z'))).toBe('20240309');
    expect(formatBeijingCompactDate(new Date('2024-03-09T16:00:00Z'))).toBe('20240310');
  });
});

describe('isCompactDate', () => {
  it('accepts real yyyyMMdd dates only', () => {
    expect(isCompactDate('20240229')).toBe(true);
    expect(isCompactDate('20230229')).toBe(false);
    expect(isCompactDate('2024022')).toBe(false);
    expect(isCompactDate('20241301')).toBe(false);
  });
});
