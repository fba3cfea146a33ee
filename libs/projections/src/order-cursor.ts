import { ProjectionsError } from './projections-error';

/** Where a page of orders ended: the last item's creation time and key (the list's sort order). */
export interface OrderCursor {
  createdAt: string;
  outTradeNo: string;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Exactly what `toISOString` writes: `Date.parse` alone would roll 31 February over into March. */
function isInstant(text: string): boolean {
  if (!ISO_INSTANT.test(text)) return false;
  const time = Date.parse(text);
  return !Number.isNaN(time) && new Date(time).toISOString() === text;
}

/** An opaque, URL-safe cursor. */
export function encodeOrderCursor(cursor: OrderCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.outTradeNo]), 'utf8').toString('base64url');
}

/** The cursor's position, or `INVALID_CURSOR` for anything `encodeOrderCursor` did not produce. */
export function decodeOrderCursor(text: string): OrderCursor {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  if (
    !Array.isArray(decoded) ||
    decoded.length !== 2 ||
    typeof decoded[0] !== 'string' ||
    typeof decoded[1] !== 'string' ||
    !isInstant(decoded[0]) ||
    decoded[1] === ''
  ) {
    throw new ProjectionsError('INVALID_CURSOR', 'cursor is not one this ledger handed out', 'cursor');
  }
  return { createdAt: decoded[0], outTradeNo: decoded[1] };
}
