import { fail, ok, quote, type Result } from './errors';

// docs/alipay-protocol.md, "Amounts and times": Alipay times are `yyyy-MM-dd HH:mm:ss` in Beijing time
// (UTC+8, no daylight saving since 1991) with no offset in the string. A fixed offset is exact for every date
// Alipay can send, and needs no time-zone database.
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;

const TIME = /^([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})$/;
const COMPACT_DATE = /^([0-9]{4})([0-9]{2})([0-9]{2})$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

// Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear does not.
function utcInstant(year: number, month: number, day: number, hour: number, minute: number, second: number) {
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  date.setUTCFullYear(year, month - 1, day);
  return date.getTime();
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/**
 * Parses `yyyy-MM-dd HH:mm:ss` Beijing time into an instant. Strict: a real calendar date, hours 00–23,
 * minutes and seconds 00–59, nothing before or after. Never throws.
 */
export function parseBeijingTime(text: string, field?: string): Result<Date> {
  const match = typeof text === 'string' ? TIME.exec(text) : null;
  if (match === null) {
    return fail('MALFORMED_TIME', `${quote(String(text))} is not yyyy-MM-dd HH:mm:ss`, field);
  }
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number);
  if (!isCalendarDate(year, month, day) || hour > 23 || minute > 59 || second > 59) {
    return fail('MALFORMED_TIME', `${quote(text)} is not a real date and time`, field);
  }
  return ok(new Date(utcInstant(year, month, day, hour, minute, second) - BEIJING_OFFSET_MS));
}

function beijingParts(instant: Date) {
  if (Number.isNaN(instant.getTime())) throw new RangeError('cannot format an invalid Date');
  const shifted = new Date(instant.getTime() + BEIJING_OFFSET_MS);
  return {
    year: pad(shifted.getUTCFullYear(), 4),
    month: pad(shifted.getUTCMonth() + 1, 2),
    day: pad(shifted.getUTCDate(), 2),
    hour: pad(shifted.getUTCHours(), 2),
    minute: pad(shifted.getUTCMinutes(), 2),
    second: pad(shifted.getUTCSeconds(), 2),
  };
}

/** Formats an instant as `yyyy-MM-dd HH:mm:ss` Beijing time (milliseconds dropped; an invalid Date throws). */
export function formatBeijingTime(instant: Date): string {
  const p = beijingParts(instant);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/**
 * The Beijing calendar date of an instant as `yyyyMMdd`, the prefix of a `batch_no` (docs/alipay-protocol.md,
 * "batch_no").
 */
export function formatBeijingCompactDate(instant: Date): string {
  const p = beijingParts(instant);
  return `${p.year}${p.month}${p.day}`;
}

/** Whether `yyyyMMdd` names a real calendar date. */
export function isCompactDate(text: string): boolean {
  const match = COMPACT_DATE.exec(text);
  if (match === null) return false;
  const [year, month, day] = match.slice(1).map(Number);
  return isCalendarDate(year, month, day);
}
