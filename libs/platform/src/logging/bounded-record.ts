/** The longest string kept whole in a log line (a message, a field). */
export const MAX_LOG_STRING = 2_000;
/** About the most characters one log record may hold, whatever it was given. */
export const MAX_LOG_RECORD = 8_000;
const MAX_DEPTH = 4;
const MAX_ENTRIES = 50;

/** Cuts `text` to `max` characters, saying how many were left out. */
export function cutText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/**
 * A copy of `value` that fits in a log line: strings cut, arrays and objects shortened, depth limited,
 * and a budget for the whole record, so that no input (a hostile body quoted in an error, a huge
 * explanation) can make a line of megabytes. Errors keep their name, message, code and stack, cut.
 */
export function boundedRecord(value: unknown, budget = { left: MAX_LOG_RECORD }, depth = 0): unknown {
  if (typeof value === 'string') {
    const kept = cutText(value, Math.max(0, Math.min(MAX_LOG_STRING, budget.left)));
    budget.left -= Math.min(value.length, MAX_LOG_STRING);
    return kept;
  }
  if (value === null || typeof value !== 'object') {
    budget.left -= 8;
    return value;
  }
  if (depth >= MAX_DEPTH || budget.left <= 0) return '[…]';
  if (value instanceof Error) {
    // Still an Error, so that the logger's error serializer shows it as one.
    const copy = new Error(boundedRecord(value.message, budget, depth) as string);
    copy.name = value.name;
    copy.stack =
      value.stack === undefined ? undefined : (boundedRecord(value.stack, budget, depth) as string);
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) Object.assign(copy, { code: boundedRecord(code, budget, depth + 1) });
    return copy;
  }
  if (Array.isArray(value)) {
    const kept = value.slice(0, MAX_ENTRIES).map((item) => boundedRecord(item, budget, depth + 1));
    if (value.length > MAX_ENTRIES) kept.push(`… (${value.length - MAX_ENTRIES} more items)`);
    return kept;
  }
  const entries = Object.entries(value);
  const kept: Record<string, unknown> = {};
  for (const [key, item] of entries.slice(0, MAX_ENTRIES)) {
    budget.left -= key.length;
    kept[cutText(key, 64)] = boundedRecord(item, budget, depth + 1);
  }
  if (entries.length > MAX_ENTRIES) kept['…'] = `${entries.length - MAX_ENTRIES} more fields`;
  return kept;
}
