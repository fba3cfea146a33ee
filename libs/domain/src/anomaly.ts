/**
 * What `AnomalyDetected` can report, on an order stream or a refund batch stream (docs/events.md,
 * "Anomaly kinds"). An anomaly is something Alipay said that the ledger cannot reconcile; it is recorded,
 * never thrown.
 */
export type AnomalyKind =
  /** A notification's `total_fee` differs from the order's: the order is not treated as paid. */
  | 'amount_mismatch'
  /** A notification's `seller_id` differs from the order's: the order is not treated as paid. */
  | 'seller_mismatch'
  /** A notification for an `out_trade_no` the ledger never placed. */
  | 'unknown_order'
  /** A notification for the order carries another `trade_no` than the one already recorded. */
  | 'trade_no_mismatch'
  /** A refund result that would take the refunded total above what was paid: never applied. */
  | 'over_refund'
  /** A refund result for a batch or trade the ledger did not submit, or after the batch was rejected. */
  | 'refund_result_unmatched'
  /** A refund result whose amount differs from the amount submitted. */
  | 'refund_amount_mismatch'
  /** A submitted record without a result: missing from `result_details`, or no result in time. */
  | 'refund_result_missing'
  /** `success_num` disagrees with the records whose code is `SUCCESS`. */
  | 'success_num_mismatch'
  /** The same `trade_no` twice in one batch's `result_details`. */
  | 'duplicate_refund_result'
  /** Alipay says the trade is closed but the ledger knows no refund that explains it. */
  | 'trade_closed_without_refund'
  /** Alipay's answers about one batch contradict each other (accepted and rejected, two results). */
  | 'conflicting_batch_outcome';
