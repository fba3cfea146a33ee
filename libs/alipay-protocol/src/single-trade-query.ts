import type { KeyObject } from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { encodeText, type Charset } from './charset';
import { boundText } from './explanation-bounds';
import { fail, failWith, ok, quote, type ProtocolError, type Result } from './errors';
import type { TextParam } from './form-encoding';
import { reader, type AlipayFlag } from './notifications';
import {
  isSignType,
  preSignFromText,
  signParams,
  verifyMd5,
  verifyRsa,
  type ExcludedParam,
  type KeyAttempt,
  type SignatureCheck,
  type SigningKey,
  type SignType,
} from './signing';
import { isRefundStatus, isTradeStatus, type RefundStatus, type TradeStatus } from './status';
import { decodeReply, MAX_REPLY_BYTES, MAX_REPLY_DEPTH, nestingDepth } from './xml-replies';

// docs/alipay-protocol.md, "Trade query": `single_trade_query` answers
// `<alipay><is_success>T</is_success><request>…</request><response><trade>…</trade></response><sign>…</sign>
// <sign_type>…</sign_type></alipay>`, the signature made over the children of `<trade>` as if they were the
// parameters of a notification (every child but empty ones, sorted by name, `name=value` joined by `&`), in
// the charset of the request; or `F` with `<error>`, unsigned. What is known and what is inferred about it:
// docs/alipay-protocol.md, "Trade query" and "Open questions", 9 and 10.

/** The most children a `<trade>` may have (Alipay's have about 30). */
export const MAX_TRADE_FIELDS = 64;
/** The longest element name read inside `<trade>`, in characters. */
export const MAX_TRADE_FIELD_NAME = 48;

/** The codes with which Alipay says it does not know the trade (domestic samples; Alipay's global page). */
export const TRADE_NOT_FOUND_CODES: readonly string[] = ['TRADE_IS_NOT_EXIST', 'TRADE_NOT_EXIST'];

export interface SingleTradeQueryOptions {
  /** The configured sign type; a reply signed otherwise is not verified. */
  readonly signType: SignType;
  /** MD5 keys, current first (rotation). */
  readonly md5Keys?: readonly string[];
  /** Alipay's MAPI public key(s) for RSA, current first. */
  readonly alipayPublicKeyPem?: string | KeyObject | readonly (string | KeyObject)[];
  /** The `_input_charset` the query was sent with: the reply is signed over its fields in this charset. */
  readonly charset: Charset;
}

export type QueryVerificationOutcome =
  | 'VERIFIED'
  | 'MISSING_SIGN'
  | 'MISSING_SIGN_TYPE'
  /** `DSA` or anything that is not `MD5`/`RSA`. */
  | 'UNSUPPORTED_SIGN_TYPE'
  | 'SIGN_TYPE_MISMATCH'
  | 'NO_USABLE_KEY'
  | 'MALFORMED_SIGNATURE'
  | 'SIGNATURE_MISMATCH'
  /** A field's text has no representation in the signing charset: it cannot be what Alipay signed. */
  | 'UNENCODABLE_TEXT';

/**
 * How the signature of a `T` answer fared, safe to store and show: it never holds a key nor an expected
 * signature, and it stays under a few KB whatever the reply holds.
 */
export interface QueryVerification {
  readonly outcome: QueryVerificationOutcome;
  readonly verified: boolean;
  readonly configuredSignType: SignType;
  readonly receivedSignType?: string;
  /** The charset the pre-sign string was encoded in (the request's `_input_charset`). */
  readonly charset: Charset;
  /** The pre-sign string of the `<trade>` fields (cut with a marker past 1 KB). */
  readonly preSign: string;
  /** What was hashed or verified, key redacted: `preSign` + `<MD5 key>` for MD5, `preSign` for RSA. */
  readonly signedString: string;
  readonly included: readonly string[];
  readonly excluded: readonly ExcludedParam[];
  readonly keys: readonly KeyAttempt[];
  readonly matchedKeyIndex?: number;
  readonly malformedSignature?: string;
  /** Facts worth knowing when a verification fails (the echoed charset differs, text did not decode...). */
  readonly notes: readonly string[];
  readonly summary: string;
}

/** The trade as `single_trade_query` reports it, read after its signature verified. Amounts in fen. */
export interface QueriedTrade {
  readonly tradeNo: string;
  readonly outTradeNo?: string;
  readonly tradeStatus: TradeStatus;
  readonly refundStatus?: RefundStatus;
  readonly subject?: string;
  readonly body?: string;
  readonly paymentType?: string;
  readonly sellerId?: string;
  readonly sellerEmail?: string;
  readonly buyerId?: string;
  readonly buyerEmail?: string;
  readonly totalFee?: number;
  readonly price?: number;
  readonly quantity?: number;
  /** Negative for a discount. */
  readonly discount?: number;
  readonly couponUsedFee?: number;
  /** Refunded so far (`refund_fee`). */
  readonly refundFee?: number;
  /** Paid back to the buyer so far (`to_buyer_fee`). */
  readonly toBuyerFee?: number;
  /** Paid to the seller so far (`to_seller_fee`). */
  readonly toSellerFee?: number;
  readonly refundId?: string;
  readonly refundFlowType?: string;
  /** Beijing times read as instants. */
  readonly gmtCreate?: Date;
  readonly gmtPayment?: Date;
  readonly gmtClose?: Date;
  readonly gmtRefund?: Date;
  readonly gmtSendGoods?: Date;
  readonly gmtLastModifiedTime?: Date;
  /** `T`/`F` here, where notifications say `Y`/`N`. */
  readonly isTotalFeeAdjust?: AlipayFlag;
  readonly useCoupon?: AlipayFlag;
  /** `1` locked, `0` not. */
  readonly flagTradeLocked?: AlipayFlag;
  /** Who acted last: `B` buyer, `S` seller (observed; not documented). */
  readonly operatorRole?: string;
  readonly additionalTradeStatus?: string;
  /** Every other field of `<trade>` (Alipay adds fields; nothing is dropped). */
  readonly otherFields: Readonly<Record<string, string>>;
}

interface ReplyBase {
  /** The charset the bytes were read in, and why (`text`: the caller passed decoded text). */
  readonly charset: Charset;
  readonly charsetSource: 'declaration' | 'default' | 'text';
  /** `<request>`'s echo of the query (unsigned), first value per name. */
  readonly request: Readonly<Record<string, string>>;
}

/**
 * - `found`: `T`, signature verified, trade read;
 * - `unverified`: `T` whose signature did not verify; its fields are evidence, never facts;
 * - `not_found`: `F` with `TRADE_IS_NOT_EXIST` (or `TRADE_NOT_EXIST`). Unsigned: it proves nothing, and it
 *   never closes an order on its own;
 * - `rejected`: `F` with another code (`ILLEGAL_SIGN`, `ILLEGAL_PARTNER`, ...), or none.
 */
export type SingleTradeQueryReply =
  | (ReplyBase & {
      readonly status: 'found';
      readonly trade: QueriedTrade;
      readonly fields: readonly TextParam[];
      readonly verification: QueryVerification;
    })
  | (ReplyBase & {
      readonly status: 'unverified';
      readonly fields: readonly TextParam[];
      readonly verification: QueryVerification;
    })
  | (ReplyBase & { readonly status: 'not_found'; readonly error: string })
  | (ReplyBase & { readonly status: 'rejected'; readonly error?: string });

// Entities are decoded here, once, not by the parser: fast-xml-parser leaves numeric references alone and
// decodes named ones first, so `&amp;#38;` would be decoded twice.
const parser = new XMLParser({
  maxNestedTags: MAX_REPLY_DEPTH,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
});

const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#x([0-9A-Fa-f]{1,6})|#([0-9]{1,7}));|&/g;
const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The text of XML character data: the five entities and character references, once; `undefined` if bad. */
function decodeXmlText(raw: string): string | undefined {
  if (!raw.includes('&')) return raw;
  let bad = false;
  const text = raw.replace(ENTITY, (match, name?: string, hex?: string, dec?: string) => {
    if (name !== undefined) return NAMED[name];
    const code = hex !== undefined ? parseInt(hex, 16) : dec !== undefined ? parseInt(dec, 10) : -1;
    const legal =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      (code >= 0x10000 && code <= 0x10ffff);
    if (!legal) bad = true;
    return legal ? String.fromCodePoint(code) : match;
  });
  return bad ? undefined : text;
}

function isElement(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const WHITESPACE = /^[ \t\r\n]*$/;

/** The children of an element, whitespace between them ignored; text inside a container is refused. */
function children(node: unknown, path: string): Map<string, unknown> | ProtocolError {
  if (node === '') return new Map();
  if (!isElement(node)) return { code: 'MALFORMED_XML', field: path, message: `<${path}> holds no elements` };
  const result = new Map<string, unknown>();
  for (const [name, value] of Object.entries(node)) {
    if (name === '#text') {
      if (typeof value !== 'string' || !WHITESPACE.test(value)) {
        return { code: 'MALFORMED_XML', field: path, message: `<${path}> mixes text and elements` };
      }
    } else if (!name.startsWith('@_')) result.set(name, value);
  }
  return result;
}

/** The text of a leaf element (no attributes, no children, not repeated), entities decoded. */
function leaf(value: unknown, path: string): string | ProtocolError {
  if (Array.isArray(value)) return { code: 'DUPLICATE_FIELD', field: path, message: 'sent more than once' };
  if (typeof value !== 'string') {
    return { code: 'MALFORMED_XML', field: path, message: `<${path}> is not a text element` };
  }
  const text = decodeXmlText(value);
  return text ?? { code: 'MALFORMED_XML', field: path, message: 'an unknown entity or illegal character' };
}

function isError(value: unknown): value is ProtocolError {
  return isElement(value) && typeof value.code === 'string' && typeof value.message === 'string';
}

function optionalLeaf(
  elements: Map<string, unknown>,
  name: string,
  errors: ProtocolError[],
): string | undefined {
  if (!elements.has(name)) return undefined;
  const text = leaf(elements.get(name), name);
  if (isError(text)) {
    errors.push(text);
    return undefined;
  }
  return text;
}

/** `<request><param name="…">…</param>…</request>`, first value per name; anything else is ignored. */
function requestEcho(node: unknown): Record<string, string> {
  const echo: Record<string, string> = {};
  const params = isElement(node) ? node.param : undefined;
  for (const param of Array.isArray(params) ? params : params === undefined ? [] : [params]) {
    if (!isElement(param)) continue;
    const name = typeof param['@_name'] === 'string' ? decodeXmlText(param['@_name']) : undefined;
    const value = typeof param['#text'] === 'string' ? decodeXmlText(param['#text']) : '';
    if (name !== undefined && value !== undefined && !Object.hasOwn(echo, name)) {
      Object.defineProperty(echo, name, { value, enumerable: true, writable: false });
    }
  }
  return echo;
}

function readDocument(
  body: Uint8Array | string,
): Result<{ root: unknown; charset: Charset; charsetSource: ReplyBase['charsetSource'] }> {
  const size = typeof body === 'string' ? body.length : body instanceof Uint8Array ? body.byteLength : 0;
  if (size > MAX_REPLY_BYTES) {
    return fail('MALFORMED_XML', `a reply of ${size} bytes, more than the ${MAX_REPLY_BYTES} read`);
  }
  let text: string;
  let charset: Charset = 'utf-8';
  let charsetSource: ReplyBase['charsetSource'] = 'text';
  if (typeof body === 'string') {
    text = body;
  } else if (body instanceof Uint8Array) {
    const decoded = decodeReply(body);
    if (typeof decoded === 'string') return fail('UNSUPPORTED_CHARSET', decoded);
    ({ text, charset } = decoded);
    charsetSource = decoded.source;
  } else {
    return fail('MALFORMED_XML', 'no reply body');
  }
  if (/<!DOCTYPE/i.test(text)) return fail('MALFORMED_XML', 'a DOCTYPE is not accepted in a gateway reply');
  // Alipay's replies carry plain character data; CDATA would bypass the one entity decoding.
  if (text.includes('<![CDATA[')) return fail('MALFORMED_XML', 'CDATA is not accepted in a gateway reply');
  if (nestingDepth(text) > MAX_REPLY_DEPTH) {
    return fail('MALFORMED_XML', `elements nested more than ${MAX_REPLY_DEPTH} deep`);
  }
  try {
    const valid = XMLValidator.validate(text);
    if (valid !== true) {
      return fail('MALFORMED_XML', `${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
    }
    const document: unknown = parser.parse(text);
    const root = isElement(document) ? document.alipay : undefined;
    if (!isElement(root)) return fail('MALFORMED_XML', 'no <alipay> root element', 'alipay');
    return ok({ root, charset, charsetSource });
  } catch (error) {
    return fail('MALFORMED_XML', error instanceof Error ? error.message : 'unreadable XML');
  }
}

/**
 * Reads a `single_trade_query` answer from its bytes (decoded per their declaration) or text, verifies the
 * signature of a `T` answer over its `<trade>` fields in `options.charset`, and reads the trade once it
 * verified. Never throws; bounded by `MAX_REPLY_BYTES`, `MAX_REPLY_DEPTH` and `MAX_TRADE_FIELDS` whatever
 * the input. A failure means the bytes are not a readable answer (or a verified trade has a malformed field).
 */
export function parseSingleTradeQueryReply(
  body: Uint8Array | string,
  options: SingleTradeQueryOptions,
): Result<SingleTradeQueryReply> {
  const document = readDocument(body);
  if (!document.ok) return document;
  const { root, charset, charsetSource } = document.value;
  const top = children(root, 'alipay');
  if (isError(top)) return failWith([top]);
  const errors: ProtocolError[] = [];
  const isSuccess = optionalLeaf(top, 'is_success', errors);
  const request = requestEcho(top.get('request'));
  const base = { charset, charsetSource, request };
  if (errors.length > 0) return failWith(errors.map((e) => ({ ...e, code: 'UNKNOWN_IS_SUCCESS' as const })));
  if (isSuccess === undefined) return fail('MISSING_FIELD', 'no <is_success> in the reply', 'is_success');
  if (isSuccess === 'F') {
    const error = optionalLeaf(top, 'error', errors);
    if (errors.length > 0) return failWith(errors);
    if (error !== undefined && TRADE_NOT_FOUND_CODES.includes(error)) {
      return ok({ ...base, status: 'not_found', error });
    }
    return ok({ ...base, status: 'rejected', ...(error === undefined || error === '' ? {} : { error }) });
  }
  if (isSuccess !== 'T') {
    return fail('UNKNOWN_IS_SUCCESS', `${quote(isSuccess)} is not T or F`, 'is_success');
  }

  const response = top.has('response') ? children(top.get('response'), 'response') : undefined;
  if (response === undefined) return fail('MISSING_FIELD', 'no <response> in a T answer', 'response');
  if (isError(response)) return failWith([response]);
  if (!response.has('trade')) return fail('MISSING_FIELD', 'no <trade> in the response', 'trade');
  const tradeNode = response.get('trade');
  if (Array.isArray(tradeNode)) return fail('DUPLICATE_FIELD', 'more than one <trade>', 'trade');
  const tradeElements = children(tradeNode, 'trade');
  if (isError(tradeElements)) return failWith([tradeElements]);
  if (tradeElements.size > MAX_TRADE_FIELDS) {
    return fail('MALFORMED_XML', `${tradeElements.size} fields in <trade>, at most ${MAX_TRADE_FIELDS}`);
  }
  const fields: TextParam[] = [];
  for (const [name, value] of tradeElements) {
    if (name.length > MAX_TRADE_FIELD_NAME) {
      errors.push({
        code: 'MALFORMED_XML',
        field: 'trade',
        message: `a field name of ${name.length} characters`,
      });
      continue;
    }
    const text = leaf(value, name);
    if (isError(text)) errors.push(text);
    else fields.push({ name, value: text });
  }
  const sign = optionalLeaf(top, 'sign', errors);
  const signType = optionalLeaf(top, 'sign_type', errors);
  if (errors.length > 0) return failWith(errors);

  const verification = verify(fields, sign, signType, request, options);
  if (!verification.verified) return ok({ ...base, status: 'unverified', fields, verification });
  const trade = readTrade(fields);
  if (!trade.ok) return trade;
  return ok({ ...base, status: 'found', trade: trade.value, fields, verification });
}

const PRE_SIGN_BYTES = 1024;
const SUMMARY_BYTES = 320;

function publicKeysOf(
  option: SingleTradeQueryOptions['alipayPublicKeyPem'],
): readonly (string | KeyObject)[] {
  if (option === undefined) return [];
  return Array.isArray(option) ? (option as readonly (string | KeyObject)[]) : [option as string | KeyObject];
}

function verify(
  fields: readonly TextParam[],
  sign: string | undefined,
  receivedSignType: string | undefined,
  request: Readonly<Record<string, string>>,
  options: SingleTradeQueryOptions,
): QueryVerification {
  const { charset, signType: configured } = options;
  const notes: string[] = [];
  const echoed = request._input_charset;
  if (echoed !== undefined && echoed.toLowerCase() !== charset) {
    notes.push(`the request echo says _input_charset ${quote(echoed)}, verified in ${charset}`);
  }
  if (fields.some((f) => f.value.includes('\uFFFD'))) {
    notes.push('a field holds U+FFFD: its bytes were not valid in the declared encoding');
  }
  const preSign = preSignFromText(fields, charset);
  const preSignText = preSign.ok
    ? boundText(
        preSign.value.included
          .map((name) => `${name}=${fields.find((f) => f.name === name)?.value}`)
          .join('&'),
        PRE_SIGN_BYTES,
      )
    : '';
  let outcome: QueryVerificationOutcome;
  let check: SignatureCheck | undefined;
  if (sign === undefined || sign === '') outcome = 'MISSING_SIGN';
  else if (receivedSignType === undefined || receivedSignType === '') outcome = 'MISSING_SIGN_TYPE';
  else if (!isSignType(receivedSignType)) outcome = 'UNSUPPORTED_SIGN_TYPE';
  else if (receivedSignType !== configured) outcome = 'SIGN_TYPE_MISMATCH';
  else if (!preSign.ok) outcome = 'UNENCODABLE_TEXT';
  else {
    check =
      configured === 'MD5'
        ? verifyMd5(preSign.value.bytes, sign, options.md5Keys ?? [])
        : verifyRsa(preSign.value.bytes, sign, publicKeysOf(options.alipayPublicKeyPem));
    if (check.ok) outcome = 'VERIFIED';
    else if (!check.attempts.some((a) => a.outcome !== 'invalid-key')) outcome = 'NO_USABLE_KEY';
    else if (check.malformedSignature !== undefined) outcome = 'MALFORMED_SIGNATURE';
    else outcome = 'SIGNATURE_MISMATCH';
  }
  const included = preSign.ok ? preSign.value.included : [];
  const summary = boundText(
    outcome === 'VERIFIED'
      ? `${configured} signature verified with key #${check?.matchedKeyIndex ?? 0} over ${included.length} trade fields in ${charset}`
      : `${outcome}: ${describeOutcome(outcome, configured, receivedSignType, check)}`,
    SUMMARY_BYTES,
  );
  const verification: { -readonly [K in keyof QueryVerification]: QueryVerification[K] } = {
    outcome,
    verified: outcome === 'VERIFIED',
    configuredSignType: configured,
    charset,
    preSign: preSignText,
    signedString: configured === 'MD5' ? `${preSignText}<MD5 key>` : preSignText,
    included,
    excluded: preSign.ok ? preSign.value.excluded : [],
    keys: check?.attempts ?? [],
    notes,
    summary,
  };
  if (receivedSignType !== undefined) verification.receivedSignType = boundText(receivedSignType, 64);
  if (check?.matchedKeyIndex !== undefined) verification.matchedKeyIndex = check.matchedKeyIndex;
  if (check?.malformedSignature !== undefined) verification.malformedSignature = check.malformedSignature;
  return verification;
}

function describeOutcome(
  outcome: QueryVerificationOutcome,
  configured: SignType,
  received: string | undefined,
  check: SignatureCheck | undefined,
): string {
  switch (outcome) {
    case 'MISSING_SIGN':
      return 'no <sign> in a T answer';
    case 'MISSING_SIGN_TYPE':
      return 'no <sign_type> in a T answer';
    case 'UNSUPPORTED_SIGN_TYPE':
      return `sign_type ${quote(received ?? '')} is not MD5 or RSA`;
    case 'SIGN_TYPE_MISMATCH':
      return `sign_type ${received ?? ''} but ${configured} is configured`;
    case 'UNENCODABLE_TEXT':
      return 'a field cannot be written in the request charset';
    case 'NO_USABLE_KEY':
      return `no usable ${configured} key configured`;
    case 'MALFORMED_SIGNATURE':
      return check?.malformedSignature ?? 'malformed sign';
    case 'SIGNATURE_MISMATCH':
      return `matches none of ${check?.attempts.length ?? 0} keys`;
    case 'VERIFIED':
      return 'verified';
  }
}

function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The typed trade of a verified answer; every malformed field is reported with its name. */
function readTrade(fields: readonly TextParam[]): Result<QueriedTrade> {
  const r = reader(fields);
  const tradeNo = r.required('trade_no');
  const statusText = r.required('trade_status');
  const tradeStatus = isTradeStatus(statusText) ? statusText : undefined;
  if (statusText !== '' && tradeStatus === undefined) {
    r.errors.push({
      code: 'UNKNOWN_TRADE_STATUS',
      field: 'trade_status',
      message: `${quote(statusText)} is unknown`,
    });
  }
  const refundText = r.optional('refund_status');
  if (refundText !== undefined && !isRefundStatus(refundText)) {
    r.errors.push({
      code: 'UNKNOWN_REFUND_STATUS',
      field: 'refund_status',
      message: `${quote(refundText)} is unknown`,
    });
  }
  const lockedText = r.optional('flag_trade_locked');
  const quantity = r.integer('quantity');
  if (quantity === 0)
    r.errors.push({ code: 'MALFORMED_FIELD', field: 'quantity', message: 'a quantity is at least 1' });
  const zero = { allowZero: true };
  const value = defined<QueriedTrade>({
    tradeNo,
    outTradeNo: r.optional('out_trade_no'),
    tradeStatus: tradeStatus ?? 'WAIT_BUYER_PAY',
    refundStatus: refundText !== undefined && isRefundStatus(refundText) ? refundText : undefined,
    subject: r.optional('subject'),
    body: r.optional('body'),
    paymentType: r.optional('payment_type'),
    sellerId: r.optional('seller_id'),
    sellerEmail: r.optional('seller_email'),
    buyerId: r.optional('buyer_id'),
    buyerEmail: r.optional('buyer_email'),
    totalFee: r.amount('total_fee'),
    price: r.amount('price'),
    quantity: quantity === 0 ? undefined : quantity,
    discount: r.amount('discount', { allowNegative: true, allowZero: true }),
    couponUsedFee: r.amount('coupon_used_fee', zero),
    refundFee: r.amount('refund_fee', zero),
    toBuyerFee: r.amount('to_buyer_fee', zero),
    toSellerFee: r.amount('to_seller_fee', zero),
    refundId: r.optional('refund_id'),
    refundFlowType: r.optional('refund_flow_type'),
    gmtCreate: r.time('gmt_create'),
    gmtPayment: r.time('gmt_payment'),
    gmtClose: r.time('gmt_close'),
    gmtRefund: r.time('gmt_refund'),
    gmtSendGoods: r.time('gmt_send_goods'),
    gmtLastModifiedTime: r.time('gmt_last_modified_time'),
    isTotalFeeAdjust: r.flag('is_total_fee_adjust'),
    useCoupon: r.flag('use_coupon'),
    flagTradeLocked:
      lockedText === undefined
        ? undefined
        : lockedText === '1'
          ? true
          : lockedText === '0'
            ? false
            : 'unknown',
    operatorRole: r.optional('operator_role'),
    additionalTradeStatus: r.optional('additional_trade_status'),
    otherFields: {},
  });
  return r.errors.length > 0 ? failWith(r.errors) : ok({ ...value, otherFields: r.others() });
}

// ---------------------------------------------------------------------------------------------------------
// The other side (the sandbox): writing an answer as Alipay does.

const XML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // A carriage return would be normalised away by an XML reader: it is written as a reference.
  '\r': '&#13;',
};
// Characters XML 1.0 cannot carry at all.
const XML_ILLEGAL =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r]/g, (c) => XML_ESCAPES[c]);
}

function declaration(charset: Charset): string {
  return `<?xml version="1.0" encoding="${charset === 'gbk' ? 'GBK' : 'utf-8'}"?>`;
}

function checkXmlText(params: readonly TextParam[], where: string): ProtocolError[] {
  return params
    .filter(
      ({ name, value }) =>
        XML_ILLEGAL.test(name) || XML_ILLEGAL.test(value) || !/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name),
    )
    .map(({ name }) => ({
      code: 'INVALID_PARAMETER' as const,
      field: `${where}.${name}`,
      message: 'not writable in XML',
    }));
}

function encodeDocument(text: string, charset: Charset): Result<Buffer> {
  return encodeText(text, charset, 'reply');
}

export interface TradeQueryAnswer {
  /** The query's parameters as received, echoed in `<request>` (`sign` and `sign_type` left out). */
  readonly request: readonly TextParam[];
  /** The trade's fields; empty ones are left out, the others written sorted by name, as Alipay does. */
  readonly trade: readonly TextParam[];
  /** The query's `_input_charset`: the document's encoding and the signature's. */
  readonly charset: Charset;
  readonly signingKey: SigningKey;
}

/**
 * A signed `T` answer (docs/alipay-protocol.md, "Trade query"): the document in `charset`, declared so, the
 * signature over the `<trade>` fields as `signParams` makes it.
 */
export function formatSingleTradeQueryReply(answer: TradeQueryAnswer): Result<Buffer> {
  const request = answer.request.filter((p) => p.name !== 'sign' && p.name !== 'sign_type');
  const problems = [...checkXmlText(request, 'request'), ...checkXmlText(answer.trade, 'trade')];
  if (problems.length > 0) return failWith(problems);
  const signed = signParams(answer.trade, answer.charset, answer.signingKey);
  if (!signed.ok) return signed;
  const tradeXml = signed.value.params
    .filter((p) => p.name !== 'sign' && p.name !== 'sign_type')
    .map(({ name, value }) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
  const requestXml = request
    .map(({ name, value }) => `<param name="${escapeXml(name)}">${escapeXml(value)}</param>`)
    .join('');
  return encodeDocument(
    `${declaration(answer.charset)}<alipay><is_success>T</is_success><request>${requestXml}</request>` +
      `<response><trade>${tradeXml}</trade></response><sign>${escapeXml(signed.value.sign)}</sign>` +
      `<sign_type>${answer.signingKey.signType}</sign_type></alipay>`,
    answer.charset,
  );
}

/** An `F` answer with Alipay's code (`TRADE_IS_NOT_EXIST` for an unknown trade), unsigned, in `charset`. */
export function formatGatewayErrorReply(code: string, charset: Charset): Buffer {
  const text = `${declaration(charset)}<alipay><is_success>F</is_success><error>${escapeXml(code)}</error></alipay>`;
  // An error code is ASCII; should one not be, UTF-8 carries anything.
  const encoded = encodeDocument(text, charset);
  return encoded.ok ? encoded.value : Buffer.from(text.replace('encoding="GBK"', 'encoding="utf-8"'), 'utf8');
}
