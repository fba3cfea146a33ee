import { formatBeijingCompactDate, isCompactDate } from './beijing-time';
import type { Charset } from './charset';
import { fail, failWith, ok, quote, type ProtocolError, type Result } from './errors';
import { formatYuan, isRequestAmount, parseYuan } from './money';

// The batch refund grammars (docs/alipay-protocol.md, "Batch refunds").

// ---------------------------------------------------------------------------------------------------
// batch_no (docs/alipay-protocol.md, "batch_no"): the refund date (Beijing, yyyyMMdd, must be the day of the
// request) followed by a serial. Alipay allows 3–24 characters of serial, digits recommended; digits only are
// produced and accepted here. Uniqueness for ever is the caller's: the serial must come from a durable
// sequence.

const BATCH_NO = /^([0-9]{8})([0-9]{3,24})$/;
const SERIAL = /^[0-9]{3,24}$/;

export interface BatchNo {
  /** The refund date, `yyyyMMdd` in Beijing time. */
  readonly date: string;
  readonly serial: string;
}

/**
 * Builds `batch_no` = Beijing date of `refundDate` + serial (3–24 digits, not all zeros). Use the same
 * instant for `refund_date`: a batch_no dated "yesterday" by a UTC clock is `BATCH_NO_FORMAT_ERROR`.
 */
export function formatBatchNo(refundDate: Date, serial: string): Result<string> {
  if (typeof serial !== 'string' || !SERIAL.test(serial) || /^0+$/.test(serial)) {
    return fail(
      'INVALID_BATCH_NO',
      `serial ${quote(String(serial))} is not 3 to 24 digits (not all zeros)`,
      'batch_no',
    );
  }
  if (Number.isNaN(refundDate.getTime()))
    return fail('INVALID_PARAMETER', 'invalid refund date', 'refund_date');
  return ok(`${formatBeijingCompactDate(refundDate)}${serial}`);
}

/**
 * Reads a `batch_no`; with `refundDate`, also checks that it is dated that Beijing day
 * (`BATCH_DATE_MISMATCH`). Never throws.
 */
export function parseBatchNo(text: string, refundDate?: Date): Result<BatchNo> {
  const match = typeof text === 'string' ? BATCH_NO.exec(text) : null;
  if (match === null) {
    return fail('INVALID_BATCH_NO', `${quote(String(text))} is not yyyyMMdd + 3 to 24 digits`, 'batch_no');
  }
  const [, date, serial] = match;
  if (!isCompactDate(date))
    return fail('INVALID_BATCH_NO', `${quote(text)} does not start with a real date`, 'batch_no');
  if (/^0+$/.test(serial))
    return fail('INVALID_BATCH_NO', `${quote(text)} has an all-zero serial`, 'batch_no');
  if (refundDate !== undefined) {
    const expected = Number.isNaN(refundDate.getTime())
      ? 'a valid date'
      : formatBeijingCompactDate(refundDate);
    if (date !== expected) {
      return fail(
        'BATCH_DATE_MISMATCH',
        `${quote(text)} is not dated ${expected}, the refund date`,
        'batch_no',
      );
    }
  }
  return ok({ date, serial });
}

// ---------------------------------------------------------------------------------------------------
// detail_data (docs/alipay-protocol.md, "detail_data"):
//   detail_data   := record ( "#" record )*                 ; ≤ 1000 records
//   record        := tradeRefund ( "|" royaltyRefund )* ( "$$" subTradeRefund )?
//   tradeRefund   := trade_no "^" amount "^" reason
//   royaltyRefund := outAccount "^" outUserId "^" inAccount "^" inUserId "^" amount "^" reason
//   subTradeRefund:= amount "^" reason

export const MAX_BATCH_RECORDS = 1000;
const MAX_REASON_BYTES = 255;
const MAX_TRADE_NO_LENGTH = 64;
const STRUCTURAL = /[\^|$#]/;
const USER_ID = /^2088[0-9]{12}$/;

/** A royalty (分润) part to take back: from the account that received it to the one that paid it. */
export interface RoyaltyRefund {
  /** Account that originally received the royalty (the money flows back from it); email or mobile. */
  readonly outAccount: string;
  readonly outUserId: string;
  /** Account that originally paid the royalty. */
  readonly inAccount: string;
  readonly inUserId: string;
  readonly amount: number;
  readonly reason: string;
}

export interface SubTradeRefund {
  readonly amount: number;
  readonly reason: string;
}

/** One record of `detail_data`: an Alipay `trade_no`, the amount to refund in fen, and a reason. */
export interface RefundDetail {
  readonly tradeNo: string;
  readonly amount: number;
  readonly reason: string;
  /** nopwd only (`PWD_REFUND_NOT_ALLOW_ROYALTY`). */
  readonly royalties?: readonly RoyaltyRefund[];
  /** nopwd only. */
  readonly subTrade?: SubTradeRefund;
}

/** `pwd` = refund_fastpay_by_platform_pwd, `nopwd` = refund_fastpay_by_platform_nopwd. */
export type RefundService = 'pwd' | 'nopwd';

export interface DetailDataOptions {
  readonly service: RefundService;
  /** Reasons must stay under 256 bytes in the request charset. Default `utf-8`. */
  readonly charset?: Charset;
}

export interface DetailData {
  readonly detailData: string;
  /** `batch_num`: the record count, which Alipay checks against the data (`BATCH_NUM_NOT_EQUAL_TOTAL`). */
  readonly batchNum: number;
}

function byteLength(text: string, charset: Charset): number {
  if (charset === 'utf-8') return Buffer.byteLength(text, 'utf8');
  let bytes = 0;
  for (const char of text) bytes += char.charCodeAt(0) < 0x80 ? 1 : 2;
  return bytes;
}

function checkText(
  errors: ProtocolError[],
  field: string,
  value: unknown,
  options: { required: boolean },
): void {
  if (typeof value !== 'string' || value === '') {
    if (options.required || typeof value !== 'string') {
      errors.push({ code: 'MISSING_FIELD', field, message: 'required' });
    }
    return;
  }
  if (STRUCTURAL.test(value)) {
    errors.push({ code: 'FORBIDDEN_CHARACTER', field, message: `${quote(value)} contains one of ^ | $ #` });
  }
}

function checkReason(errors: ProtocolError[], field: string, reason: unknown, charset: Charset): void {
  checkText(errors, field, reason, { required: true });
  if (typeof reason === 'string' && byteLength(reason, charset) > MAX_REASON_BYTES) {
    errors.push({ code: 'TOO_LONG', field, message: `a reason is under 256 bytes in ${charset}` });
  }
}

function checkAmount(errors: ProtocolError[], field: string, amount: unknown): void {
  if (typeof amount !== 'number' || !isRequestAmount(amount)) {
    errors.push({
      code: 'AMOUNT_OUT_OF_RANGE',
      field,
      message: `${String(amount)} is not integer fen in [1, 10000000000]`,
    });
  }
}

function checkUserId(errors: ProtocolError[], field: string, userId: string): void {
  if (userId !== '' && !USER_ID.test(userId)) {
    errors.push({ code: 'MALFORMED_FIELD', field, message: `${quote(userId)} is not 2088 + 12 digits` });
  }
}

function checkRoyalty(errors: ProtocolError[], at: string, royalty: RoyaltyRefund, charset: Charset): void {
  for (const side of ['out', 'in'] as const) {
    const account = royalty[`${side}Account`];
    const userId = royalty[`${side}UserId`];
    checkText(errors, `${at}.${side}Account`, account, { required: false });
    checkText(errors, `${at}.${side}UserId`, userId, { required: false });
    if (typeof userId === 'string') checkUserId(errors, `${at}.${side}UserId`, userId);
    if (account === '' && userId === '') {
      errors.push({
        code: 'MISSING_FIELD',
        field: `${at}.${side}Account`,
        message: `the ${side} account or user id is required`,
      });
    }
  }
  checkAmount(errors, `${at}.amount`, royalty.amount);
  checkReason(errors, `${at}.reason`, royalty.reason, charset);
}

/**
 * Builds `detail_data` and `batch_num` from refund records, validating everything Alipay would refuse
 * (docs/alipay-protocol.md, "detail_data"): 1 to 1000 records, a trade at most once per batch, amounts in
 * range, reasons non-empty, under 256 bytes and free of `^ | $ #`, royalty and sub-trade parts only for
 * nopwd.
 */
export function buildDetailData(
  records: readonly RefundDetail[],
  options: DetailDataOptions,
): Result<DetailData> {
  const charset = options.charset ?? 'utf-8';
  if (records.length === 0) return fail('EMPTY_BATCH', 'a batch refunds at least one trade', 'detail_data');
  if (records.length > MAX_BATCH_RECORDS) {
    return fail('TOO_MANY_RECORDS', `${records.length} records, at most ${MAX_BATCH_RECORDS}`, 'detail_data');
  }
  const errors: ProtocolError[] = [];
  const seen = new Set<string>();
  records.forEach((record, index) => {
    const at = `detail_data[${index}]`;
    checkText(errors, `${at}.tradeNo`, record.tradeNo, { required: true });
    if (typeof record.tradeNo === 'string') {
      if (record.tradeNo.length > MAX_TRADE_NO_LENGTH || /\s/.test(record.tradeNo)) {
        errors.push({
          code: 'MALFORMED_FIELD',
          field: `${at}.tradeNo`,
          message: 'a trade_no is at most 64 characters, no spaces',
        });
      }
      if (seen.has(record.tradeNo)) {
        errors.push({
          code: 'DUPLICATE_TRADE_IN_BATCH',
          field: `${at}.tradeNo`,
          message: `${quote(record.tradeNo)} is already in this batch`,
        });
      }
      seen.add(record.tradeNo);
    }
    checkAmount(errors, `${at}.amount`, record.amount);
    checkReason(errors, `${at}.reason`, record.reason, charset);
    const royalties = record.royalties ?? [];
    if (options.service === 'pwd' && (royalties.length > 0 || record.subTrade !== undefined)) {
      errors.push({
        code: 'PART_NOT_ALLOWED',
        field: at,
        message: 'the password refund takes trade records only (PWD_REFUND_NOT_ALLOW_ROYALTY)',
      });
    }
    royalties.forEach((royalty, r) => checkRoyalty(errors, `${at}.royalties[${r}]`, royalty, charset));
    if (record.subTrade !== undefined) {
      checkAmount(errors, `${at}.subTrade.amount`, record.subTrade.amount);
      checkReason(errors, `${at}.subTrade.reason`, record.subTrade.reason, charset);
    }
  });
  if (errors.length > 0) return failWith(errors);
  return ok({ detailData: records.map(formatDetailRecord).join('#'), batchNum: records.length });
}

function formatDetailRecord(record: RefundDetail): string {
  let text = `${record.tradeNo}^${formatYuan(record.amount)}^${record.reason}`;
  for (const r of record.royalties ?? []) {
    text += `|${r.outAccount}^${r.outUserId}^${r.inAccount}^${r.inUserId}^${formatYuan(r.amount)}^${r.reason}`;
  }
  if (record.subTrade !== undefined)
    text += `$$${formatYuan(record.subTrade.amount)}^${record.subTrade.reason}`;
  return text;
}

function amountAt(errors: ProtocolError[], field: string, text: string, allowZero = false): number {
  const parsed = parseYuan(text, { field, allowZero });
  if (parsed.ok) return parsed.value;
  errors.push(...parsed.errors);
  return 0;
}

function partsOf(
  errors: ProtocolError[],
  code: 'MALFORMED_DETAIL_DATA' | 'MALFORMED_RESULT_DETAILS',
  field: string,
  text: string,
  counts: readonly number[],
): string[] | undefined {
  // At most one field more than the most expected is split off: a field of a million `^` is one string.
  const most = Math.max(...counts);
  const parts = text.split('^', most + 1);
  if (!counts.includes(parts.length)) {
    const expected = counts.join(' or ');
    const found = parts.length > most ? `more than ${most}` : String(parts.length);
    errors.push({ code, field, message: `${quote(text)} has ${found} ^-fields, expected ${expected}` });
    return undefined;
  }
  if (parts.some((part) => part.includes('$'))) {
    errors.push({ code, field, message: `${quote(text)} has a stray $` });
    return undefined;
  }
  return parts;
}

// docs/alipay-protocol.md, "Batch refund results": `$$` is tokenised before `$`, then `|`, then `^`.
function splitRecord(
  errors: ProtocolError[],
  code: 'MALFORMED_DETAIL_DATA' | 'MALFORMED_RESULT_DETAILS',
  field: string,
  record: string,
): { main: string; subTrade?: string } | undefined {
  const pieces = record.split('$$');
  if (pieces.length > 2) {
    errors.push({ code, field, message: 'more than one $$ sub-trade part' });
    return undefined;
  }
  return pieces.length === 2 ? { main: pieces[0], subTrade: pieces[1] } : { main: pieces[0] };
}

// A batch has at most MAX_BATCH_RECORDS records: more is refused before any is read, so that a text of a
// million `#` is not split into a million records first. Problems are listed up to MAX_LISTED_ERRORS:
// past that, one more error says the list was cut (docs/operations.md, "Hostile input").
const MAX_LISTED_ERRORS = 50;

/** Whether `text` holds more than `MAX_BATCH_RECORDS` `#`-separated records, counted without splitting. */
function tooManyRecords(text: string): boolean {
  let separators = 0;
  for (let i = text.indexOf('#'); i !== -1; i = text.indexOf('#', i + 1)) {
    if (++separators >= MAX_BATCH_RECORDS) return true;
  }
  return false;
}

function cutErrors(errors: ProtocolError[], field: string): ProtocolError[] {
  if (errors.length <= MAX_LISTED_ERRORS) return errors;
  return [
    ...errors.slice(0, MAX_LISTED_ERRORS),
    { code: errors[0].code, field, message: 'further problems not listed' },
  ];
}

/** Parses `detail_data` back into records (the inverse of `buildDetailData`). Never throws. */
export function parseDetailData(text: string): Result<RefundDetail[]> {
  if (typeof text !== 'string' || text === '') return fail('MALFORMED_DETAIL_DATA', 'empty', 'detail_data');
  if (tooManyRecords(text)) {
    return fail('TOO_MANY_RECORDS', `more than ${MAX_BATCH_RECORDS} records`, 'detail_data');
  }
  const errors: ProtocolError[] = [];
  const records: RefundDetail[] = [];
  const code = 'MALFORMED_DETAIL_DATA';
  text.split('#').forEach((recordText, index) => {
    const at = `detail_data[${index}]`;
    const split = splitRecord(errors, code, at, recordText);
    if (split === undefined) return;
    const [tradeText, ...royaltyTexts] = split.main.split('|');
    const trade = partsOf(errors, code, at, tradeText, [3]);
    const royalties: RoyaltyRefund[] = [];
    royaltyTexts.forEach((royaltyText, r) => {
      if (errors.length > MAX_LISTED_ERRORS) return;
      const field = `${at}.royalties[${r}]`;
      const parts = partsOf(errors, code, field, royaltyText, [6]);
      if (parts === undefined) return;
      const [outAccount, outUserId, inAccount, inUserId, amount, reason] = parts;
      royalties.push({
        outAccount,
        outUserId,
        inAccount,
        inUserId,
        amount: amountAt(errors, `${field}.amount`, amount),
        reason,
      });
    });
    let subTrade: SubTradeRefund | undefined;
    if (split.subTrade !== undefined) {
      const parts = partsOf(errors, code, `${at}.subTrade`, split.subTrade, [2]);
      if (parts !== undefined)
        subTrade = { amount: amountAt(errors, `${at}.subTrade.amount`, parts[0]), reason: parts[1] };
    }
    if (trade === undefined) return;
    const [tradeNo, amount, reason] = trade;
    if (tradeNo === '') errors.push({ code: 'MISSING_FIELD', field: `${at}.tradeNo`, message: 'required' });
    records.push({
      tradeNo,
      amount: amountAt(errors, `${at}.amount`, amount),
      reason,
      ...(royalties.length > 0 ? { royalties } : {}),
      ...(subTrade === undefined ? {} : { subTrade }),
    });
  });
  return errors.length > 0 ? failWith(cutErrors(errors, 'detail_data')) : ok(records);
}

// ---------------------------------------------------------------------------------------------------
// result_details (docs/alipay-protocol.md, "Batch refund results"):
//   result_details := recordResult ( "#" recordResult )*
//   recordResult   := tradeResult ( "$" feeResult )? ( "|" royaltyResult )* ( "$$" subTradeResult )?
//   tradeResult    := [batch_no "^"] trade_no "^" amount "^" code ( "^" isDback "^" dbackResult )?
//   feeResult      := account "^" userId "^" amount "^" code
//   royaltyResult  := outEmail "^" outUserId "^" inEmail "^" inUserId "^" amount "^" code
//   subTradeResult := amount "^" refundableAmount "^" code
// The batch_no prefix appears in the refund query service's copy of the grammar; 3 to 6 fields are read.

/** 充退 (refund back to the buyer's bank card) outcome: S success, F failed, P processing. */
export type DbackResult = 'S' | 'F' | 'P';

export interface FeeRefundResult {
  readonly account: string;
  readonly userId: string;
  readonly amount: number;
  readonly code: string;
}

export interface RoyaltyRefundResult {
  readonly outAccount: string;
  readonly outUserId: string;
  readonly inAccount: string;
  readonly inUserId: string;
  readonly amount: number;
  readonly code: string;
}

export interface SubTradeRefundResult {
  readonly amount: number;
  readonly refundableAmount: number;
  readonly code: string;
}

/** One trade's refund result; `code` is `SUCCESS` or an error code (see `refundResultOutcome`). */
export interface RefundResult {
  readonly batchNo?: string;
  readonly tradeNo: string;
  readonly amount: number;
  readonly code: string;
  readonly dback?: { readonly isDback: boolean; readonly result: DbackResult | null };
  readonly fee?: FeeRefundResult;
  readonly royalties?: readonly RoyaltyRefundResult[];
  readonly subTrade?: SubTradeRefundResult;
}

function parseDback(
  errors: ProtocolError[],
  at: string,
  isDbackText: string,
  resultText: string,
): RefundResult['dback'] {
  const isDback = isDbackText.toLowerCase();
  if (isDback !== 'true' && isDback !== 'false') {
    errors.push({
      code: 'MALFORMED_RESULT_DETAILS',
      field: `${at}.isDback`,
      message: `${quote(isDbackText)} is not true/false`,
    });
    return undefined;
  }
  if (resultText === 'S' || resultText === 'F' || resultText === 'P')
    return { isDback: isDback === 'true', result: resultText };
  if (resultText === 'null' || resultText === '') return { isDback: isDback === 'true', result: null };
  errors.push({
    code: 'MALFORMED_RESULT_DETAILS',
    field: `${at}.dbackResult`,
    message: `${quote(resultText)} is not S, F, P or null`,
  });
  return undefined;
}

function requireCode(errors: ProtocolError[], field: string, code: string): string {
  if (code === '') errors.push({ code: 'MISSING_FIELD', field, message: 'a result code is required' });
  return code;
}

function parseTradeResult(errors: ProtocolError[], at: string, text: string) {
  const code = 'MALFORMED_RESULT_DETAILS';
  const parts = partsOf(errors, code, at, text, [3, 4, 5, 6]);
  if (parts === undefined) return undefined;
  const withBatch = parts.length === 4 || parts.length === 6;
  const [batchNo, tradeNo, amount, resultCode, isDback, dbackResult] = withBatch ? parts : ['', ...parts];
  if (tradeNo === '') errors.push({ code: 'MISSING_FIELD', field: `${at}.tradeNo`, message: 'required' });
  const dback = isDback === undefined ? undefined : parseDback(errors, at, isDback, dbackResult);
  return {
    ...(withBatch ? { batchNo } : {}),
    tradeNo,
    amount: amountAt(errors, `${at}.amount`, amount, true),
    code: requireCode(errors, `${at}.code`, resultCode),
    ...(dback === undefined ? {} : { dback }),
  };
}

function parseResultRecord(
  errors: ProtocolError[],
  at: string,
  recordText: string,
): RefundResult | undefined {
  const code = 'MALFORMED_RESULT_DETAILS';
  const split = splitRecord(errors, code, at, recordText);
  if (split === undefined) return undefined;
  const [tradeAndFee, ...royaltyTexts] = split.main.split('|');
  const [tradeText, feeText, ...extra] = tradeAndFee.split('$');
  if (extra.length > 0) {
    errors.push({ code, field: at, message: 'more than one $ fee part' });
    return undefined;
  }
  const trade = parseTradeResult(errors, at, tradeText);
  let fee: FeeRefundResult | undefined;
  if (feeText !== undefined) {
    const parts = partsOf(errors, code, `${at}.fee`, feeText, [4]);
    if (parts !== undefined) {
      const [account, userId, amount, feeCode] = parts;
      fee = {
        account,
        userId,
        amount: amountAt(errors, `${at}.fee.amount`, amount, true),
        code: requireCode(errors, `${at}.fee.code`, feeCode),
      };
    }
  }
  const royalties: RoyaltyRefundResult[] = [];
  royaltyTexts.forEach((royaltyText, r) => {
    if (errors.length > MAX_LISTED_ERRORS) return;
    const field = `${at}.royalties[${r}]`;
    const parts = partsOf(errors, code, field, royaltyText, [6]);
    if (parts === undefined) return;
    const [outAccount, outUserId, inAccount, inUserId, amount, royaltyCode] = parts;
    royalties.push({
      outAccount,
      outUserId,
      inAccount,
      inUserId,
      amount: amountAt(errors, `${field}.amount`, amount, true),
      code: requireCode(errors, `${field}.code`, royaltyCode),
    });
  });
  let subTrade: SubTradeRefundResult | undefined;
  if (split.subTrade !== undefined) {
    const parts = partsOf(errors, code, `${at}.subTrade`, split.subTrade, [3]);
    if (parts !== undefined) {
      subTrade = {
        amount: amountAt(errors, `${at}.subTrade.amount`, parts[0], true),
        refundableAmount: amountAt(errors, `${at}.subTrade.refundableAmount`, parts[1], true),
        code: requireCode(errors, `${at}.subTrade.code`, parts[2]),
      };
    }
  }
  if (trade === undefined) return undefined;
  return {
    ...trade,
    ...(fee === undefined ? {} : { fee }),
    ...(royalties.length > 0 ? { royalties } : {}),
    ...(subTrade === undefined ? {} : { subTrade }),
  };
}

/**
 * Parses `result_details` of a `batch_refund_notify` into typed records: `#` records; 3 to 6 `^` fields
 * (optional batch_no prefix, optional 充退 flag and result); `$` fee, `|` royalty and `$$` sub-trade parts.
 * Amounts become fen (`80` and `80.00` alike). Never throws; every malformed part is reported.
 */
export function parseResultDetails(text: string): Result<RefundResult[]> {
  if (typeof text !== 'string' || text === '')
    return fail('MALFORMED_RESULT_DETAILS', 'empty', 'result_details');
  if (tooManyRecords(text)) {
    return fail('TOO_MANY_RECORDS', `more than ${MAX_BATCH_RECORDS} records`, 'result_details');
  }
  const errors: ProtocolError[] = [];
  const records: RefundResult[] = [];
  text.split('#').forEach((recordText, index) => {
    const record = parseResultRecord(errors, `result_details[${index}]`, recordText);
    if (record !== undefined) records.push(record);
  });
  return errors.length > 0 ? failWith(cutErrors(errors, 'result_details')) : ok(records);
}

/**
 * Writes records in the `result_details` grammar (what Alipay sends; used by the sandbox and to test the
 * parser). Fails when a text field contains `^ | $ #` or an amount is not integer fen.
 */
export function formatResultDetails(records: readonly RefundResult[]): Result<string> {
  const errors: ProtocolError[] = [];
  const text = (field: string, value: string, required = false): string => {
    if (typeof value !== 'string' || (required && value === '')) {
      errors.push({ code: 'MISSING_FIELD', field, message: 'required' });
      return '';
    }
    if (STRUCTURAL.test(value)) {
      errors.push({ code: 'FORBIDDEN_CHARACTER', field, message: `${quote(value)} contains one of ^ | $ #` });
    }
    return value;
  };
  const amount = (field: string, fen: number): string => {
    if (!Number.isSafeInteger(fen) || fen < 0) {
      errors.push({ code: 'AMOUNT_OUT_OF_RANGE', field, message: `${String(fen)} is not integer fen` });
      return '0';
    }
    return formatYuan(fen);
  };
  const formatted = records.map((record, index) => {
    const at = `result_details[${index}]`;
    const fields = [
      text(`${at}.tradeNo`, record.tradeNo, true),
      amount(`${at}.amount`, record.amount),
      text(`${at}.code`, record.code, true),
    ];
    if (record.batchNo !== undefined) fields.unshift(text(`${at}.batchNo`, record.batchNo));
    if (record.dback !== undefined) fields.push(String(record.dback.isDback), record.dback.result ?? 'null');
    let out = fields.join('^');
    if (record.fee !== undefined) {
      const f = record.fee;
      out += `$${[text(`${at}.fee.account`, f.account), text(`${at}.fee.userId`, f.userId), amount(`${at}.fee.amount`, f.amount), text(`${at}.fee.code`, f.code, true)].join('^')}`;
    }
    (record.royalties ?? []).forEach((r, i) => {
      const rf = `${at}.royalties[${i}]`;
      out += `|${[
        text(`${rf}.outAccount`, r.outAccount),
        text(`${rf}.outUserId`, r.outUserId),
        text(`${rf}.inAccount`, r.inAccount),
        text(`${rf}.inUserId`, r.inUserId),
        amount(`${rf}.amount`, r.amount),
        text(`${rf}.code`, r.code, true),
      ].join('^')}`;
    });
    if (record.subTrade !== undefined) {
      const s = record.subTrade;
      out += `$$${[amount(`${at}.subTrade.amount`, s.amount), amount(`${at}.subTrade.refundableAmount`, s.refundableAmount), text(`${at}.subTrade.code`, s.code, true)].join('^')}`;
    }
    return out;
  });
  if (records.length === 0)
    errors.push({ code: 'EMPTY_BATCH', field: 'result_details', message: 'no records' });
  return errors.length > 0 ? failWith(errors) : ok(formatted.join('#'));
}

/**
 * What a per-record result code means for the ledger (docs/alipay-protocol.md, "Batch refund results"):
 * `SUCCESS` refunded; `TRADE_HAS_CLOSED` the trade was already fully refunded or closed, which several
 * implementations treat as an idempotent success (the caller decides); anything else, known or not, failed
 * for that record.
 */
export function refundResultOutcome(code: string): 'refunded' | 'already_closed' | 'failed' {
  if (code === 'SUCCESS') return 'refunded';
  if (code === 'TRADE_HAS_CLOSED') return 'already_closed';
  return 'failed';
}
