/** The order statuses (docs/product-rules.md, "Order status"). */
export type OrderStatus =
  | 'awaiting_payment'
  | 'paid'
  | 'shipped'
  | 'finished'
  | 'closed'
  | 'refunded'
  | 'partially_refunded'
  | 'refund_closed';

/**
 * The `status` codes of the common PHP integration (docs/product-rules.md, "Order status"): 0 awaiting
 * payment, 8 paid, 4 finished, 32 closed, 105 refunded, 106 refund closed.
 */
export type PhpStatusCode = 0 | 8 | 4 | 32 | 105 | 106;
