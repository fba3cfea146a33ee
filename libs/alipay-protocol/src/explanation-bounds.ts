// A verification's explanation is stored with every notification, verified or not (docs/operations.md,
// Hostile input): whatever a body holds, what is kept about it must fit in a few KB. Sizes are counted as
// the UTF-8 bytes of the JSON the inbox stores, escapes included.

/** The most one explanation takes as UTF-8 JSON, whatever the input. */
export const MAX_EXPLANATION_BYTES = 8 * 1024;

/** UTF-8 bytes of one UTF-16 code unit inside a JSON string (an upper bound for surrogates). */
function jsonCost(code: number): number {
  if (code === 0x22 || code === 0x5c) return 2;
  if (code < 0x20)
    return code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d ? 2 : 6;
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  // A lone surrogate is written `\udXXX`; a pair takes 4 bytes, which 6 + 6 overstates safely.
  if (code >= 0xd800 && code <= 0xdfff) return 6;
  return 3;
}

/** UTF-8 bytes of `text` as a JSON string, quotes included. */
export function jsonTextBytes(text: string): number {
  let bytes = 2;
  for (let i = 0; i < text.length; i++) bytes += jsonCost(text.charCodeAt(i));
  return bytes;
}

// The longest marker: "…[" + up to 16 digits + " more characters]", each character at most 3 bytes.
const MARKER_BYTES = 3 + 1 + 16 + 17;

/**
 * `text` whole when its JSON fits in `maxBytes`, else its start followed by a marker saying how many
 * characters were left out. Stops reading at the budget, so a megabyte costs no more than a kilobyte.
 */
export function boundText(text: string, maxBytes: number): string {
  const budget = maxBytes - MARKER_BYTES;
  let bytes = 2;
  let end = 0;
  while (end < text.length) {
    const cost = jsonCost(text.charCodeAt(end));
    if (bytes + cost > budget) break;
    bytes += cost;
    end++;
  }
  if (end === text.length) return text;
  // The rest may still fit once the marker's room is counted back.
  if (bytes + restCost(text, end, maxBytes - bytes) <= maxBytes) return text;
  // Never end on half of a surrogate pair.
  const code = text.charCodeAt(end - 1);
  if (end > 0 && code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…[${text.length - end} more characters]`;
}

/**
 * A binary string (one character per byte) shown as text: decoded whole when it fits in `maxBytes` of
 * JSON, else only its first bytes, followed by a marker saying how many bytes were left out. Only the
 * bytes shown are decoded. A byte above 0x7F is counted as the 3 bytes of U+FFFD, the most it can become.
 */
export function boundBinary(binary: string, maxBytes: number, decode: (binary: string) => string): string {
  const budget = maxBytes - MARKER_BYTES;
  let bytes = 2;
  let end = 0;
  while (end < binary.length) {
    const code = binary.charCodeAt(end);
    const cost = code >= 0x80 ? 3 : jsonCost(code);
    if (bytes + cost > budget) break;
    bytes += cost;
    end++;
  }
  if (end === binary.length) return decode(binary);
  return `${decode(binary.slice(0, end))}…[${binary.length - end} more bytes]`;
}

/** JSON bytes of `text` from `from` on, or more than `limit` as soon as it is known to exceed it. */
function restCost(text: string, from: number, limit: number): number {
  let bytes = 0;
  for (let i = from; i < text.length && bytes <= limit; i++) bytes += jsonCost(text.charCodeAt(i));
  return bytes;
}

/**
 * The first entries of `list` whose JSON, with the commas between them, fits in `maxBytes` and at most
 * `maxEntries` of them; `leftOut` counts the rest.
 */
export function boundList<T>(
  list: readonly T[],
  maxBytes: number,
  entryBytes: (entry: T) => number,
  maxEntries = Number.POSITIVE_INFINITY,
): { kept: T[]; leftOut: number } {
  const kept: T[] = [];
  let bytes = 2;
  for (const entry of list) {
    const cost = entryBytes(entry) + 1;
    if (kept.length >= maxEntries || bytes + cost > maxBytes) break;
    bytes += cost;
    kept.push(entry);
  }
  return { kept, leftOut: list.length - kept.length };
}
