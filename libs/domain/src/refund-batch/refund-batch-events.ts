import type { AnomalyKind } from '../anomaly';
import type { Fen, Instant } from '../values';

// The events of a refund batch stream `refund-batch-<batch_no>` (docs/product-rules.md, "Streams"), version 1
// (docs/events.md).

/** `refund_fastpay_by_platform_pwd` (the merchant confirms on Alipay's page) or `_nopwd` (server to server). */
export type RefundMode = 'pwd' | 'nopwd';

/**
 * One record of `detail_data`: `trade_no^amount^reason` (docs/alipay-protocol.md, "detail_data"), with the
 * order it refunds.
 */
export interface RefundBatchItem {
  outTradeNo: string;
  tradeNo: string;
  amount: Fen;
  reason: string;
}

/**
 * One record of `result_details` (docs/alipay-protocol.md, "Batch refund results") as plain data: the trade
 * part, and the optional fee (`$`), royalty (`|`) and sub-trade (`$$`) parts. Amounts in fen; codes as Alipay
 * wrote them.
 */
export interface RefundRecordResult {
  tradeNo: string;
  amount: Fen;
  code: string;
  /** nopwd `isDback^dbackResult`: whether the refund goes back to a bank card, and that transfer's state. */
  dback?: { isDback: boolean; result: string | null };
  fee?: { account: string; userId: string; amount: Fen; code: string };
  royalties?: readonly {
    outAccount: string;
    outUserId: string;
    inAccount: string;
    inUserId: string;
    amount: Fen;
    code: string;
  }[];
  subTrade?: { amount: Fen; refundableAmount: Fen; code: string };
}

/**
 * A submitted record next to its result. `outTradeNo` and `submittedAmount` are absent for a result that
 * matches no submitted record; `result` is `null` for a submitted record Alipay did not report.
 */
export interface ReconciledRecord {
  tradeNo: string;
  outTradeNo?: string;
  submittedAmount?: Fen;
  result: RefundRecordResult | null;
}

/**
 * A reconciliation finding listed in `RefundBatchCompleted` (docs/events.md,
 * "Refund batch rules (`decideRefundBatch`)").
 */
export interface BatchAnomaly {
  kind: AnomalyKind;
  detail: string;
  tradeNo?: string;
}

export interface RefundBatchSubmitted {
  type: 'RefundBatchSubmitted';
  data: {
    batchNo: string;
    mode: RefundMode;
    items: readonly RefundBatchItem[];
    /** `batch_num`: the number of records. */
    batchNum: number;
    totalAmount: Fen;
    submittedAt: Instant;
  };
}

/**
 * Alipay took the batch: nopwd `is_success` `T`, `P` (accepted, result pending), or `DUPLICATE_BATCH_NO` on a
 * retry of a batch this ledger sent (docs/alipay-protocol.md, "batch_no": it was accepted the first time).
 */
export interface RefundBatchAccepted {
  type: 'RefundBatchAccepted';
  data: { batchNo: string; reply: 'T' | 'P' | 'DUPLICATE_BATCH_NO'; acceptedAt: Instant };
}

/** nopwd `is_success=F` with its `error` code: nothing was refunded, reservations are released. */
export interface RefundBatchRejected {
  type: 'RefundBatchRejected';
  data: { batchNo: string; code: string; rejectedAt: Instant };
}

/**
 * The `batch_refund_notify` result, reconciled per record, never by `success_num` alone
 * (docs/alipay-protocol.md, "Batch refund results").
 */
export interface RefundBatchCompleted {
  type: 'RefundBatchCompleted';
  data: {
    batchNo: string;
    successNum: number;
    /** Submitted records in submission order, then results that match none. */
    records: readonly ReconciledRecord[];
    anomalies: readonly BatchAnomaly[];
    notifyId: string;
    notifyTime: Instant;
  };
}

/**
 * A nopwd call went unanswered after it may have reached Alipay (a timeout, a reset connection, a reply that
 * is not the gateway's, a call cut short): the batch may have been accepted. From here only a result or
 * `DUPLICATE_BATCH_NO` (an acceptance) or an operator's mark settles it; a later `F` releases nothing
 * (docs/product-rules.md, "Refund batches whose outcome is unknown").
 */
export interface RefundBatchOutcomeUnknown {
  type: 'RefundBatchOutcomeUnknown';
  data: { batchNo: string; code: string; detail: string; at: Instant };
}

/**
 * A resend of a batch whose outcome is unknown was answered `F`: recorded, nothing released (the first call
 * may have been accepted; a resend after Beijing midnight is refused for its date).
 */
export interface RefundBatchResendRejected {
  type: 'RefundBatchResendRejected';
  data: { batchNo: string; code: string; rejectedAt: Instant };
}

/** Who settled a batch by hand, and why (docs/product-rules.md, "Operator resolutions"). */
export interface OperatorResolution {
  /** The operator's name as the admin request gave it. */
  operator: string;
  reason: string;
}

/** The operator cancelled a `pwd` batch still waiting for confirmation on Alipay's page: reservations released. */
export interface RefundBatchCancelled {
  type: 'RefundBatchCancelled';
  data: OperatorResolution & { batchNo: string; cancelledAt: Instant };
}

/**
 * A `pwd` batch got no result `expireAfterMs` after its submission (`REFUND_PWD_BATCH_EXPIRE_AFTER_HOURS`):
 * the merchant never confirmed it; reservations released.
 */
export interface RefundBatchExpired {
  type: 'RefundBatchExpired';
  data: { batchNo: string; expireAfterMs: number; expiredAt: Instant };
}

/**
 * The operator checked Alipay's console for a batch whose outcome is unknown: `accepted` keeps its
 * reservations until the result; not accepted releases them.
 */
export interface RefundBatchOutcomeMarked {
  type: 'RefundBatchOutcomeMarked';
  data: OperatorResolution & { batchNo: string; accepted: boolean; markedAt: Instant };
}

/** Something about the batch that cannot be reconciled and is not part of a completion. */
export interface RefundBatchAnomalyDetected {
  type: 'AnomalyDetected';
  data: { batchNo: string; kind: AnomalyKind; detail: string; detectedAt: Instant; notifyId?: string };
}

export type RefundBatchEvent =
  | RefundBatchSubmitted
  | RefundBatchAccepted
  | RefundBatchRejected
  | RefundBatchCompleted
  | RefundBatchOutcomeUnknown
  | RefundBatchResendRejected
  | RefundBatchCancelled
  | RefundBatchExpired
  | RefundBatchOutcomeMarked
  | RefundBatchAnomalyDetected;

export type RefundBatchEventType = RefundBatchEvent['type'];

/** Every refund batch event type with its current schema version (docs/events.md). */
export const REFUND_BATCH_EVENT_SCHEMA_VERSIONS: Readonly<Record<RefundBatchEventType, number>> = {
  RefundBatchSubmitted: 1,
  RefundBatchAccepted: 1,
  RefundBatchRejected: 1,
  RefundBatchCompleted: 1,
  RefundBatchOutcomeUnknown: 1,
  RefundBatchResendRejected: 1,
  RefundBatchCancelled: 1,
  RefundBatchExpired: 1,
  RefundBatchOutcomeMarked: 1,
  AnomalyDetected: 1,
};

/** Narrows a stored event to a refund batch event by its type (payloads are upcast by the store). */
export function asRefundBatchEvent(type: string, data: unknown): RefundBatchEvent | undefined {
  return Object.hasOwn(REFUND_BATCH_EVENT_SCHEMA_VERSIONS, type)
    ? ({ type, data } as RefundBatchEvent)
    : undefined;
}
