import { isAscii } from 'node:buffer';
import { charsetFromLabel, decodeBytes, encodeText, type Charset } from './charset';
import { ok, type ProtocolError, type Result } from './errors';

// docs/alipay-protocol.md, "Signed bytes", "Decoding pitfalls" and "Raw bodies": notifications come with a
// malformed Content-Type that stock body parsers reject, in the merchant's charset, with `+` for spaces. So
// the raw bytes are parsed here, whatever the Content-Type, and values are percent-decoded to BYTES: the
// signature is checked over those bytes, and text is decoded only afterwards.

/** One `name=value` pair of a form body or query, in received order. */
export interface FormPair {
  /** The name as text: its bytes read one to one (Latin-1), exact for the ASCII names Alipay uses. */
  readonly name: string;
  readonly nameBytes: Buffer;
  /** The value after `+` → space and exactly one percent-decoding, as bytes in the sender's charset. */
  readonly valueBytes: Buffer;
}

/** Something odd in the raw input, handled deterministically and reported rather than thrown. */
export interface FormIssue {
  /**
   * `MALFORMED_PERCENT_ESCAPE`: a `%` not followed by two hex digits, kept as a literal `%` byte (as PHP's
   * urldecode and the official demos do). `EMPTY_NAME`: a `=value` segment, dropped (nobody can sign it).
   */
  readonly kind: 'MALFORMED_PERCENT_ESCAPE' | 'EMPTY_NAME';
  /** Byte offset in the raw input. */
  readonly offset: number;
}

export interface ParsedForm {
  readonly pairs: readonly FormPair[];
  readonly issues: readonly FormIssue[];
}

// Parsing works on the input read as Latin-1, one character per byte: splitting, slicing and decoding are
// then V8 string operations, several times faster than byte loops and Buffer views, and the decoded
// "binary strings" hash to exactly the bytes they stand for.

/** A parsed pair; name and value are binary strings (one character per byte), bytes made on demand. */
export class RawFormPair implements FormPair {
  /** The name's bytes, one Latin-1 character per byte: the name itself. */
  readonly binaryName: string;

  constructor(
    readonly name: string,
    /** The decoded value's bytes, one Latin-1 character per byte. */
    readonly binaryValue: string,
  ) {
    this.binaryName = name;
  }

  get nameBytes(): Buffer {
    return Buffer.from(this.name, 'latin1');
  }

  get valueBytes(): Buffer {
    return Buffer.from(this.binaryValue, 'latin1');
  }
}

export interface RawParsedForm extends ParsedForm {
  readonly pairs: readonly RawFormPair[];
  /** No byte above 0x7F anywhere, decoded or not: every name and value is the same text in any charset. */
  readonly ascii: boolean;
  /**
   * Non-empty `&`-separated segments in the whole input, `=value` ones included: counted to the end even
   * when parsing stopped at `maxPairs`, so that a refusal can say what was received.
   */
  readonly segments: number;
  /** Parsing stopped at `maxPairs`: `pairs` and `issues` describe only the segments before the cap. */
  readonly stopped: boolean;
  /** Issues found but not listed, past the first `MAX_LISTED_FORM_ISSUES`. */
  readonly unlistedIssues: number;
}

export interface ParseFormOptions {
  /**
   * Stop after this many segments (see `segments`), so that a hostile body of many pairs is refused
   * without building an object per pair. Default: no limit.
   */
  readonly maxPairs?: number;
}

/** Issues listed by `parseForm`; more are only counted, since a body of lone `%` has one per byte. */
export const MAX_LISTED_FORM_ISSUES = 64;

const NON_ASCII = /[\u0080-\uffff]/;

const PERCENT = 0x25;
const AMPERSAND = 0x26;
const PLUS = 0x2b;
const SPACE = 0x20;

/** The value of a hex digit's code, or -1 (also for the NaN of a position past the end). */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

// The scans below are `charCodeAt` loops rather than regexes, `replace` or `split`: their cost per byte is
// the same whatever the input holds, where a regex or `replaceAll` builds one match per `+` or `%` and
// takes hundreds of milliseconds over a megabyte of them (docs/operations.md, "Hostile input").

/** No byte above 0x7F, raw (`rawAscii`) or escaped. */
function isAsciiForm(text: string, rawAscii: boolean): boolean {
  if (!rawAscii) return false;
  for (let i = 0; i < text.length; i++) {
    // `%8X`…`%FX` decode to a byte above 0x7F; `0`–`7` are the only hex digits below `8` (0x38).
    if (text.charCodeAt(i) === PERCENT && text.charCodeAt(i + 1) >= 0x38) {
      if (hexValue(text.charCodeAt(i + 1)) >= 0 && hexValue(text.charCodeAt(i + 2)) >= 0) return false;
    }
  }
  return true;
}

/** The input as a binary string: one character per byte (a string input stands for its UTF-8 bytes). */
function binaryInput(raw: Uint8Array | string): { text: string; ascii: boolean } {
  if (typeof raw === 'string') {
    return NON_ASCII.test(raw)
      ? { text: Buffer.from(raw, 'utf8').toString('latin1'), ascii: false }
      : { text: raw, ascii: true };
  }
  const buffer = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  return { text: buffer.toString('latin1'), ascii: isAscii(buffer) };
}

/** Issues in order, listed up to `MAX_LISTED_FORM_ISSUES` and counted beyond. */
class IssueList {
  readonly listed: FormIssue[] = [];
  unlisted = 0;

  add(kind: FormIssue['kind'], offset: number): void {
    if (this.listed.length < MAX_LISTED_FORM_ISSUES) this.listed.push({ kind, offset });
    else this.unlisted++;
  }
}

/**
 * `+` → space and each `%XX` → the byte XX, in one pass, so that a `%2B` decodes to a plus that stays one.
 * A `%` not followed by two hex digits is kept literal (as PHP's urldecode and the official demos do) and
 * reported; `%uXXXX`, which form encoding does not have, is such a `%`.
 */
function decodeComponent(component: string, offset: number, issues: IssueList): string {
  if (!component.includes('%') && !component.includes('+')) return component;
  const out = Buffer.allocUnsafe(component.length);
  let length = 0;
  for (let i = 0; i < component.length; i++) {
    const code = component.charCodeAt(i);
    if (code === PERCENT) {
      const high = hexValue(component.charCodeAt(i + 1));
      const low = high === -1 ? -1 : hexValue(component.charCodeAt(i + 2));
      if (low !== -1) {
        out[length++] = (high << 4) | low;
        i += 2;
        continue;
      }
      issues.add('MALFORMED_PERCENT_ESCAPE', offset + i);
    }
    out[length++] = code === PLUS ? SPACE : code;
  }
  return out.toString('latin1', 0, length);
}

/**
 * Parses a raw `application/x-www-form-urlencoded` body or query string (without the `?`) into pairs:
 * split on `&` and the first `=` at the byte level, `+` → space, `%XX` → one byte, once. Empty segments
 * are skipped; a segment without `=` is a name with an empty value. Never throws; linear in the input. A
 * string input is taken as its UTF-8 bytes (what a conforming sender's percent-encoded ASCII is anyway);
 * pass bytes when you have them.
 */
export function parseForm(raw: Uint8Array | string, options: ParseFormOptions = {}): RawParsedForm {
  const input = binaryInput(raw);
  const text = input.text;
  const maxPairs = options.maxPairs ?? Number.POSITIVE_INFINITY;
  const pairs: RawFormPair[] = [];
  const issues = new IssueList();
  let segments = 0;
  let stopped = false;
  let start = 0;
  // No `split('&')`: a body of a million `&` would otherwise be a million strings.
  while (start < text.length) {
    if (text.charCodeAt(start) === AMPERSAND) {
      start++;
      continue;
    }
    if (segments === maxPairs) {
      stopped = true;
      break;
    }
    const found = text.indexOf('&', start);
    const end = found === -1 ? text.length : found;
    segments++;
    addSegment(text.slice(start, end), start, pairs, issues);
    start = end + 1;
  }
  if (stopped) segments += countSegments(text, start);
  return {
    pairs,
    issues: issues.listed,
    ascii: isAsciiForm(text, input.ascii),
    segments,
    stopped,
    unlistedIssues: issues.unlisted,
  };
}

function addSegment(segment: string, offset: number, pairs: RawFormPair[], issues: IssueList): void {
  const equals = segment.indexOf('=');
  if (equals === 0) {
    issues.add('EMPTY_NAME', offset);
  } else if (equals === -1) {
    pairs.push(new RawFormPair(decodeComponent(segment, offset, issues), ''));
  } else {
    const name = decodeComponent(segment.slice(0, equals), offset, issues);
    const value = decodeComponent(segment.slice(equals + 1), offset + equals + 1, issues);
    pairs.push(new RawFormPair(name, value));
  }
}

/** Non-empty `&`-separated segments of `text` from `from` on (where one starts). */
function countSegments(text: string, from: number): number {
  let count = 0;
  let inSegment = false;
  for (let i = from; i < text.length; i++) {
    const separator = text.charCodeAt(i) === AMPERSAND;
    if (!separator && !inSegment) count++;
    inSegment = !separator;
  }
  return count;
}

/** Where the charset used to read a notification came from, in order of precedence. */
export type CharsetSource = '_input_charset' | 'charset' | 'content-type' | 'default';

export interface CharsetChoice {
  readonly charset: Charset;
  readonly source: CharsetSource;
  /** Labels that were present but not used (unsupported, or overridden by a higher source). */
  readonly notes: readonly string[];
}

/**
 * The `charset` parameter of a Content-Type, found even in Alipay's malformed header
 * (docs/alipay-protocol.md, "Raw bodies").
 */
export function contentTypeCharsetLabel(contentType: string | undefined): string | undefined {
  if (typeof contentType !== 'string') return undefined;
  for (const segment of contentType.split(';')) {
    const equals = segment.indexOf('=');
    if (equals !== -1 && segment.slice(0, equals).trim().toLowerCase() === 'charset') {
      return segment.slice(equals + 1).trim();
    }
  }
  return undefined;
}

/**
 * Chooses the charset that the values are read in (docs/alipay-protocol.md, "Signed bytes" and "Raw bodies").
 * Precedence:
 * 1. an `_input_charset` parameter in the body: part of what the sender signed, so it cannot lie;
 * 2. a `charset` parameter in the body (same reason; some services use that name);
 * 3. the `charset` of the Content-Type header: Alipay's notifier sets it to the charset of the body, but
 *    the header is not signed;
 * 4. the configured default: the merchant's `_input_charset`, which legacy notifications follow and which
 *    is all there is when a proxy strips the header.
 * Unsupported labels are skipped and noted. Only the reading of text depends on this choice: signatures
 * are verified over the received bytes.
 */
export function detectCharset(
  pairs: readonly FormPair[],
  contentType: string | undefined,
  defaultCharset: Charset,
): CharsetChoice {
  const candidates: { source: CharsetSource; label: string }[] = [];
  for (const name of ['_input_charset', 'charset'] as const) {
    const pair = pairs.find((p) => p.name === name && p.valueBytes.length > 0);
    if (pair !== undefined) candidates.push({ source: name, label: pair.valueBytes.toString('latin1') });
  }
  const headerLabel = contentTypeCharsetLabel(contentType);
  if (headerLabel !== undefined) candidates.push({ source: 'content-type', label: headerLabel });

  const notes: string[] = [];
  let chosen: { charset: Charset; source: CharsetSource } | undefined;
  for (const { source, label } of candidates) {
    const charset = charsetFromLabel(label);
    if (charset === undefined) {
      notes.push(`${source} names an unsupported charset ${JSON.stringify(label.slice(0, 40))}`);
    } else if (chosen === undefined) {
      chosen = { charset, source };
    } else if (charset !== chosen.charset) {
      notes.push(`${source} says ${charset}, overridden by ${chosen.source} (${chosen.charset})`);
    }
  }
  return chosen === undefined
    ? { charset: defaultCharset, source: 'default', notes }
    : { charset: chosen.charset, source: chosen.source, notes };
}

/** A text parameter, as decoded after verification or as given to a request builder. */
export interface TextParam {
  readonly name: string;
  readonly value: string;
}

/** Decodes form pairs into text in the charset (names too, in case a sender used non-ASCII names). */
export function decodePairs(pairs: readonly FormPair[], charset: Charset): TextParam[] {
  return pairs.map((pair) => ({
    name: decodeBytes(pair.nameBytes, charset),
    value: decodeBytes(pair.valueBytes, charset),
  }));
}

const UNRESERVED = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~') {
  UNRESERVED[c.charCodeAt(0)] = 1;
}
const HEX = '0123456789ABCDEF';

/** Percent-encodes bytes: unreserved ASCII stays, every other byte (space included) becomes `%XX`. */
export function percentEncodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    out += UNRESERVED[byte] === 1 ? String.fromCharCode(byte) : `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return out;
}

/**
 * Encodes text parameters as `application/x-www-form-urlencoded` in the charset's bytes
 * (docs/alipay-protocol.md, "Signed bytes": GBK merchants send GBK percent-escapes). Fails with
 * `UNENCODABLE_CHARACTER` naming the parameter.
 */
export function encodeForm(params: readonly TextParam[], charset: Charset): Result<string> {
  const parts: string[] = [];
  const errors: ProtocolError[] = [];
  for (const { name, value } of params) {
    const nameBytes = encodeText(name, charset, name);
    const valueBytes = encodeText(value, charset, name);
    if (!nameBytes.ok) errors.push(...nameBytes.errors);
    else if (!valueBytes.ok) errors.push(...valueBytes.errors);
    else parts.push(`${percentEncodeBytes(nameBytes.value)}=${percentEncodeBytes(valueBytes.value)}`);
  }
  return errors.length > 0 ? { ok: false, errors } : ok(parts.join('&'));
}
