import { formatBeijingTime, formatYuan, parseBeijingTime } from '@ledger/alipay-protocol';

// docs/console.md, "Times and amounts": instants are shown in Beijing time with the zone named, money as
// yuan with two decimals, computed from integer fen.

export const BEIJING_ZONE_NAME = 'UTC+8, Beijing';

/** "2026-12-07 13:05:00 (UTC+8, Beijing)" for an ISO 8601 instant; "—" for none. */
export function beijingTime(instant: string | Date | null | undefined): string {
  if (instant === null || instant === undefined) return '—';
  const date = instant instanceof Date ? instant : new Date(instant);
  if (Number.isNaN(date.getTime())) return String(instant);
  return `${formatBeijingTime(date)} (${BEIJING_ZONE_NAME})`;
}

/** "¥12.34" for 1234 fen; "—" for none. */
export function yuan(fen: number | null | undefined): string {
  return fen === null || fen === undefined ? '—' : `¥${formatYuan(fen)}`;
}

/** A `datetime-local` value ("2026-12-07T13:05") for an instant, in Beijing time. */
export function beijingInputValue(instant: Date): string {
  return formatBeijingTime(instant).slice(0, 16).replace(' ', 'T');
}

/**
 * The instant of a `datetime-local` value typed in Beijing time ("2026-12-07T13:05" or with seconds);
 * undefined for an empty value, an error message for anything else.
 */
export function instantOfBeijingInput(value: string): Date | undefined | { error: string } {
  const text = value.trim();
  if (text === '') return undefined;
  const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?$/.exec(text);
  const parsed = match === null ? undefined : parseBeijingTime(`${match[1]} ${match[2]}${match[3] ?? ':00'}`);
  if (parsed === undefined || !parsed.ok) {
    return { error: `"${text}" is not a date and time (yyyy-MM-dd HH:mm, Beijing time)` };
  }
  return parsed.value;
}
