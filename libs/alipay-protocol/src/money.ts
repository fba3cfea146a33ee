import { fail, ok, quote, type Result } from './errors';

// docs/alipay-protocol.md, "Amounts and times": amounts are yuan strings, stored as integer fen, parsed
// without floats (a float round trip turns `0.10` into `0.1` and changes the signed string).

/**
 * The largest amount Alipay accepts on a request: 100000000.00 yuan (docs/alipay-protocol.md,
 * "Amounts and times").
 */
export const MAX_AMOUNT_FEN = 10_000_000_000;

export interface ParseYuanOptions {
  /** Accept a leading `-` (only `discount` may be negative, docs/alipay-protocol.md, "Amounts and times"). */
  readonly allowNegative?: boolean;
  /** Accept `0` / `0.00` (e.g. `discount`, `logistics_fee`, result amounts). */
  readonly allowZero?: boolean;
  /** The parameter name reported in errors. */
  readonly field?: string;
}

// No exponent, no `+`, no leading zeros, no bare `.`, at most two decimals. Integers (`80`, `-5`) appear in
// Alipay's own samples (`discount`, and `result_details` in docs/alipay-protocol.md, "Batch refund results").
const YUAN = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]{1,2}))?$/;

/**
 * Parses a yuan string into integer fen, strictly: `0.01`, `10.00`, `80`, `-5` (negative only with
 * `allowNegative`); magnitude at most 100000000.00; zero only with `allowZero`. Never throws.
 */
export function parseYuan(text: string, options: ParseYuanOptions = {}): Result<number> {
  const { field } = options;
  const match = typeof text === 'string' ? YUAN.exec(text) : null;
  if (match === null) {
    return fail('MALFORMED_AMOUNT', `${quote(String(text))} is not a yuan amount`, field);
  }
  const [, sign, yuan, decimals = ''] = match;
  if (sign === '-' && options.allowNegative !== true) {
    return fail('MALFORMED_AMOUNT', `${quote(text)} is negative`, field);
  }
  // Ten integer digits already exceed the range; checking the length first keeps Number() exact.
  if (yuan.length > 9) {
    return fail('AMOUNT_OUT_OF_RANGE', `${quote(text)} exceeds 100000000.00`, field);
  }
  const magnitude = Number(yuan) * 100 + Number(decimals.padEnd(2, '0'));
  if (magnitude > MAX_AMOUNT_FEN) {
    return fail('AMOUNT_OUT_OF_RANGE', `${quote(text)} exceeds 100000000.00`, field);
  }
  if (magnitude === 0) {
    return options.allowZero === true
      ? ok(0)
      : fail('AMOUNT_OUT_OF_RANGE', `${quote(text)} is below 0.01`, field);
  }
  return ok(sign === '-' ? -magnitude : magnitude);
}

/**
 * Formats integer fen as the canonical two-decimal yuan string Alipay expects (`1` → `0.01`,
 * `-500` → `-5.00`). Throws a RangeError for a value that is not a safe integer: that is a programming
 * error, never Alipay input.
 */
export function formatYuan(fen: number): string {
  if (!Number.isSafeInteger(fen)) {
    throw new RangeError(`formatYuan expects integer fen, got ${String(fen)}`);
  }
  const magnitude = Math.abs(fen);
  const yuan = Math.floor(magnitude / 100);
  const cents = magnitude % 100;
  return `${fen < 0 ? '-' : ''}${yuan}.${cents < 10 ? '0' : ''}${cents}`;
}

/** Whether fen is an amount a request may carry: an integer in [1, MAX_AMOUNT_FEN] (or 0 when allowed). */
export function isRequestAmount(fen: number, allowZero = false): boolean {
  return Number.isSafeInteger(fen) && fen >= (allowZero ? 0 : 1) && fen <= MAX_AMOUNT_FEN;
}
