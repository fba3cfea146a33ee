import { formatBeijingCompactDate, formatBeijingTime } from '@ledger/alipay-protocol';
import { ProjectionsError } from '../projections-error';

/** What an export lists (docs/operations.md, "Exports"). */
export type ExportKind = 'orders' | 'payments' | 'refunds' | 'movements';
export const EXPORT_KINDS: readonly ExportKind[] = ['orders', 'payments', 'refunds', 'movements'];

/** `csv`: UTF-8 with a BOM, RFC 4180, CRLF; `jsonl`: one JSON object per line. */
export type ExportFormat = 'csv' | 'jsonl';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'jsonl'];

/** A validated export: `[from, to)` on the placement time (orders) or the movement's time (the others). */
export interface ExportRequest {
  kind: ExportKind;
  from: Date;
  to: Date;
  format: ExportFormat;
}

/** An export as a caller names it: text from a query string or a command line, or instants. */
export interface ExportInput {
  kind?: string;
  from?: string | Date;
  to?: string | Date;
  format?: string;
}

// A date alone, or a date and time with Z or an offset; a time without a zone is refused, it would be read in
// the server's zone.
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The instant of `from` or `to`. A date alone is midnight in Beijing, where the day of Alipay's statements
 * begins (docs/operations.md, "Exports"): `2024-05-01` is `2024-05-01T00:00:00+08:00`.
 */
function instantOf(value: string | Date | undefined, field: 'from' | 'to'): Date {
  const invalid = (why: string) => new ProjectionsError('INVALID_FILTER', `${field}: ${why}`, field);
  if (value === undefined || value === '') {
    throw invalid('required: a date (midnight in Beijing) or an ISO 8601 instant with its zone');
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw invalid('not a valid instant');
    return value;
  }
  const date = DATE.exec(value);
  const text = date === null ? value : `${value}T00:00:00+08:00`;
  const instant = new Date(text);
  const real =
    (date !== null || INSTANT.test(value)) &&
    !Number.isNaN(instant.getTime()) &&
    // A calendar date that does not exist (31 February) rolls over in Date: refuse it.
    (date === null || formatBeijingCompactDate(instant) === `${date[1]}${date[2]}${date[3]}`);
  if (!real) {
    throw invalid(
      `${JSON.stringify(value.slice(0, 64))} is neither a date (2024-05-01, midnight in Beijing) nor an ` +
        'ISO 8601 instant with its zone (2024-05-01T00:00:00+08:00)',
    );
  }
  return instant;
}

/**
 * Checks what a caller asked for and names the first thing wrong in a `ProjectionsError` `INVALID_FILTER`
 * whose `field` is `kind`, `from`, `to` or `format`. The format defaults to `csv`.
 */
export function parseExportRequest(input: ExportInput): ExportRequest {
  const { kind } = input;
  if (kind === undefined || !(EXPORT_KINDS as readonly string[]).includes(kind)) {
    throw new ProjectionsError(
      'INVALID_FILTER',
      `kind: ${JSON.stringify(kind ?? '')} is not one of ${EXPORT_KINDS.join(', ')}`,
      'kind',
    );
  }
  const format = input.format ?? 'csv';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new ProjectionsError(
      'INVALID_FILTER',
      `format: ${JSON.stringify(format)} is not one of ${EXPORT_FORMATS.join(', ')}`,
      'format',
    );
  }
  const from = instantOf(input.from, 'from');
  const to = instantOf(input.to, 'to');
  if (to.getTime() <= from.getTime()) {
    throw new ProjectionsError(
      'INVALID_FILTER',
      `to: must be after from (the range is [from, to)): ${to.toISOString()} <= ${from.toISOString()}`,
      'to',
    );
  }
  return { kind: kind as ExportKind, from, to, format: format as ExportFormat };
}

/** The `Content-Type` of an export. */
export function exportContentType(format: ExportFormat): string {
  return format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
}

/** The Beijing date of an instant, with its time when it is not midnight: `20240501`, `20240501-103000`. */
function beijingStamp(instant: Date): string {
  const time = formatBeijingTime(instant).slice(11).replace(/:/g, '');
  return time === '000000'
    ? formatBeijingCompactDate(instant)
    : `${formatBeijingCompactDate(instant)}-${time}`;
}

/** A file name for the export: `ledger-orders-20240501-20240601.csv` (Beijing dates, `to` exclusive). */
export function exportFileName(request: ExportRequest): string {
  return `ledger-${request.kind}-${beijingStamp(request.from)}-${beijingStamp(request.to)}.${request.format}`;
}
