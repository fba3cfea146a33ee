import type { RefundStatus } from '@ledger/alipay-protocol';
import type { Fen } from '../values';
import type { OpenRefundStatus } from './order-events';
import type { OrderState } from './order-state';
import type { OrderStatus, PhpStatusCode } from './order-status';

// Pure readings of an order's state for the projections (docs/product-rules.md, "Projections"). A projection
// rebuilt from the events alone calls the same functions, so it reaches the same answers.

export type { OrderStatus, PhpStatusCode } from './order-status';

export interface OrderStatusView {
  status: OrderStatus;
  /** `null` where the PHP integration has no code (`shipped`, `partially_refunded`). */
  statusCode: PhpStatusCode | null;
}

export type DeliveryDecision = 'none' | 'pending' | 'delivered' | 'blocked';
export type ReturnDecision = 'none' | 'pending' | 'returned' | 'manual_review';
export type ShippingDecision = 'none' | 'pending' | 'confirmed' | 'failed';

const OPEN_REFUND_STATUSES: ReadonlySet<RefundStatus> = new Set<OpenRefundStatus>([
  'WAIT_SELLER_AGREE',
  'WAIT_BUYER_RETURN_GOODS',
  'WAIT_SELLER_CONFIRM_GOODS',
]);

/**
 * Whether a buyer's refund request is open in the escrow negotiation (docs/alipay-protocol.md,
 * "Escrow refunds").
 */
export function isRefundRequestOpen(state: OrderState): boolean {
  return state.refundStatus !== undefined && OPEN_REFUND_STATUSES.has(state.refundStatus);
}

/** Amounts reserved by batches in flight that no trade-channel full refund has already counted. */
export function reservedFee(state: OrderState): Fen {
  return state.batchRefunds
    .filter((entry) => entry.status === 'reserved' && !entry.coveredByFullRefund)
    .reduce((sum, entry) => sum + entry.amount, 0);
}

/**
 * What a new batch may still refund: paid − refunded − reserved (docs/product-rules.md, "No over-refund";
 * docs/events.md, "Batch refunds on the order"), never negative.
 */
export function refundableFee(state: OrderState): Fen {
  return state.paid ? Math.max(0, state.paidFee - state.refundedFee - reservedFee(state)) : 0;
}

/** The whole payment is refunded: counted in full, or the trade closed because of refunds. */
export function isFullyRefunded(state: OrderState): boolean {
  return state.paid && (state.refundedFee >= state.paidFee || state.closed === 'refunded');
}

/** Some money went back, or Alipay reported a partial refund whose amount it did not say. */
function isPartlyRefunded(state: OrderState): boolean {
  return state.refundedFee > 0 || state.partialRefundReported;
}

/**
 * The order's docs/product-rules.md, "Order status" status and PHP code, or `undefined` for a stream that
 * only holds anomalies about an order the ledger never placed. Precedence: refunded, closed, partially
 * refunded, finished, refund closed, shipped, paid, awaiting payment — money and endings first, because they
 * decide what the merchant must do.
 */
export function orderStatusOf(state: OrderState): OrderStatusView | undefined {
  if (state.placed === undefined) return undefined;
  const factual = statusOfFacts(state);
  // An imported status shows what the PHP integration showed, until the facts reach as far (docs/events.md,
  // "OrderStatusImported").
  const imported = state.importedStatus;
  if (
    imported !== undefined &&
    STATUS_PRECEDENCE.indexOf(imported.status) < STATUS_PRECEDENCE.indexOf(factual.status)
  ) {
    return imported;
  }
  return factual;
}

/** The statuses in the order of `orderStatusOf`'s precedence: money and endings first. */
export const STATUS_PRECEDENCE: readonly OrderStatus[] = [
  'refunded',
  'closed',
  'partially_refunded',
  'finished',
  'refund_closed',
  'shipped',
  'paid',
  'awaiting_payment',
];

/** The status the recorded facts alone give. */
export function statusOfFacts(state: OrderState): OrderStatusView {
  if (isFullyRefunded(state)) return { status: 'refunded', statusCode: 105 };
  if (state.closed !== undefined) return { status: 'closed', statusCode: 32 };
  if (isPartlyRefunded(state)) return { status: 'partially_refunded', statusCode: null };
  if (state.finished) return { status: 'finished', statusCode: 4 };
  if (state.refundStatus === 'REFUND_CLOSED') return { status: 'refund_closed', statusCode: 106 };
  if (state.shipped) return { status: 'shipped', statusCode: null };
  if (state.paid) return { status: 'paid', statusCode: 8 };
  return { status: 'awaiting_payment', statusCode: 0 };
}

/**
 * Whether the order is to be delivered (docs/product-rules.md, "Delivery decisions"): exactly once, when its
 * payment is recognised and matched; `blocked` while it is closed, refunded (or a full refund is in flight),
 * anomalous (an anomaly no operator accepted), or the buyer's refund request is open. A block can lift (a refund request closed); a delivery
 * never repeats.
 */
export function deliveryDecision(state: OrderState): DeliveryDecision {
  if (state.delivered) return 'delivered';
  // The PHP integration delivered what it sold; the ledger only keeps its history.
  if (state.placed?.imported !== undefined) return 'none';
  // An anomaly an operator accepted no longer blocks (docs/product-rules.md, "Operator resolutions").
  if (state.anomalies.some((anomaly) => anomaly.resolution !== 'accepted')) return 'blocked';
  if (state.placed === undefined || !state.paid) return 'none';
  if (
    state.closed !== undefined ||
    isFullyRefunded(state) ||
    state.refundedFee + reservedFee(state) >= state.paidFee ||
    isRefundRequestOpen(state)
  ) {
    return 'blocked';
  }
  return 'pending';
}

/**
 * Whether goods are to be taken back (docs/product-rules.md, "Return decisions"): once, when a delivered
 * order is fully refunded; a delivered order partly refunded goes to manual review; an order never delivered
 * has nothing to take back.
 */
export function returnDecision(state: OrderState): ReturnDecision {
  if (state.returned) return 'returned';
  if (!state.delivered) return 'none';
  if (isFullyRefunded(state)) return 'pending';
  if (isPartlyRefunded(state)) return 'manual_review';
  return 'none';
}

/**
 * Whether `send_goods_confirm_by_platform` is due (docs/fulfilment.md, "Escrow shipping"): for a delivered
 * escrow trade that Alipay does not yet see shipped, until confirmed or refused for good; not once the trade
 * closed or was refunded.
 */
export function shippingDecision(state: OrderState): ShippingDecision {
  if (state.paymentType !== 'escrow' || state.placed?.imported !== undefined) return 'none';
  if (state.shipping.confirmed || state.shipped) return 'confirmed';
  if (!state.delivered || state.closed !== undefined || state.finished || isFullyRefunded(state)) {
    return 'none';
  }
  return state.shipping.gaveUp ? 'failed' : 'pending';
}
