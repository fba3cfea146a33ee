/**
 * Every reason the domain refuses a command from the merchant's side. Bad *Alipay* input is
 * never an error: it becomes `AnomalyDetected` or no event at all.
 */
export type DomainErrorCode =
  /** `out_trade_no` empty, longer than 64 characters, or outside `[A-Za-z0-9_-]`. */
  | 'INVALID_OUT_TRADE_NO'
  /** A field of `PlaceOrder` is invalid; `field` names it. */
  | 'INVALID_ORDER'
  /** The same `out_trade_no` placed again with different data (Alipay: `TRADE_DATA_MATCH_ERROR`). */
  | 'ORDER_CONFLICT'
  /** The order was never placed. */
  | 'ORDER_NOT_FOUND'
  /** A refund was asked for an order whose payment the ledger has not recognised. */
  | 'ORDER_NOT_PAID'
  /**
   * The trade cannot be refunded by a batch: escrow, finished or closed (docs/alipay-protocol.md,
   * "Batch refunds").
   */
  | 'REFUND_NOT_ALLOWED'
  /**
   * The amount exceeds paid − refunded − reserved by batches in flight (docs/product-rules.md,
   * "No over-refund").
   */
  | 'REFUND_EXCEEDS_REFUNDABLE'
  /** The same batch reserved again on an order with a different amount. */
  | 'REFUND_RESERVATION_CONFLICT'
  /**
   * A refund batch breaks a rule of `batch_no` or `detail_data` (docs/alipay-protocol.md, "Batch refunds");
   * `field` names the offending part.
   */
  | 'INVALID_BATCH'
  /** The same `batch_no` submitted again with different content. */
  | 'BATCH_CONFLICT'
  /** A batch command for a `batch_no` that was never submitted. */
  | 'BATCH_NOT_FOUND'
  /** Delivery recorded for an order that was never due for delivery. */
  | 'DELIVERY_NOT_DUE'
  /** A return recorded for an order that is not due for one. */
  | 'RETURN_NOT_DUE'
  /** A shipping confirmation outcome recorded for an order that is not waiting for one. */
  | 'SHIPPING_NOT_DUE'
  /** An operator resolution without a usable operator name or reason; `field` names it. */
  | 'INVALID_RESOLUTION'
  /** A cancellation of a batch that is not a `pwd` batch waiting for confirmation. */
  | 'BATCH_NOT_CANCELLABLE'
  /** An operator's mark for a batch whose outcome is not unknown. */
  | 'BATCH_OUTCOME_NOT_UNKNOWN'
  /** An anomaly resolution for an order without an anomaly left to resolve. */
  | 'NO_OPEN_ANOMALY';

/** The one error type of the domain: a code from a fixed list, a precise message, and the field at fault. */
export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
