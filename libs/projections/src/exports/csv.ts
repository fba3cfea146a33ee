/**
 * CSV as spreadsheet programs used in China open it (docs/operations.md, "Exports"): UTF-8 with a byte order
 * mark first (without it Excel reads the bytes as the system's GBK and shows Chinese as mojibake), records
 * ended by CRLF, fields quoted as RFC 4180 says.
 */

/** The byte order mark that starts a CSV export. */
export const CSV_BOM = '\uFEFF';

/** What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection"): `=`, `+`, `-`, `@`, tab, CR. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * Text a spreadsheet shows as typed, never evaluates: a value that would start a formula (a subject such as
 * `=HYPERLINK(...)`, sent by whoever placed the order) is prefixed with an apostrophe.
 */
export function guardFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** One field: null is empty; text is guarded, and quoted when it holds a quote, a comma, CR or LF. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = typeof value === 'number' ? String(value) : guardFormula(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One record, with its CRLF. */
export function csvRecord(values: readonly (string | number | null)[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}
