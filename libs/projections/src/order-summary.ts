import type { PaymentType, RefundStatus, TradeStatus } from '@ledger/alipay-protocol';
import {
  deliveryDecision,
  orderStatusOf,
  returnDecision,
  shippingDecision,
  type OrderState,
  type AnomalyKind,
  DeliveryDecision,
  Fen,
  OrderStatus,
  PaymentService,
  PhpStatusCode,
  ReturnDecision,
  ShippingDecision,
} from '@ledger/domain';

/**
 * One order as the `order_status` projection holds it (docs/product-rules.md, "Order status",
 * "Delivery decisions" and "Return decisions"). Amounts are integer fen; instants are ISO 8601 UTC strings
 * taken from the events' `recordedAt`, so a rebuild reproduces every field exactly. An order stream that only
 * holds anomalies (notifications for an order this ledger never placed) has `placed: false` and no `status`.
 */
export interface OrderSummary {
  outTradeNo: string;
  placed: boolean;
  service: PaymentService | null;
  subject: string | null;
  totalFee: Fen | null;
  tradeNo: string | null;
  /** The status (docs/product-rules.md, "Order status"); null while the order was never placed. */
  status: OrderStatus | null;
  /** The common PHP integration's code where one exists (docs/product-rules.md, "Order status"). */
  statusCode: PhpStatusCode | null;
  /** Alipay's most advanced `trade_status` and latest `refund_status`. */
  tradeStatus: TradeStatus | null;
  refundStatus: RefundStatus | null;
  paymentType: PaymentType | null;
  paidFee: Fen;
  refundedFee: Fen;
  buyerId: string | null;
  buyerEmail: string | null;
  deliveryState: DeliveryDecision;
  returnState: ReturnDecision;
  /**
   * Whether `send_goods_confirm_by_platform` is due for an escrow trade (docs/fulfilment.md,
   * "Escrow shipping").
   */
  shippingState: ShippingDecision;
  anomalies: OrderAnomaly[];
  /** When the ledger recorded the stream's first event. */
  createdAt: string;
  /** When the ledger recorded the last event applied. */
  updatedAt: string;
  /** The order stream's version after the last event applied. */
  version: number;
  /** The global position of the last event applied. */
  lastPosition: number;
}

export interface OrderAnomaly {
  kind: AnomalyKind;
  detail: string;
  /** An operator's decision on it (docs/product-rules.md, "Operator resolutions"); absent while open. */
  resolution?: 'accepted' | 'confirmed';
}

/** Where a folded state stands in its stream, for `orderSummaryOf`. */
export interface OrderStreamPosition {
  version: number;
  lastPosition: number;
  /** The recorded time of the stream's first event. */
  createdAt: string;
  /** The recorded time of the last event folded. */
  updatedAt: string;
}

/**
 * The summary of a folded order state, column for column what the `order_status` projection stores: for
 * what reads an order at one version of its stream (the webhooks, docs/webhooks.md, "Payload").
 */
export function orderSummaryOf(outTradeNo: string, state: OrderState, at: OrderStreamPosition): OrderSummary {
  const view = orderStatusOf(state);
  return {
    outTradeNo,
    placed: state.placed !== undefined,
    service: state.placed?.service ?? null,
    subject: state.placed?.subject ?? null,
    totalFee: state.placed?.totalFee ?? null,
    tradeNo: state.tradeNo ?? null,
    status: view?.status ?? null,
    statusCode: view?.statusCode ?? null,
    tradeStatus: state.tradeStatus ?? null,
    refundStatus: state.refundStatus ?? null,
    paymentType: state.paymentType ?? null,
    paidFee: state.paidFee,
    refundedFee: state.refundedFee,
    buyerId: state.buyerId ?? null,
    buyerEmail: state.buyerEmail ?? null,
    deliveryState: deliveryDecision(state),
    returnState: returnDecision(state),
    shippingState: shippingDecision(state),
    anomalies: state.anomalies.map(({ kind, detail }) => ({ kind, detail })),
    createdAt: at.createdAt,
    updatedAt: at.updatedAt,
    version: at.version,
    lastPosition: at.lastPosition,
  };
}
