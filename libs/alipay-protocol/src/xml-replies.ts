import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { charsetFromLabel, decodeBytes, type Charset } from './charset';
import { fail, ok, quote, type Result } from './errors';

// docs/alipay-protocol.md, "nopwd answer" and "Error codes": server-to-server services (nopwd refund,
// send_goods_confirm_by_platform) answer
// `<alipay><is_success>T|F|P</is_success><error>CODE</error>...</alipay>`. `T` means accepted, not done; the
// declaration may say GBK whatever the merchant's charset, so bytes are decoded per the declaration.

/** A parsed XML value: text, an element of children, or repeated elements. */
export type XmlValue = string | { readonly [name: string]: XmlValue } | readonly XmlValue[];

interface ReplyBase {
  /** The other children of `<alipay>` (`request`, `response`, `sign`, ...), as parsed. */
  readonly fields: Readonly<Record<string, XmlValue>>;
  /** The charset the bytes were read in, and why. */
  readonly charset: Charset;
  readonly charsetSource: 'declaration' | 'default' | 'text';
}

/**
 * `accepted` (`T`): the request was taken (a refund is not done until batch_refund_notify);
 * `rejected` (`F`) with Alipay's error code; `pending` (`P`): accepted, result to come (seen in two
 * implementations, not in the docs: docs/alipay-protocol.md, "nopwd answer" and "Open questions", 5).
 */
export type GatewayReply =
  | (ReplyBase & { readonly status: 'accepted'; readonly isSuccess: 'T' })
  | (ReplyBase & { readonly status: 'rejected'; readonly isSuccess: 'F'; readonly error?: string })
  | (ReplyBase & { readonly status: 'pending'; readonly isSuccess: 'P' });

const DECLARATION = /^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']/i;

// A gateway reply is a few hundred bytes, five elements deep (docs/alipay-protocol.md, "XML replies").
// Anything much larger or deeper is refused before it is decoded or parsed, so that no reply costs more than
// a small one.
/** The largest reply read, in bytes (or characters, for text). */
export const MAX_REPLY_BYTES = 64 * 1024;
export const MAX_REPLY_DEPTH = 16;

const parser = new XMLParser({
  maxNestedTags: MAX_REPLY_DEPTH,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
});

/** Reads reply bytes as text per their XML declaration (UTF-8 without one); a message when unreadable. */
export function decodeReply(
  body: Uint8Array,
): { text: string; charset: Charset; source: 'declaration' | 'default' } | string {
  const head = Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, 200)).toString('latin1');
  const label = DECLARATION.exec(head)?.[1];
  if (label === undefined) {
    // XML without a declaration is UTF-8 (XML 1.0 §4.3.3); a UTF-8 BOM is not content.
    const bom = body.byteLength >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf;
    return { text: decodeBytes(bom ? body.subarray(3) : body, 'utf-8'), charset: 'utf-8', source: 'default' };
  }
  const charset = charsetFromLabel(label);
  if (charset === undefined) return `the XML declares an unsupported encoding ${quote(label)}`;
  return { text: decodeBytes(body, charset), charset, source: 'declaration' };
}

/**
 * An upper bound of the element nesting: opening tags minus closing ones, at their highest. Self-closing
 * tags, declarations and comments are not elements, which only makes the bound safe.
 */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = text.indexOf('<'); i !== -1; i = text.indexOf('<', i + 1)) {
    const next = text.charCodeAt(i + 1);
    if (next === 0x2f) depth--;
    else if (next !== 0x3f && next !== 0x21) deepest = Math.max(deepest, ++depth);
  }
  return deepest;
}

function isElement(value: unknown): value is Record<string, XmlValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses a gateway XML reply from its bytes (or text already decoded). Never throws: malformed XML,
 * a missing `<alipay>` or `<is_success>`, or an unknown `is_success` come back as coded errors.
 */
export function parseGatewayReply(body: Uint8Array | string): Result<GatewayReply> {
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
  // Alipay's replies have no DTD; refusing one rules out entity tricks whatever the parser's limits.
  if (/<!DOCTYPE/i.test(text)) return fail('MALFORMED_XML', 'a DOCTYPE is not accepted in a gateway reply');
  if (nestingDepth(text) > MAX_REPLY_DEPTH) {
    return fail('MALFORMED_XML', `elements nested more than ${MAX_REPLY_DEPTH} deep`);
  }
  let document: unknown;
  try {
    const valid = XMLValidator.validate(text);
    if (valid !== true) {
      return fail('MALFORMED_XML', `${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
    }
    document = parser.parse(text);
  } catch (error) {
    return fail('MALFORMED_XML', error instanceof Error ? error.message : 'unreadable XML');
  }
  const root = isElement(document) ? document.alipay : undefined;
  if (!isElement(root)) return fail('MALFORMED_XML', 'no <alipay> root element', 'alipay');
  const { is_success: isSuccess, error, ...fields } = root;
  const base = { fields, charset, charsetSource };
  switch (isSuccess) {
    case 'T':
      return ok({ ...base, status: 'accepted', isSuccess });
    case 'P':
      return ok({ ...base, status: 'pending', isSuccess });
    case 'F':
      return ok({
        ...base,
        status: 'rejected',
        isSuccess,
        ...(typeof error === 'string' && error !== '' ? { error } : {}),
      });
    case undefined:
      return fail('MISSING_FIELD', 'no <is_success> in the reply', 'is_success');
    default:
      return fail(
        'UNKNOWN_IS_SUCCESS',
        `${typeof isSuccess === 'string' ? quote(isSuccess) : 'a repeated or nested element'} is not T, F or P`,
        'is_success',
      );
  }
}
