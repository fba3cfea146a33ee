import { SANDBOX_BUYER, type Trade } from './trade';

// The trade and refund state machines of docs/alipay-protocol.md, "Instant trades", "Escrow refunds" and
// "Escrow trades", as Alipay runs them on its side. Pure: the caller gives the instant; refusals carry the
// code Alipay would answer.

export const TRADE_ACTIONS = [
  'pay-instant',
  'pay-escrow',
  'close',
  'ship',
  'confirm-receipt',
  'finish',
  'request-refund',
  'agree-refund',
  'refuse-refund',
  'return-goods',
  'confirm-return',
] as const;

export type TradeAction = (typeof TRADE_ACTIONS)[number];

/** Who takes an action on Alipay's pages: the buyer, the seller, or Alipay itself (timeouts). */
export const ACTION_ROLES: Readonly<Record<TradeAction, 'buyer' | 'seller' | 'alipay'>> = {
  'pay-instant': 'buyer',
  'pay-escrow': 'buyer',
  'confirm-receipt': 'buyer',
  'request-refund': 'buyer',
  'return-goods': 'buyer',
  ship: 'seller',
  'agree-refund': 'seller',
  'refuse-refund': 'seller',
  'confirm-return': 'seller',
  close: 'alipay',
  finish: 'alipay',
};

export type ActionOutcome =
  | { readonly ok: true; readonly trade: Trade }
  | { readonly ok: false; readonly code: string; readonly message: string };

export interface Shipment {
  readonly logisticsName: string;
  readonly invoiceNo?: string;
  readonly transportType: string;
}

const refuse = (code: string, message: string): ActionOutcome => ({ ok: false, code, message });
const notAvailable = (trade: Trade, action: TradeAction): ActionOutcome =>
  refuse(
    'TRADE_STATUS_NOT_AVAILD',
    `${action} is not possible in ${trade.tradeStatus}${trade.refundStatus === undefined ? '' : ` / ${trade.refundStatus}`}`,
  );

function fullRefund(trade: Trade, now: Date): Trade {
  return {
    ...trade,
    tradeStatus: 'TRADE_CLOSED',
    refundStatus: 'REFUND_SUCCESS',
    refundedFee: trade.terms.totalFee,
    gmtRefund: now,
    gmtClose: now,
  };
}

/**
 * Applies an action to a trade. Instant payment gives `TRADE_SUCCESS` for create_direct_pay_by_user (the
 * refundable "advanced" product) and `TRADE_FINISHED` for trade_create_by_buyer (docs/alipay-protocol.md,
 * "Instant trades": that is how a merchant tells the buyer chose instant). Escrow refunds are the buyer's
 * full-amount request (docs/alipay-protocol.md, "Escrow refunds").
 */
export function applyTradeAction(
  trade: Trade,
  action: TradeAction,
  now: Date,
  shipment?: Shipment,
): ActionOutcome {
  const status = trade.tradeStatus;
  const refund = trade.refundStatus;
  const escrow = trade.paymentType === 'escrow';
  switch (action) {
    case 'pay-instant':
    case 'pay-escrow': {
      if (status !== 'WAIT_BUYER_PAY') {
        return refuse('TRADE_NOT_ALLOWED_PAY', `the trade is ${status}: it cannot be paid again`);
      }
      const paid = { ...trade, buyerId: SANDBOX_BUYER.id, buyerEmail: SANDBOX_BUYER.email, gmtPayment: now };
      if (action === 'pay-escrow') {
        if (trade.terms.service !== 'trade_create_by_buyer') {
          return refuse('TRADE_STATUS_NOT_AVAILD', 'escrow is offered only by trade_create_by_buyer');
        }
        return { ok: true, trade: { ...paid, tradeStatus: 'WAIT_SELLER_SEND_GOODS', paymentType: 'escrow' } };
      }
      return trade.terms.service === 'trade_create_by_buyer'
        ? {
            ok: true,
            trade: { ...paid, tradeStatus: 'TRADE_FINISHED', paymentType: 'instant', gmtClose: now },
          }
        : { ok: true, trade: { ...paid, tradeStatus: 'TRADE_SUCCESS', paymentType: 'instant' } };
    }
    case 'close':
      if (status !== 'WAIT_BUYER_PAY') return notAvailable(trade, action);
      return { ok: true, trade: { ...trade, tradeStatus: 'TRADE_CLOSED', gmtClose: now } };
    case 'ship':
      if (status !== 'WAIT_SELLER_SEND_GOODS' || refund === 'WAIT_SELLER_AGREE') {
        return notAvailable(trade, action);
      }
      return {
        ok: true,
        trade: {
          ...trade,
          tradeStatus: 'WAIT_BUYER_CONFIRM_GOODS',
          gmtSendGoods: now,
          shipment: shipment ?? { logisticsName: 'sandbox express', transportType: 'EXPRESS' },
        },
      };
    case 'confirm-receipt':
      if (status !== 'WAIT_BUYER_CONFIRM_GOODS') return notAvailable(trade, action);
      if (refund === 'WAIT_BUYER_RETURN_GOODS' || refund === 'WAIT_SELLER_CONFIRM_GOODS') {
        return notAvailable(trade, action);
      }
      // docs/alipay-protocol.md, "Escrow refunds": a refused or pending refund ends as REFUND_CLOSED when the
      // buyer confirms receipt.
      return {
        ok: true,
        trade: {
          ...trade,
          tradeStatus: 'TRADE_FINISHED',
          gmtClose: now,
          ...(refund === 'WAIT_SELLER_AGREE' || refund === 'SELLER_REFUSE_BUYER'
            ? { refundStatus: 'REFUND_CLOSED' as const }
            : {}),
        },
      };
    case 'finish':
      // The refund window of an instant trade ends (docs/alipay-protocol.md, "Instant trades").
      if (status !== 'TRADE_SUCCESS') return notAvailable(trade, action);
      return { ok: true, trade: { ...trade, tradeStatus: 'TRADE_FINISHED', gmtClose: now } };
    case 'request-refund':
      if (!escrow) {
        return refuse(
          'TRADE_STATUS_NOT_AVAILD',
          "an instant trade is refunded by the merchant's batch refund, not by the buyer",
        );
      }
      if (status !== 'WAIT_SELLER_SEND_GOODS' && status !== 'WAIT_BUYER_CONFIRM_GOODS') {
        return notAvailable(trade, action);
      }
      if (refund !== undefined && refund !== 'SELLER_REFUSE_BUYER' && refund !== 'REFUND_CLOSED') {
        return notAvailable(trade, action);
      }
      return { ok: true, trade: { ...trade, refundStatus: 'WAIT_SELLER_AGREE' } };
    case 'agree-refund':
      if (refund !== 'WAIT_SELLER_AGREE') return notAvailable(trade, action);
      // Goods not sent: the money goes back at once; goods sent: they come back first
      // (docs/alipay-protocol.md, "Escrow refunds").
      return status === 'WAIT_SELLER_SEND_GOODS'
        ? { ok: true, trade: fullRefund(trade, now) }
        : { ok: true, trade: { ...trade, refundStatus: 'WAIT_BUYER_RETURN_GOODS' } };
    case 'refuse-refund':
      if (refund !== 'WAIT_SELLER_AGREE') return notAvailable(trade, action);
      return { ok: true, trade: { ...trade, refundStatus: 'SELLER_REFUSE_BUYER' } };
    case 'return-goods':
      if (refund !== 'WAIT_BUYER_RETURN_GOODS') return notAvailable(trade, action);
      return { ok: true, trade: { ...trade, refundStatus: 'WAIT_SELLER_CONFIRM_GOODS' } };
    case 'confirm-return':
      if (refund !== 'WAIT_SELLER_CONFIRM_GOODS') return notAvailable(trade, action);
      return { ok: true, trade: fullRefund(trade, now) };
  }
}

/** The actions possible now, in the order a page shows them. */
export function availableActions(trade: Trade, now: Date): TradeAction[] {
  return TRADE_ACTIONS.filter((action) => applyTradeAction(trade, action, now).ok);
}

/**
 * The outcome of one batch refund record against a trade (docs/alipay-protocol.md, "detail_data",
 * "Batch refund results" and "nopwd answer").
 */
export type RecordRefund =
  { readonly code: 'SUCCESS'; readonly trade: Trade } | { readonly code: string; readonly trade?: undefined };

/**
 * Refunds `amount` fen of an instant trade for one `detail_data` record: partial refunds keep
 * `TRADE_SUCCESS`, the last one closes the trade (docs/alipay-protocol.md, "Instant trades"). The failure
 * codes are those of docs/alipay-protocol.md, "Error codes": `TRADE_HAS_CLOSED` for a closed (usually fully
 * refunded) trade, `TRADE_STATUS_ERROR` outside the refund window, `REASON_TRADE_REFUND_FEE_ERR` for more
 * than what remains refundable. A trade_no the sandbox never issued is `TRADE_NOT_EXIST`.
 */
export function refundRecord(
  trade: Trade | undefined,
  partner: string,
  amount: number,
  now: Date,
): RecordRefund {
  if (trade === undefined) return { code: 'TRADE_NOT_EXIST' };
  if (trade.partner !== partner) return { code: 'NOT_THIS_PARTNERS_TRADE' };
  if (trade.paymentType === 'escrow') return { code: 'TRADE_PRODUCT_TYPE_NOT_ALLOW_REFUND' };
  if (trade.tradeStatus === 'TRADE_CLOSED') return { code: 'TRADE_HAS_CLOSED' };
  if (trade.tradeStatus !== 'TRADE_SUCCESS') return { code: 'TRADE_STATUS_ERROR' };
  const refunded = trade.refundedFee + amount;
  if (refunded > trade.terms.totalFee) return { code: 'REASON_TRADE_REFUND_FEE_ERR' };
  const full = refunded === trade.terms.totalFee;
  return {
    code: 'SUCCESS',
    trade: {
      ...trade,
      refundedFee: refunded,
      refundStatus: 'REFUND_SUCCESS',
      gmtRefund: now,
      ...(full ? { tradeStatus: 'TRADE_CLOSED' as const, gmtClose: now } : {}),
    },
  };
}
