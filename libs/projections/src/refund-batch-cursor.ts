import { parseBatchNo } from '@ledger/alipay-protocol';
import { ProjectionsError } from './projections-error';

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

/** An opaque, URL-safe cursor. */
export function encodeRefundBatchCursor(cursor: RefundBatchCursor): string {
  return Buffer.from(JSON.stringify([cursor.submittedAt, cursor.batchNo]), 'utf8').toString('base64url');
}

/** The cursor's position, or `INVALID_CURSOR` for anything `encodeRefundBatchCursor` did not produce. */
export function decodeRefundBatchCursor(text: string): RefundBatchCursor {
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
    !parseBatchNo(decoded[1]).ok
  ) {
    throw new ProjectionsError('INVALID_CURSOR', 'cursor is not one this ledger handed out', 'cursor');
  }
  return { submittedAt: decoded[0], batchNo: decoded[1] };
}
