import type { Charset, PaymentType, RefundStatus, SignType, TradeStatus } from '@ledger/alipay-protocol';

export type PaymentService = 'create_direct_pay_by_user' | 'trade_create_by_buyer';

/**
 * The business data of a payment request, frozen when the trade is created: a later request for the same
 * out_trade_no with other terms is `TRADE_DATA_MATCH_ERROR` (docs/alipay-protocol.md, "Payment requests").
 * Amounts in fen.
 */
export interface TradeTerms {
  readonly service: PaymentService;
  readonly outTradeNo: string;
  readonly subject: string;
  readonly body?: string;
  /** What the buyer pays: price × quantity, plus the logistics fee when the buyer pays it. */
  readonly totalFee: number;
  readonly price: number;
  readonly quantity: number;
  readonly sellerId: string;
  readonly sellerEmail?: string;
  readonly extraCommonParam?: string;
  readonly logistics?: { readonly type: string; readonly fee: number; readonly payment: string };
  readonly receiver?: {
    readonly name?: string;
    readonly address?: string;
    readonly zip?: string;
    readonly phone?: string;
    readonly mobile?: string;
  };
}

/** Where a trade's results go: the latest accepted request's URLs (they are not part of the terms). */
export interface TradeChannels {
  readonly notifyUrl?: string;
  readonly returnUrl?: string;
  readonly showUrl?: string;
}

/** One trade as the sandbox keeps it. Times are instants; notifications show them in Beijing time. */
export interface Trade {
  readonly partner: string;
  readonly tradeNo: string;
  readonly terms: TradeTerms;
  readonly channels: TradeChannels;
  /** The request's `_input_charset` and sign type: the notifications use the same. */
  readonly charset: Charset;
  readonly signType: SignType;
  readonly tradeStatus: TradeStatus;
  readonly paymentType?: PaymentType;
  readonly refundStatus?: RefundStatus;
  /** Fen refunded so far. */
  readonly refundedFee: number;
  readonly buyerId?: string;
  readonly buyerEmail?: string;
  readonly gmtCreate: Date;
  readonly gmtPayment?: Date;
  readonly gmtClose?: Date;
  readonly gmtSendGoods?: Date;
  readonly gmtRefund?: Date;
  readonly shipment?: {
    readonly logisticsName: string;
    readonly invoiceNo?: string;
    readonly transportType: string;
  };
}

/**
 * The sandbox's one buyer (docs/alipay-protocol.md, "Trade notification fields": buyer_email is often a
 * masked mobile).
 */
export const SANDBOX_BUYER = { id: '2088102122524333', email: '137******70' } as const;
