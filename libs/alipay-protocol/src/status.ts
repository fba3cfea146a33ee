// Trade and refund status semantics (docs/alipay-protocol.md, "Statuses"; docs/product-rules.md, "Rules").

/**
 * Every `trade_status` value Alipay sends for the two payment services (docs/alipay-protocol.md,
 * "Instant trades" and "Escrow trades").
 */
export const TRADE_STATUSES = [
  'WAIT_BUYER_PAY',
  'TRADE_PENDING',
  'WAIT_SELLER_SEND_GOODS',
  'WAIT_BUYER_CONFIRM_GOODS',
  'TRADE_SUCCESS',
  'TRADE_FINISHED',
  'TRADE_CLOSED',
] as const;

export type TradeStatus = (typeof TRADE_STATUSES)[number];

/**
 * Every `refund_status` value: `REFUND_SUCCESS`/`REFUND_CLOSED` for instant trades, the rest for the
 * buyer-initiated escrow refund flow (docs/alipay-protocol.md, "Escrow refunds").
 */
export const REFUND_STATUSES = [
  'REFUND_SUCCESS',
  'REFUND_CLOSED',
  'WAIT_SELLER_AGREE',
  'SELLER_REFUSE_BUYER',
  'WAIT_BUYER_RETURN_GOODS',
  'WAIT_SELLER_CONFIRM_GOODS',
] as const;

export type RefundStatus = (typeof REFUND_STATUSES)[number];

export type PaymentType = 'instant' | 'escrow';

export type RefundOutcome = 'full' | 'partial' | 'in_progress' | 'refused' | 'closed' | 'none';

const TRADE_STATUS_SET: ReadonlySet<string> = new Set(TRADE_STATUSES);
const REFUND_STATUS_SET: ReadonlySet<string> = new Set(REFUND_STATUSES);

/** Narrows a wire value to a known trade status (exact, case-sensitive). */
export function isTradeStatus(value: string): value is TradeStatus {
  return TRADE_STATUS_SET.has(value);
}

/** Narrows a wire value to a known refund status (exact, case-sensitive). */
export function isRefundStatus(value: string): value is RefundStatus {
  return REFUND_STATUS_SET.has(value);
}

// docs/alipay-protocol.md, "Status rank": notifications arrive out of order, so a status whose rank is not
// greater than the current one is stale. TRADE_PENDING (paid, seller account frozen) sits with the first
// escrow step: the buyer's money has left but the seller cannot use it yet. The two terminal statuses share a
// rank so that a TRADE_FINISHED after a full refund (TRADE_CLOSED) is no progress (docs/alipay-protocol.md,
// "Refunds on the trade").
const TRADE_STATUS_RANK: Readonly<Record<TradeStatus, number>> = {
  WAIT_BUYER_PAY: 0,
  TRADE_PENDING: 1,
  WAIT_SELLER_SEND_GOODS: 1,
  WAIT_BUYER_CONFIRM_GOODS: 2,
  TRADE_SUCCESS: 3,
  TRADE_FINISHED: 4,
  TRADE_CLOSED: 4,
};

/**
 * Monotonic rank of a trade status: a notification whose status ranks at or below the status already
 * recorded brings no progress (it is a retry of an older notification, or a sibling terminal status).
 * `WAIT_BUYER_PAY` 0 < `TRADE_PENDING` = `WAIT_SELLER_SEND_GOODS` 1 < `WAIT_BUYER_CONFIRM_GOODS` 2 <
 * `TRADE_SUCCESS` 3 < `TRADE_FINISHED` = `TRADE_CLOSED` 4.
 */
export function tradeStatusRank(status: TradeStatus): number {
  return TRADE_STATUS_RANK[status];
}

/**
 * Whether the status means the buyer's payment reached the seller (instant) or escrow: `TRADE_SUCCESS`,
 * `TRADE_FINISHED`, `WAIT_SELLER_SEND_GOODS`, `WAIT_BUYER_CONFIRM_GOODS`. Not `TRADE_PENDING` (the seller
 * has not received the funds; deliver only once it moves on) and not `TRADE_CLOSED` (which alone does not
 * say whether anything was ever paid).
 */
export function isPaidStatus(status: TradeStatus): boolean {
  switch (status) {
    case 'WAIT_SELLER_SEND_GOODS':
    case 'WAIT_BUYER_CONFIRM_GOODS':
    case 'TRADE_SUCCESS':
    case 'TRADE_FINISHED':
      return true;
    case 'WAIT_BUYER_PAY':
    case 'TRADE_PENDING':
    case 'TRADE_CLOSED':
      return false;
  }
}

/** `TRADE_FINISHED` and `TRADE_CLOSED`: no later status can move the trade on. */
export function isTerminalTradeStatus(status: TradeStatus): boolean {
  return status === 'TRADE_FINISHED' || status === 'TRADE_CLOSED';
}

function isEscrowStep(status: TradeStatus | undefined): boolean {
  return status === 'WAIT_SELLER_SEND_GOODS' || status === 'WAIT_BUYER_CONFIRM_GOODS';
}

/**
 * Infers instant vs escrow as the official `trade_create_by_buyer` guide describes (docs/alipay-protocol.md,
 * "Instant or escrow"; docs/product-rules.md, "Payment type"): `WAIT_SELLER_SEND_GOODS` /
 * `WAIT_BUYER_CONFIRM_GOODS` exist only in escrow; `TRADE_SUCCESS` only in instant trades; `TRADE_FINISHED`
 * is escrow after an escrow step and instant when it follows nothing, `WAIT_BUYER_PAY`, `TRADE_PENDING` or
 * `TRADE_SUCCESS`. `undefined` when the pair says nothing (e.g. `TRADE_CLOSED`, or `TRADE_FINISHED` after a
 * terminal status).
 */
export function inferPaymentType(
  previous: TradeStatus | undefined,
  next: TradeStatus,
): PaymentType | undefined {
  switch (next) {
    case 'WAIT_SELLER_SEND_GOODS':
    case 'WAIT_BUYER_CONFIRM_GOODS':
      return 'escrow';
    case 'TRADE_SUCCESS':
    case 'TRADE_PENDING':
      return 'instant';
    case 'TRADE_FINISHED':
      if (isEscrowStep(previous)) return 'escrow';
      if (previous === undefined || previous === 'WAIT_BUYER_PAY' || previous === 'TRADE_PENDING') {
        return 'instant';
      }
      return previous === 'TRADE_SUCCESS' ? 'instant' : undefined;
    case 'WAIT_BUYER_PAY':
    case 'TRADE_CLOSED':
      return undefined;
  }
}

/**
 * What a `trade_status` + `refund_status` pair says about refunds (docs/alipay-protocol.md, "Instant trades"
 * and "Escrow refunds"): `REFUND_SUCCESS` with `TRADE_CLOSED` is a full refund, with any other status a
 * partial one; `SELLER_REFUSE_BUYER` is `refused` (the buyer may apply again); `REFUND_CLOSED` is `closed`
 * (the trade goes on); the escrow waiting steps are `in_progress`; no refund status is `none`.
 */
export function refundOutcome(
  tradeStatus: TradeStatus,
  refundStatus: RefundStatus | undefined,
): RefundOutcome {
  if (refundStatus === undefined) return 'none';
  switch (refundStatus) {
    case 'REFUND_SUCCESS':
      return tradeStatus === 'TRADE_CLOSED' ? 'full' : 'partial';
    case 'REFUND_CLOSED':
      return 'closed';
    case 'SELLER_REFUSE_BUYER':
      return 'refused';
    case 'WAIT_SELLER_AGREE':
    case 'WAIT_BUYER_RETURN_GOODS':
    case 'WAIT_SELLER_CONFIRM_GOODS':
      return 'in_progress';
  }
}

// The escrow refund machine (docs/alipay-protocol.md, "Escrow refunds") is not monotonic (SELLER_REFUSE_BUYER
// ↔ WAIT_SELLER_AGREE), so it cannot be ranked; this table lists the moves the official guide documents, plus
// two inferred ones: a withdrawal (REFUND_CLOSED) from any open step, and a new application or (instant
// trades) another partial refund after a refund has ended.
const REFUND_STATUS_SUCCESSORS: Readonly<Record<RefundStatus | 'NONE', readonly RefundStatus[]>> = {
  NONE: ['WAIT_SELLER_AGREE', 'REFUND_SUCCESS'],
  WAIT_SELLER_AGREE: ['WAIT_BUYER_RETURN_GOODS', 'SELLER_REFUSE_BUYER', 'REFUND_SUCCESS', 'REFUND_CLOSED'],
  SELLER_REFUSE_BUYER: ['WAIT_SELLER_AGREE', 'REFUND_CLOSED'],
  WAIT_BUYER_RETURN_GOODS: ['WAIT_SELLER_CONFIRM_GOODS', 'REFUND_CLOSED'],
  WAIT_SELLER_CONFIRM_GOODS: ['REFUND_SUCCESS', 'REFUND_CLOSED'],
  REFUND_SUCCESS: ['REFUND_SUCCESS', 'WAIT_SELLER_AGREE'],
  REFUND_CLOSED: ['WAIT_SELLER_AGREE', 'REFUND_SUCCESS'],
};

/**
 * Whether `next` is a documented successor of `previous` in the refund machine (`undefined` = no refund
 * yet). A `false` does not make the notification invalid (intermediate notifications can be lost or
 * late); it marks a jump worth recording.
 */
export function isExpectedRefundTransition(previous: RefundStatus | undefined, next: RefundStatus): boolean {
  return REFUND_STATUS_SUCCESSORS[previous ?? 'NONE'].includes(next);
}
