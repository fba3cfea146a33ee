import { parseBatchNo } from '@ledger/alipay-protocol';
import { ProjectionsError } from './projections-error';

// The admin lists page newest first by (a recorded instant, a unique key); a cursor is where a page ended.

/** Where a page of orders ended: the last item's creation time and key (the list's sort order). */
export interface OrderCursor {
  createdAt: string;
  outTradeNo: string;
}

/** Where a page of refund batches ended: the last item's submission time and batch_no (the sort order). */
export interface RefundBatchCursor {
  submittedAt: string;
  batchNo: string;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Exactly what `toISOString` writes: `Date.parse` alone would roll 31 February over into March. */
function isInstant(text: string): boolean {
  if (!ISO_INSTANT.test(text)) return false;
  const time = Date.parse(text);
  return !Number.isNaN(time) && new Date(time).toISOString() === text;
}

/** An opaque, URL-safe cursor of an instant and a key. */
function encode(instant: string, key: string): string {
  return Buffer.from(JSON.stringify([instant, key]), 'utf8').toString('base64url');
}

/** The instant and key of a cursor `encode` made, or `INVALID_CURSOR` for anything else. */
function decode(text: string, isKey: (key: string) => boolean): [instant: string, key: string] {
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
    !isKey(decoded[1])
  ) {
    throw new ProjectionsError('INVALID_CURSOR', 'cursor is not one this ledger handed out', 'cursor');
  }
  return [decoded[0], decoded[1]];
}

export function encodeOrderCursor(cursor: OrderCursor): string {
  return encode(cursor.createdAt, cursor.outTradeNo);
}

/** @throws ProjectionsError `INVALID_CURSOR` for anything `encodeOrderCursor` did not produce. */
export function decodeOrderCursor(text: string): OrderCursor {
  const [createdAt, outTradeNo] = decode(text, (key) => key !== '');
  return { createdAt, outTradeNo };
}

export function encodeRefundBatchCursor(cursor: RefundBatchCursor): string {
  return encode(cursor.submittedAt, cursor.batchNo);
}

/** @throws ProjectionsError `INVALID_CURSOR` for anything `encodeRefundBatchCursor` did not produce. */
export function decodeRefundBatchCursor(text: string): RefundBatchCursor {
  const [submittedAt, batchNo] = decode(text, (key) => parseBatchNo(key).ok);
  return { submittedAt, batchNo };
}
