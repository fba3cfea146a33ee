// Coded protocol errors: every parser and builder of this lib returns a Result instead of
// throwing, so that the notify edge can answer `fail`/`success` and record why, whatever Alipay sent.

/** Every code a protocol parser or builder can report. */
export type ProtocolErrorCode =
  /** A required parameter or field is absent or empty. */
  | 'MISSING_FIELD'
  /** The same parameter name appears more than once. */
  | 'DUPLICATE_FIELD'
  /** A yuan amount does not follow `digits[.d[d]]` (docs/alipay-protocol.md, "Amounts and times"). */
  | 'MALFORMED_AMOUNT'
  /**
   * A well-formed amount outside the allowed range (docs/alipay-protocol.md, "Amounts and times": [0.01,
   * 100000000.00]).
   */
  | 'AMOUNT_OUT_OF_RANGE'
  /** A time that is not a real `yyyy-MM-dd HH:mm:ss` Beijing time. */
  | 'MALFORMED_TIME'
  /** Any other field whose syntax is wrong (integer, flag, user id, ...). */
  | 'MALFORMED_FIELD'
  | 'UNKNOWN_TRADE_STATUS'
  | 'UNKNOWN_REFUND_STATUS'
  /** `notify_type` is not the one the parser handles. */
  | 'UNEXPECTED_NOTIFY_TYPE'
  /** A request value the caller supplied is not acceptable. */
  | 'INVALID_PARAMETER'
  /** A value contains a character the grammar reserves (`^ | $ #`, or `=`/`&` in `extra_common_param`). */
  | 'FORBIDDEN_CHARACTER'
  /** A text cannot be represented in the request charset (GBK). */
  | 'UNENCODABLE_CHARACTER'
  /** A value longer than the documented limit. */
  | 'TOO_LONG'
  | 'UNSUPPORTED_CHARSET'
  | 'UNSUPPORTED_SIGN_TYPE'
  /** No key, or a key that cannot be parsed (PEM/DER, MD5 key shape). */
  | 'INVALID_KEY'
  /** `batch_no` is not `yyyyMMdd` + 3 to 24 digits (docs/alipay-protocol.md, "batch_no"). */
  | 'INVALID_BATCH_NO'
  /** `batch_no` does not start with the refund date (Beijing) it is sent with. */
  | 'BATCH_DATE_MISMATCH'
  | 'EMPTY_BATCH'
  /**
   * More than 1000 records in one batch (`BATCH_NUM_EXCEED_LIMIT`, docs/alipay-protocol.md, "detail_data").
   */
  | 'TOO_MANY_RECORDS'
  /**
   * A trade appears twice in one batch (`DUBL_TRADE_NO_IN_SAME_BATCH`, docs/alipay-protocol.md,
   * "detail_data").
   */
  | 'DUPLICATE_TRADE_IN_BATCH'
  /**
   * Royalty or sub-trade parts in a password refund (`PWD_REFUND_NOT_ALLOW_ROYALTY`, docs/alipay-protocol.md,
   * "Batch refund requests").
   */
  | 'PART_NOT_ALLOWED'
  | 'MALFORMED_DETAIL_DATA'
  | 'MALFORMED_RESULT_DETAILS'
  | 'MALFORMED_XML'
  /** An XML reply whose `is_success` is not `T`, `F` or `P`. */
  | 'UNKNOWN_IS_SUCCESS';

/** A precise, coded reason why a value was rejected; `field` names the parameter or path inside it. */
export interface ProtocolError {
  readonly code: ProtocolErrorCode;
  readonly field?: string;
  readonly message: string;
}

/** The outcome of every parser and builder of this lib; a failure lists every problem found. */
export type Result<T> = { readonly ok: true; readonly value: T } | Failure;

export interface Failure {
  readonly ok: false;
  readonly errors: readonly ProtocolError[];
}

/** Builds a success. */
export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

/** Builds a failure with one error. */
export function fail(code: ProtocolErrorCode, message: string, field?: string): Failure {
  return { ok: false, errors: [field === undefined ? { code, message } : { code, field, message }] };
}

/** Builds a failure from collected errors (at least one). */
export function failWith(errors: readonly ProtocolError[]): Failure {
  return { ok: false, errors };
}

/** Re-labels the errors of a nested value under a parent field, e.g. `result_details[2].amount`. */
export function withField(errors: readonly ProtocolError[], field: string): ProtocolError[] {
  return errors.map((error) => ({
    ...error,
    field: error.field === undefined ? field : `${field}.${error.field}`,
  }));
}

// Messages quote the offending value so that an operator can see it, but never a whole megabyte of it.
export function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}
