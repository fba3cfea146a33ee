import type { PaymentType, RefundStatus, TradeStatus } from '@ledger/alipay-protocol';
import type { AnomalyKind } from '../anomaly';
import type { Fen, Instant, NotificationSource } from '../values';
import type { OrderStatus, PhpStatusCode } from './order-status';

// The events of an order stream `order-<out_trade_no>` (docs/product-rules.md, "Streams"). `type` is the name
// in docs/product-rules.md, "Events"; payloads are version 1 (docs/events.md). Amounts are integer fen,
// instants ISO strings.

/** The two payment services an order can be placed with (docs/alipay-protocol.md, "Services"). */
export type PaymentService = 'create_direct_pay_by_user' | 'trade_create_by_buyer';

/**
 * Which Alipay notification an event comes from: the de-duplication key and its times
 * (docs/alipay-protocol.md, "Idempotency keys").
 */
export interface NotificationRef {
  notifyId: string;
  notifyTime: Instant;
  source: NotificationSource;
}

/**
 * The refund statuses of the escrow negotiation that keep a buyer's refund request open
 * (docs/alipay-protocol.md, "Escrow refunds").
 */
export type OpenRefundStatus = 'WAIT_SELLER_AGREE' | 'WAIT_BUYER_RETURN_GOODS' | 'WAIT_SELLER_CONFIRM_GOODS';

export interface OrderPlaced {
  type: 'OrderPlaced';
  data: {
    outTradeNo: string;
    subject: string;
    body?: string;
    totalFee: Fen;
    service: PaymentService;
    sellerId: string;
    /**
     * The request parameters exactly as sent to Alipay, unsigned. Frozen: every payment URL for this order
     * is built from them, because Alipay answers `TRADE_DATA_MATCH_ERROR` to a changed request
     * (docs/product-rules.md, "Frozen orders").
     */
    requestParameters: Readonly<Record<string, string>>;
    placedAt: Instant;
    /**
     * Set when the order was read from the order table of the PHP integration that took payments before
     * this ledger (docs/operations.md, "Importing a PHP integration's history"): that site delivered its
     * goods, so the ledger never acts on it (no delivery, return or shipping decision). Absent: placed here.
     */
    imported?: { source: string };
  };
}

/** Alipay created the trade and waits: `WAIT_BUYER_PAY`, or `TRADE_PENDING` (the seller cannot receive yet). */
export interface PaymentAwaited {
  type: 'PaymentAwaited';
  data: NotificationRef & {
    outTradeNo: string;
    tradeNo: string;
    tradeStatus: 'WAIT_BUYER_PAY' | 'TRADE_PENDING';
    gmtCreate?: Instant;
  };
}

/** The payment is recognised, once per order (docs/alipay-protocol.md, "Idempotency keys"). */
export interface PaymentSucceeded {
  type: 'PaymentSucceeded';
  data: NotificationRef & {
    outTradeNo: string;
    tradeNo: string;
    paymentType: PaymentType;
    paidFee: Fen;
    buyerId?: string;
    buyerEmail?: string;
    gmtPayment?: Instant;
    /** The status that proved the payment; with a refund status when a refund notice implied it. */
    tradeStatus: TradeStatus;
    refundStatus?: RefundStatus;
  };
}

/** Alipay reports the goods of an escrow trade shipped (`WAIT_BUYER_CONFIRM_GOODS`, or implied by its end). */
export interface GoodsShipped {
  type: 'GoodsShipped';
  data: NotificationRef & {
    outTradeNo: string;
    tradeNo: string;
    gmtSendGoods?: Instant;
    /** True when the notification skipped the shipping step and only its end (`TRADE_FINISHED`) implies it. */
    implied: boolean;
  };
}

export interface TradeFinished {
  type: 'TradeFinished';
  data: NotificationRef & { outTradeNo: string; tradeNo: string; gmtClose?: Instant };
}

/** Why the trade closed: never paid, fully refunded, or for no reason the ledger knows (an anomaly too). */
export type TradeClosedReason = 'unpaid' | 'refunded' | 'unexplained';

export interface TradeClosed {
  type: 'TradeClosed';
  data: NotificationRef & {
    outTradeNo: string;
    tradeNo: string;
    reason: TradeClosedReason;
    gmtClose?: Instant;
  };
}

/** A refund asked: by the merchant in a batch (reserving the amount), or by the buyer on an escrow trade. */
export interface RefundRequested {
  type: 'RefundRequested';
  data:
    | {
        channel: 'batch';
        outTradeNo: string;
        tradeNo: string;
        batchNo: string;
        /** Reserved until the batch's result or rejection: counted in nothing but the refundable amount. */
        amount: Fen;
        reason: string;
        requestedAt: Instant;
      }
    | (NotificationRef & {
        channel: 'trade';
        outTradeNo: string;
        tradeNo: string;
        refundStatus: OpenRefundStatus;
        gmtRefund?: Instant;
      });
}

/** The seller refused the buyer's refund request (`SELLER_REFUSE_BUYER`); the buyer may apply again. */
export interface RefundRefused {
  type: 'RefundRefused';
  data: NotificationRef & {
    outTradeNo: string;
    tradeNo: string;
    refundStatus: 'SELLER_REFUSE_BUYER';
    gmtRefund?: Instant;
  };
}

/**
 * A refund happened. `countedFee` is what this event adds to the order's refunded total, so that a refund
 * seen on both channels counts once (docs/events.md, "One refund, two channels").
 */
export interface RefundSucceeded {
  type: 'RefundSucceeded';
  data:
    | {
        channel: 'batch';
        outTradeNo: string;
        tradeNo: string;
        batchNo: string;
        /** The record's amount in `result_details`. */
        amount: Fen;
        /**
         * `SUCCESS`, or `TRADE_HAS_CLOSED` read as "already refunded" (docs/alipay-protocol.md,
         * "Batch refund results").
         */
        resultCode: 'SUCCESS' | 'TRADE_HAS_CLOSED';
        countedFee: Fen;
        notifyId: string;
        notifyTime: Instant;
      }
    | (NotificationRef & {
        channel: 'trade';
        outTradeNo: string;
        tradeNo: string;
        refundStatus: 'REFUND_SUCCESS';
        /**
         * `TRADE_CLOSED` + `REFUND_SUCCESS`: the whole payment is refunded (docs/alipay-protocol.md,
         * "Refunds on the trade").
         */
        full: boolean;
        gmtRefund?: Instant;
        countedFee: Fen;
        /** The merchant's batch refund this notice confirms, when one was waiting for confirmation. */
        matchedBatchNo?: string;
      });
}

/** A batch refund of this order did not happen: the batch was rejected, or its record failed. */
export interface RefundFailed {
  type: 'RefundFailed';
  data: {
    channel: 'batch';
    outTradeNo: string;
    tradeNo: string;
    batchNo: string;
    /** The amount that was reserved and is released. */
    amount: Fen;
    /** The gateway's `error` (rejection) or the record's result code. */
    code: string;
    stage: 'rejected' | 'result';
    failedAt: Instant;
    notifyId?: string;
    /**
     * Set when the release is not Alipay's answer but the batch's cancellation, expiry or an operator's
     * mark (docs/product-rules.md, "Operator resolutions"): who (`ledger` for the expiry) and why.
     */
    operator?: string;
    reason?: string;
  };
}

/**
 * The buyer's refund request ended without a refund (`REFUND_CLOSED`): the trade goes on
 * (docs/alipay-protocol.md, "Escrow refunds").
 */
export interface RefundClosed {
  type: 'RefundClosed';
  data: NotificationRef & {
    outTradeNo: string;
    tradeNo: string;
    refundStatus: 'REFUND_CLOSED';
    gmtRefund?: Instant;
  };
}

/**
 * Who completed a delivery or a return (added fields: events recorded before them have none): a webhook
 * answered 2xx (`via: 'webhook'`, its id and the reply), or an operator by hand (`via: 'operator'`, who and
 * why).
 */
export interface FulfilmentSourceData {
  via?: 'webhook' | 'operator';
  webhookId?: string;
  reply?: { status: number; body: string };
  operator?: string;
  reason?: string;
}

/** The merchant's system delivered the order (docs/product-rules.md, "Delivery decisions"). */
export interface DeliveryCompleted {
  type: 'DeliveryCompleted';
  data: { outTradeNo: string; deliveredAt: Instant; reference?: string } & FulfilmentSourceData;
}

/** The goods of a delivered, refunded order were taken back (docs/product-rules.md, "Return decisions"). */
export interface ReturnCompleted {
  type: 'ReturnCompleted';
  data: { outTradeNo: string; returnedAt: Instant; reference?: string } & FulfilmentSourceData;
}

/**
 * `send_goods_confirm_by_platform` accepted the shipment of an escrow trade. Not a docs/product-rules.md,
 * "Events" name: the gateway's answer is a fact of its own, recorded so that shipping is confirmed exactly
 * once (docs/fulfilment.md, "Escrow shipping").
 */
export interface ShippingConfirmed {
  type: 'ShippingConfirmed';
  data: { outTradeNo: string; tradeNo: string; attempt: number; confirmedAt: Instant };
}

/** One failed `send_goods_confirm_by_platform` call; `retryable: false` stops the retries. */
export interface ShippingConfirmationFailed {
  type: 'ShippingConfirmationFailed';
  data: {
    outTradeNo: string;
    tradeNo: string;
    attempt: number;
    code: string;
    retryable: boolean;
    failedAt: Instant;
  };
}

/**
 * An operator reviewed the order's open anomalies (docs/product-rules.md, "Operator resolutions"): `accept`
 * lets the order proceed (they no longer block delivery), `confirm` keeps it blocked for good. Covers every
 * anomaly recorded and not yet resolved; a later anomaly blocks again.
 */
export interface AnomalyResolved {
  type: 'AnomalyResolved';
  data: {
    outTradeNo: string;
    decision: 'accept' | 'confirm';
    operator: string;
    reason: string;
    /** The kinds of the anomalies it covers, in the order they were recorded. */
    kinds: readonly AnomalyKind[];
    resolvedAt: Instant;
  };
}

export interface OrderAnomalyDetected {
  type: 'AnomalyDetected';
  data: {
    outTradeNo: string;
    kind: AnomalyKind;
    /** A sentence for the admin: what was expected, what came. */
    detail: string;
    detectedAt: Instant;
    notifyId?: string;
    tradeNo?: string;
    batchNo?: string;
    /**
     * The anomaly is the final outcome of the order's record in batch `batchNo` (an over-refund, an
     * unexplained `TRADE_HAS_CLOSED`, a result nobody submitted): its reservation is released, nothing is
     * counted, and a repeat of the record is a duplicate.
     */
    settlesBatch?: boolean;
  };
}

/**
 * The status the PHP integration's order table showed for an order, where no notification recorded on the
 * order explains it (docs/events.md, "OrderStatusImported"): the order status shows it until the facts say
 * more (docs/product-rules.md, "Order status"). It records what the old site believed; it proves no payment
 * and triggers nothing.
 */
export interface OrderStatusImported {
  type: 'OrderStatusImported';
  data: {
    outTradeNo: string;
    /** The table's `status` code. */
    statusCode: PhpStatusCode;
    status: OrderStatus;
    /** The table's `trade_no`, when it had one. */
    tradeNo?: string;
    /** What the notifications showed when it was imported (`null`: nothing beyond the placement). */
    explainedStatus: OrderStatus | null;
    /** Where it was read: the file and its row. */
    source: string;
    importedAt: Instant;
  };
}

export type OrderEvent =
  | OrderPlaced
  | OrderStatusImported
  | PaymentAwaited
  | PaymentSucceeded
  | GoodsShipped
  | TradeFinished
  | TradeClosed
  | RefundRequested
  | RefundRefused
  | RefundSucceeded
  | RefundFailed
  | RefundClosed
  | DeliveryCompleted
  | ReturnCompleted
  | ShippingConfirmed
  | ShippingConfirmationFailed
  | AnomalyResolved
  | OrderAnomalyDetected;

export type OrderEventType = OrderEvent['type'];

/** Every order event type with its current schema version (docs/events.md, "Evolving events"). */
export const ORDER_EVENT_SCHEMA_VERSIONS: Readonly<Record<OrderEventType, number>> = {
  OrderPlaced: 1,
  OrderStatusImported: 1,
  PaymentAwaited: 1,
  PaymentSucceeded: 1,
  GoodsShipped: 1,
  TradeFinished: 1,
  TradeClosed: 1,
  RefundRequested: 1,
  RefundRefused: 1,
  RefundSucceeded: 1,
  RefundFailed: 1,
  RefundClosed: 1,
  DeliveryCompleted: 1,
  ReturnCompleted: 1,
  ShippingConfirmed: 1,
  ShippingConfirmationFailed: 1,
  AnomalyResolved: 1,
  AnomalyDetected: 1,
};

/**
 * Narrows a stored event to an order event by its type. The payload is trusted: the store upcasts it to the
 * current schema version before anyone reads it.
 */
export function asOrderEvent(type: string, data: unknown): OrderEvent | undefined {
  return Object.hasOwn(ORDER_EVENT_SCHEMA_VERSIONS, type) ? ({ type, data } as OrderEvent) : undefined;
}
