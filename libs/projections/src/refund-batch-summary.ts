import type { AnomalyKind, Fen, RefundBatchResolution, RefundBatchStatus, RefundMode } from '@ledger/domain';

/**
 * Where a batch stands: the gateway's reply, then Alipay's result (docs/operations.md,
 * "The refund batch projection").
 */
export type RefundBatchState = Exclude<RefundBatchStatus, 'none'>;

/**
 * What a record's result code means (docs/alipay-protocol.md, "Batch refund results"): `TRADE_HAS_CLOSED`
 * usually is "already refunded".
 */
export type RefundRecordOutcome = 'refunded' | 'already_closed' | 'failed';

/**
 * One record of a batch with its result. Submitted records come first, in submission order; then the
 * results that match none (a trade not submitted, or a trade reported twice), without order, amount or
 * reason. `result` is null until Alipay reports the record, and stays null for a record it left out.
 */
export interface RefundBatchRecord {
  outTradeNo: string | null;
  tradeNo: string;
  /** The submitted amount. */
  amount: Fen | null;
  reason: string | null;
  result: { amount: Fen; code: string; outcome: RefundRecordOutcome } | null;
}

/** A finding of the reconciliation (`RefundBatchCompleted.anomalies`) or an `AnomalyDetected` of the batch. */
export interface RefundBatchAnomaly {
  kind: AnomalyKind;
  detail: string;
  tradeNo: string | null;
  /** The batch_refund_notify it was found in, if any. */
  notifyId: string | null;
  detectedAt: string;
}

/**
 * A nopwd call that went unanswered after it may have reached Alipay (docs/product-rules.md, "Refund batches
 * whose outcome is unknown"), and the `F` a later resend got, if any.
 */
export interface RefundBatchUnanswered {
  code: string;
  detail: string;
  at: string;
  resendRejection: { code: string; at: string } | null;
}

/**
 * One refund batch as the `refund_batches` projection holds it (docs/operations.md,
 * "The refund batch projection"). Amounts are integer fen; instants are ISO 8601 UTC strings taken from the
 * events' `recordedAt`, so a rebuild reproduces every field exactly.
 */
export interface RefundBatchSummary {
  batchNo: string;
  /** Null for a batch this ledger never submitted (a result nobody asked for). */
  mode: RefundMode | null;
  /** Null only for a stream that holds neither a submission nor a result. */
  state: RefundBatchState | null;
  /** The gateway's error code when it rejected the batch. */
  errorCode: string | null;
  /** `batch_num` and the sum of the submitted amounts; null when never submitted. */
  batchNum: number | null;
  totalAmount: Fen | null;
  /** Alipay's `success_num`, once the result is in. */
  successNum: number | null;
  items: RefundBatchRecord[];
  anomalies: RefundBatchAnomaly[];
  /** Set once a call went unanswered; kept after the batch is settled, as history. */
  unanswered: RefundBatchUnanswered | null;
  /** The cancellation, expiry or operator's mark that settled the batch, with who and why. */
  resolution: RefundBatchResolution | null;
  /** When the ledger recorded the batch's first event: its submission, for every batch it submitted. */
  submittedAt: string;
  /** When the ledger recorded the last event applied. */
  updatedAt: string;
  /** The batch stream's version after the last event applied. */
  version: number;
  /** The global position of the last event applied. */
  lastPosition: number;
}

/** A batch in a list: everything but its records. */
export type RefundBatchListItem = Omit<RefundBatchSummary, 'items'>;
