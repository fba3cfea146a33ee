// `multipart/form-data` as Alipay's own PHP kit sends it: `buildRequestHttp` hands curl an array, and curl
// posts each parameter as a part whose content is the value's raw bytes in the merchant's charset
// (docs/sandbox.md, "gateway.do"). Only what such a client sends is read: form fields, no files, no nested
// multiparts, no per-part encodings. The parser works on bytes, once through the body, with caps on parts
// and headers; nothing is decoded as text except the part headers, which are ASCII.
//
// Not busboy: it is in node_modules only as a dependency of multer, not one of ours, and it hands values
// over as decoded strings, when the signature must be checked over the bytes as they came.

/** One form field: its name (ASCII) and its value's bytes as received. */
export interface MultipartField {
  readonly name: string;
  readonly value: Buffer;
}

export type MultipartResult =
  | { readonly ok: true; readonly fields: readonly MultipartField[] }
  | { readonly ok: false; readonly problem: string };

/** The most parts read (a request has about 15 parameters). */
export const MAX_MULTIPART_PARTS = 200;
/** The most bytes of headers one part may have. */
export const MAX_PART_HEADER_BYTES = 1024;

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
// RFC 2046 §5.1.1: 1 to 70 characters from this set (a space only inside).
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
const FIELD_NAME = /^[\x21-\x7e]{1,64}$/;

/** The boundary of a `multipart/form-data` Content-Type, or `undefined` when it is not one. */
export function multipartBoundary(contentType: string | undefined): string | undefined | null {
  if (contentType === undefined) return undefined;
  const [type, ...parameters] = contentType.split(';');
  if (type.trim().toLowerCase() !== 'multipart/form-data') return undefined;
  for (const parameter of parameters) {
    const equals = parameter.indexOf('=');
    if (equals === -1 || parameter.slice(0, equals).trim().toLowerCase() !== 'boundary') continue;
    const value = parameter
      .slice(equals + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    return BOUNDARY.test(value) ? value : null;
  }
  return null;
}

function dispositionName(headers: string): { name?: string; problem?: string } {
  let name: string | undefined;
  for (const line of headers.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon === -1) return { problem: 'a part header without a colon' };
    const header = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (header === 'content-disposition') {
      if (!/^form-data\s*(?:;|$)/i.test(value)) return { problem: 'a part that is not form-data' };
      if (/;\s*filename\*?\s*=/i.test(value))
        return { problem: 'a file part: the gateway takes fields only' };
      const match = /;\s*name\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(value);
      name = match?.[1] ?? match?.[2];
    } else if (
      header === 'content-transfer-encoding' &&
      value.toLowerCase() !== 'binary' &&
      value !== '8bit'
    ) {
      return { problem: `a part in ${value} transfer encoding` };
    } else if (header === 'content-type' && /^multipart\//i.test(value)) {
      return { problem: 'a nested multipart' };
    }
  }
  if (name === undefined) return { problem: 'a part without a field name' };
  if (!FIELD_NAME.test(name)) return { problem: 'a field name that is not printable ASCII' };
  return { name };
}

/**
 * The fields of a `multipart/form-data` body, values as the bytes received. Linear in the body: each
 * delimiter is searched from where the previous one ended. Refuses (with a sentence) anything but a
 * well-formed body of at most `MAX_MULTIPART_PARTS` field parts.
 */
export function parseMultipart(body: Buffer, boundary: string): MultipartResult {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const fail = (problem: string): MultipartResult => ({ ok: false, problem });
  // The preamble is ignored (RFC 2046); the first delimiter starts the body or follows a CRLF.
  let at = body.subarray(0, delimiter.length).equals(delimiter)
    ? 0
    : body.indexOf(Buffer.concat([CRLF, delimiter]));
  if (at === -1) return fail('no boundary in the body');
  if (at > 0) at += CRLF.length;
  const fields: MultipartField[] = [];
  const separator = Buffer.concat([CRLF, delimiter]);
  for (;;) {
    let cursor = at + delimiter.length;
    if (body[cursor] === 0x2d && body[cursor + 1] === 0x2d) return { ok: true, fields };
    // Transport padding (spaces, tabs) may follow a delimiter, then its CRLF.
    while (body[cursor] === 0x20 || body[cursor] === 0x09) cursor++;
    if (body[cursor] !== 0x0d || body[cursor + 1] !== 0x0a)
      return fail('a boundary not followed by a line break');
    cursor += 2;
    if (fields.length >= MAX_MULTIPART_PARTS) return fail(`more than ${MAX_MULTIPART_PARTS} parts`);
    const headersEnd = body.indexOf(HEADER_END, cursor);
    if (headersEnd === -1 || headersEnd - cursor > MAX_PART_HEADER_BYTES) {
      return fail(`part headers not ended within ${MAX_PART_HEADER_BYTES} bytes`);
    }
    const headers = body.subarray(cursor, headersEnd);
    if (
      headers.some((byte) => byte > 0x7e || (byte < 0x20 && byte !== 0x0d && byte !== 0x0a && byte !== 0x09))
    ) {
      return fail('part headers that are not ASCII');
    }
    const disposition = dispositionName(headers.toString('latin1'));
    if (disposition.problem !== undefined) return fail(disposition.problem);
    const contentStart = headersEnd + HEADER_END.length;
    const next = body.indexOf(separator, contentStart);
    if (next === -1) return fail('a part without a closing boundary');
    fields.push({ name: disposition.name!, value: body.subarray(contentStart, next) });
    at = next + CRLF.length;
  }
}
