import { decode, encode } from 'iconv-lite';
import { fail, ok, type Result } from './errors';

// docs/alipay-protocol.md, "Signed bytes": the merchant's `_input_charset` decides which bytes are signed.
// Node has no GBK codec of its own, so GBK goes through iconv-lite; UTF-8 stays on Buffer's native codec for
// speed.

/** The two charsets of the classic API, spelled as the `_input_charset` value Alipay expects. */
export type Charset = 'utf-8' | 'gbk';

export const CHARSETS: readonly Charset[] = ['utf-8', 'gbk'];

const LABELS: Readonly<Record<string, Charset>> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  gbk: 'gbk',
  'x-gbk': 'gbk',
  cp936: 'gbk',
  // GBK is a superset of GB2312, so GB2312 bytes decode and verify identically.
  gb2312: 'gbk',
};

const MAX_LABEL_LENGTH = 32;

/** Maps a charset label (case-insensitive, surrounding spaces and quotes ignored) to a supported charset. */
export function charsetFromLabel(label: string): Charset | undefined {
  if (label === 'UTF-8' || label === 'utf-8') return 'utf-8';
  // No label is longer; a longer one (a hostile `_input_charset` of a megabyte) is not read at all.
  if (label.length > MAX_LABEL_LENGTH) return undefined;
  const normalised = label
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .trim()
    .toLowerCase();
  return Object.hasOwn(LABELS, normalised) ? LABELS[normalised] : undefined;
}

/** Decodes bytes as text; invalid sequences become U+FFFD (see `decodesCleanly`). */
export function decodeBytes(bytes: Uint8Array, charset: Charset): string {
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return charset === 'utf-8' ? buffer.toString('utf8') : decode(buffer, 'gbk', { stripBOM: false });
}

const NON_ASCII = /[\u0080-\uffff]/;

/**
 * Decodes a binary string (one Latin-1 character per byte) as text. ASCII is the same text in both
 * charsets, so only values with high bytes pay for a real decoding.
 */
export function decodeBinary(binary: string, charset: Charset): string {
  return NON_ASCII.test(binary) ? decodeBytes(Buffer.from(binary, 'latin1'), charset) : binary;
}

/**
 * Whether the bytes are a valid sequence in the charset (decoding loses nothing). Pass `decoded` when the
 * bytes were already decoded in that charset, so that a long value is not decoded twice.
 */
export function decodesCleanly(
  bytes: Uint8Array,
  charset: Charset,
  decoded: string = decodeBytes(bytes, charset),
): boolean {
  if (!decoded.includes('\uFFFD')) return true;
  return Buffer.compare(encodeUnchecked(decoded, charset), bytes) === 0;
}

function encodeUnchecked(text: string, charset: Charset): Buffer {
  return charset === 'utf-8' ? Buffer.from(text, 'utf8') : encode(text, 'gbk');
}

/**
 * Encodes text in the charset, refusing text that the charset cannot represent (iconv-lite would silently
 * write `?`, and a lone surrogate would become U+FFFD in UTF-8: either changes the signed bytes).
 */
export function encodeText(text: string, charset: Charset, field?: string): Result<Buffer> {
  const bytes = encodeUnchecked(text, charset);
  // ASCII text needs no round trip: every code point below 0x80 is the same byte in both charsets. (The
  // check is on the text, not the bytes: the GBK encoder turns what it cannot encode into an ASCII `?`.)
  if (isAscii(text)) return ok(bytes);
  if (decodeBytes(bytes, charset) !== text) {
    return fail('UNENCODABLE_CHARACTER', `the text cannot be represented in ${charset}`, field);
  }
  return ok(bytes);
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) return false;
  }
  return true;
}
