import { parseBatchNo } from '@ledger/alipay-protocol';
import { DomainError } from '../domain-error';

const REFUND_BATCH_STREAM_PREFIX = 'refund-batch-';

/**
 * The id of a refund batch's stream, `refund-batch-<batch_no>` (docs/product-rules.md, "Streams"). The
 * `batch_no` grammar is the protocol's (docs/alipay-protocol.md, "batch_no"); `INVALID_BATCH` for anything
 * else.
 */
export function refundBatchStreamId(batchNo: string): string {
  const parsed = parseBatchNo(batchNo);
  if (!parsed.ok) {
    throw new DomainError('INVALID_BATCH', parsed.errors.map((e) => e.message).join('; '), 'batchNo');
  }
  return REFUND_BATCH_STREAM_PREFIX + batchNo;
}

/** The `batch_no` of a refund batch stream id, or `undefined` when the id names no batch stream. */
export function batchNoOfStream(streamId: string): string | undefined {
  if (!streamId.startsWith(REFUND_BATCH_STREAM_PREFIX)) return undefined;
  const batchNo = streamId.slice(REFUND_BATCH_STREAM_PREFIX.length);
  return parseBatchNo(batchNo).ok ? batchNo : undefined;
}
