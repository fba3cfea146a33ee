import fc from 'fast-check';
import { MAX_AMOUNT_FEN, formatYuan, isRequestAmount, parseYuan } from './money';

function fen(text: string, options?: Parameters<typeof parseYuan>[1]): number {
  const result = parseYuan(text, options);
  if (!result.ok) throw new Error(`expected ${text} to parse: ${result.errors[0].message}`);
  return result.value;
}

function errorCode(text: string, options?: Parameters<typeof parseYuan>[1]): string {
  const result = parseYuan(text, options);
  return result.ok ? 'OK' : result.errors[0].code;
}

describe('parseYuan', () => {
  it('reads the shapes Alipay sends: two decimals, one decimal, integers', () => {
    expect(fen('0.01')).toBe(1);
    expect(fen('10.00')).toBe(1000);
    expect(fen('160.00')).toBe(16000);
    expect(fen('0.1')).toBe(10);
    expect(fen('80')).toBe(8000);
    expect(fen('100000000.00')).toBe(MAX_AMOUNT_FEN);
  });

  it('uses integer arithmetic where a float would drift', () => {
    // 1.15 * 100 === 114.99999999999999 and 0.29 * 100 === 28.999999999999996 in floating point.
    expect(fen('1.15')).toBe(115);
    expect(fen('0.29')).toBe(29);
    expect(fen('99999999.99')).toBe(9_999_999_999);
  });

  it.each([
    '',
    ' 1.00',
    '1.00 ',
    '1.',
    '.5',
    '1.001',
    '01.00',
    '00',
    '+1.00',
    '1e2',
    '1E2',
    '0x10',
    '1,00',
    '１.00',
    'NaN',
    'Infinity',
    '1.0.0',
    '--1',
  ])('rejects %j as malformed', (text) => {
    expect(errorCode(text, { allowNegative: true, allowZero: true })).toBe('MALFORMED_AMOUNT');
  });

  it('rejects zero unless the field allows it', () => {
    expect(errorCode('0.00')).toBe('AMOUNT_OUT_OF_RANGE');
    expect(errorCode('0')).toBe('AMOUNT_OUT_OF_RANGE');
    expect(fen('0.00', { allowZero: true })).toBe(0);
  });

  it('rejects amounts above 100000000.00, however many digits they have', () => {
    expect(errorCode('100000000.01')).toBe('AMOUNT_OUT_OF_RANGE');
    expect(errorCode('1000000000')).toBe('AMOUNT_OUT_OF_RANGE');
    expect(errorCode('9'.repeat(400))).toBe('AMOUNT_OUT_OF_RANGE');
  });

  it('accepts a sign only for a negative discount', () => {
    expect(errorCode('-5')).toBe('MALFORMED_AMOUNT');
    expect(fen('-5', { allowNegative: true })).toBe(-500);
    expect(fen('-0.01', { allowNegative: true })).toBe(-1);
    expect(errorCode('-100000000.01', { allowNegative: true })).toBe('AMOUNT_OUT_OF_RANGE');
    expect(Object.is(fen('-0.00', { allowNegative: true, allowZero: true }), 0)).toBe(true);
  });

  it('names the field in its errors', () => {
    const result = parseYuan('abc', { field: 'total_fee' });
    expect(result).toEqual({
      ok: false,
      errors: [{ code: 'MALFORMED_AMOUNT', field: 'total_fee', message: '"abc" is not a yuan amount' }],
    });
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.string(), fc.boolean(), fc.boolean(), (text, allowNegative, allowZero) => {
        const result = parseYuan(text, { allowNegative, allowZero });
        if (result.ok) {
          expect(Number.isSafeInteger(result.value)).toBe(true);
          expect(Math.abs(result.value)).toBeLessThanOrEqual(MAX_AMOUNT_FEN);
        }
      }),
    );
    expect(parseYuan(undefined as unknown as string).ok).toBe(false);
  });
});

describe('formatYuan', () => {
  it('always writes two decimals', () => {
    expect(formatYuan(1)).toBe('0.01');
    expect(formatYuan(10)).toBe('0.10');
    expect(formatYuan(1000)).toBe('10.00');
    expect(formatYuan(0)).toBe('0.00');
    expect(formatYuan(-500)).toBe('-5.00');
    expect(formatYuan(MAX_AMOUNT_FEN)).toBe('100000000.00');
  });

  it('refuses a value that is not integer fen', () => {
    expect(() => formatYuan(0.5)).toThrow(RangeError);
    expect(() => formatYuan(Number.NaN)).toThrow(RangeError);
  });

  it('round-trips with parseYuan over the whole range, negative included', () => {
    fc.assert(
      fc.property(fc.integer({ min: -MAX_AMOUNT_FEN, max: MAX_AMOUNT_FEN }), (amount) => {
        expect(parseYuan(formatYuan(amount), { allowNegative: true, allowZero: true })).toEqual({
          ok: true,
          value: amount,
        });
      }),
    );
  });

  it('is the canonical form: parse then format gives back any two-decimal input', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_AMOUNT_FEN }), (amount) => {
        const text = formatYuan(amount);
        const parsed = parseYuan(text);
        expect(parsed.ok && formatYuan(parsed.value)).toBe(text);
      }),
    );
  });
});

describe('isRequestAmount', () => {
  it('accepts integer fen in range only', () => {
    expect(isRequestAmount(1)).toBe(true);
    expect(isRequestAmount(MAX_AMOUNT_FEN)).toBe(true);
    expect(isRequestAmount(0)).toBe(false);
    expect(isRequestAmount(0, true)).toBe(true);
    expect(isRequestAmount(MAX_AMOUNT_FEN + 1)).toBe(false);
    expect(isRequestAmount(1.5)).toBe(false);
    expect(isRequestAmount(-1, true)).toBe(false);
  });
});
