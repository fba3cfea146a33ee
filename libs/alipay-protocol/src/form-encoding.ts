import { charsetFromLabel, decodeBytes, encodeText, type Charset } from './charset';
import { ok, type ProtocolError, type Result } from './errors';

// Reference §1.4/§1.5, §2.4: notifications come with a malformed Content-Type that stock body parsers
// reject, in the merchant's charset, with `+` for spaces. So the raw bytes are parsed here, whatever the
// Content-Type, and values are percent-decoded to BYTES: the signature is checked over those bytes, and
// text is decoded only afterwards.

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

const AMPERSAND = 0x26;
const EQUALS = 0x3d;
const PLUS = 0x2b;
const PERCENT = 0x25;
const SPACE = 0x20;

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

function toBuffer(raw: Uint8Array | string): Buffer {
  if (typeof raw === 'string') return Buffer.from(raw, 'utf8');
  return Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
}

/**
 * Parses a raw `application/x-www-form-urlencoded` body or query string (without the `?`) into pairs:
 * split on `&` and the first `=` at the byte level, `+` → space, `%XX` → one byte, once. Empty segments
 * are skipped; a segment without `=` is a name with an empty value. Never throws. A string input is taken
 * as its UTF-8 bytes (what a conforming sender's percent-encoded ASCII is anyway); pass bytes when you
 * have them.
 */
export function parseForm(raw: Uint8Array | string): ParsedForm {
  const input = toBuffer(raw);
  // Decoding only ever shrinks, so one output buffer the size of the input holds every name and value.
  const output = Buffer.allocUnsafe(input.length);
  const pairs: FormPair[] = [];
  const issues: FormIssue[] = [];
  let written = 0;

  const decodeRange = (start: number, end: number): Buffer => {
    const from = written;
    for (let i = start; i < end; i++) {
      const byte = input[i];
      if (byte === PLUS) {
        output[written++] = SPACE;
      } else if (byte === PERCENT) {
        const high = i + 2 < end ? hexValue(input[i + 1]) : -1;
        const low = high >= 0 ? hexValue(input[i + 2]) : -1;
        if (low >= 0) {
          output[written++] = (high << 4) | low;
          i += 2;
        } else {
          issues.push({ kind: 'MALFORMED_PERCENT_ESCAPE', offset: i });
          output[written++] = PERCENT;
        }
      } else {
        output[written++] = byte;
      }
    }
    return output.subarray(from, written);
  };

  let start = 0;
  while (start <= input.length) {
    let end = input.indexOf(AMPERSAND, start);
    if (end === -1) end = input.length;
    if (end > start) {
      let equals = input.indexOf(EQUALS, start);
      if (equals === -1 || equals > end) equals = end;
      if (equals === start) {
        issues.push({ kind: 'EMPTY_NAME', offset: start });
      } else {
        const nameBytes = decodeRange(start, equals);
        const valueBytes = equals < end ? decodeRange(equals + 1, end) : output.subarray(written, written);
        pairs.push({ name: nameBytes.toString('latin1'), nameBytes, valueBytes });
      }
    }
    start = end + 1;
  }
  return { pairs, issues };
}

/** Where the charset used to read a notification came from, in order of precedence. */
export type CharsetSource = '_input_charset' | 'charset' | 'content-type' | 'default';

export interface CharsetChoice {
  readonly charset: Charset;
  readonly source: CharsetSource;
  /** Labels that were present but not used (unsupported, or overridden by a higher source). */
  readonly notes: readonly string[];
}

/** The `charset` parameter of a Content-Type, found even in Alipay's malformed header (reference §2.4). */
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
 * Chooses the charset that the values are read in (reference §1.4, §2.4). Precedence:
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
 * Encodes text parameters as `application/x-www-form-urlencoded` in the charset's bytes (reference §1.4:
 * GBK merchants send GBK percent-escapes). Fails with `UNENCODABLE_CHARACTER` naming the parameter.
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
