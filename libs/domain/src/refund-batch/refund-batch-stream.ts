import { formatBeijingCompactDate, isCompactDate } from '@ledger/alipay-protocol';
import { DomainError } from '../domain-error';
import type { Instant } from '../values';

// Reference §4.2: batch_no = the refund date `yyyyMMdd` (Beijing) + a serial of 3–24 letters or digits,
// not all zeros; 11–32 characters in all; unique for ever.
const BATCH_NO = /^([0-9]{8})([A-Za-z0-9]{3,24})$/;

const REFUND_BATCH_STREAM_PREFIX = 'refund-batch-';

/** Why `batchNo` is not a well-formed `batch_no`, or `undefined` when it is. Says nothing about its date. */
export function batchNoProblem(batchNo: string): string | undefined {
  const match = BATCH_NO.exec(batchNo);
  if (match === null) return 'must be yyyyMMdd followed by 3 to 24 letters or digits';
  const [, date, serial] = match;
  if (!isCompactDate(date)) return `starts with ${date}, which is not a calendar date`;
  if (/^0+$/.test(serial)) return 'must not have an all-zero serial';
  return undefined;
}

/**
 * Why `batchNo` cannot be sent at `submittedAt`, or `undefined`: well-formed, and dated the Beijing day of
 * the submission (a UTC date would be "yesterday" from 00:00 to 08:00 in Beijing: `BATCH_NO_FORMAT_ERROR`).
 */
export function batchNoProblemAt(batchNo: string, submittedAt: Instant): string | undefined {
  const problem = batchNoProblem(batchNo);
  if (problem !== undefined) return problem;
  const today = formatBeijingCompactDate(new Date(submittedAt));
  return batchNo.startsWith(today)
    ? undefined
    : `must start with the Beijing date of its submission, ${today}`;
}

/** The id of a refund batch's stream, `refund-batch-<batch_no>` (SPEC §3); `INVALID_BATCH` for a bad id. */
export function refundBatchStreamId(batchNo: string): string {
  const problem = batchNoProblem(batchNo);
  if (problem !== undefined) {
    throw new DomainError('INVALID_BATCH', `batch_no ${JSON.stringify(batchNo)} ${problem}`, 'batchNo');
  }
  return REFUND_BATCH_STREAM_PREFIX + batchNo;
}

/** The `batch_no` of a refund batch stream id, or `undefined` when the id names no batch stream. */
export function batchNoOfStream(streamId: string): string | undefined {
  if (!streamId.startsWith(REFUND_BATCH_STREAM_PREFIX)) return undefined;
  const batchNo = streamId.slice(REFUND_BATCH_STREAM_PREFIX.length);
  return batchNoProblem(batchNo) === undefined ? batchNo : undefined;
}
