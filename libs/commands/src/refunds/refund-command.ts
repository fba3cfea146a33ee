import {
  parseBatchNo,
  parseBatchRefundNotify,
  type BatchRefundNotify,
  type ProtocolError,
  type RefundResult,
  type TextParam,
} from '@ledger/alipay-protocol';
import type { CompleteRefundBatch, RefundRecordResult } from '@ledger/domain';
import type { InboxChannel } from '@ledger/inbox';
import type { CommandReading } from '../pipeline/notification-channel';

/** Longest notify_id kept as a de-duplication key (as for trade notifications). */
const MAX_NOTIFY_ID_LENGTH = 256;

/** A verified `batch_refund_notify` read into the batch's command, or why it cannot be one. */
export type RefundCommandReading =
  | { ok: true; notification: BatchRefundNotify; command: CompleteRefundBatch }
  | Extract<CommandReading<CompleteRefundBatch>, { ok: false }>;

function malformed(errors: readonly ProtocolError[]): Extract<RefundCommandReading, { ok: false }> {
  return {
    ok: false,
    reason: 'malformed',
    message: errors.map((e) => `${e.field ?? ''}: ${e.message}`).join('; '),
    errors,
  };
}

/**
 * One `result_details` record as plain data: every part Alipay sent is kept (docs/alipay-protocol.md,
 * "Batch refund results").
 */
function recordOf(result: RefundResult): RefundRecordResult {
  return {
    tradeNo: result.tradeNo,
    amount: result.amount,
    code: result.code,
    ...(result.dback === undefined ? {} : { dback: { ...result.dback } }),
    ...(result.fee === undefined ? {} : { fee: { ...result.fee } }),
    ...(result.royalties === undefined ? {} : { royalties: result.royalties.map((r) => ({ ...r })) }),
    ...(result.subTrade === undefined ? {} : { subTrade: { ...result.subTrade } }),
  };
}

/**
 * Reads the parameters of a verified `batch_refund_notify` (docs/alipay-protocol.md, "Batch refund results")
 * into `CompleteRefundBatch`: `batch_no` in the protocol's grammar, `success_num`, and every `result_details`
 * record with its fee (`$`), royalty (`|`) and sub-trade (`$$`) parts, amounts in fen. Any other
 * `notify_type` is refused by name: payment notifications belong to `/alipay/notify`.
 */
export function readRefundCommand(params: readonly TextParam[], channel: InboxChannel): RefundCommandReading {
  const notifyType = params.find((p) => p.name === 'notify_type')?.value;
  if (notifyType !== undefined && notifyType !== '' && notifyType !== 'batch_refund_notify') {
    return {
      ok: false,
      reason: 'unexpected_notify_type',
      message:
        `notify_type ${JSON.stringify(notifyType.slice(0, 64))} is not handled at the ${channel} channel, ` +
        'which takes batch_refund_notify only (payment notifications go to /alipay/notify)',
    };
  }
  const parsed = parseBatchRefundNotify(params);
  if (!parsed.ok) return malformed(parsed.errors);
  const notification = parsed.value;

  const errors: ProtocolError[] = [];
  if (notification.notifyId.length > MAX_NOTIFY_ID_LENGTH) {
    errors.push({
      code: 'TOO_LONG',
      field: 'notify_id',
      message: `notify_id is longer than ${MAX_NOTIFY_ID_LENGTH} characters`,
    });
  }
  // A batch_no outside the grammar cannot name a batch stream; its date is not checked (a result comes
  // days after the submission).
  const batchNo = parseBatchNo(notification.batchNo);
  if (!batchNo.ok) errors.push(...batchNo.errors);
  notification.resultDetails.forEach((result, index) => {
    // The refund query's prefixed form names the batch in each record: it must be this one.
    if (result.batchNo !== undefined && result.batchNo !== notification.batchNo) {
      errors.push({
        code: 'MALFORMED_RESULT_DETAILS',
        field: `result_details[${index}].batchNo`,
        message: `record of batch ${JSON.stringify(result.batchNo.slice(0, 64))} in the result of batch ${notification.batchNo}`,
      });
    }
  });
  if (errors.length > 0) return malformed(errors);

  const command: CompleteRefundBatch = {
    type: 'CompleteRefundBatch',
    batchNo: notification.batchNo,
    successNum: notification.successNum,
    results: notification.resultDetails.map(recordOf),
    notifyId: notification.notifyId,
    notifyTime: notification.notifyTime.toISOString(),
  };
  return { ok: true, notification, command };
}
