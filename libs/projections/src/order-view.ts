import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { formatYuan } from '@ledger/alipay-protocol';
import type { DeliveryDecision, OrderStatus, ReturnDecision } from '@ledger/domain';
import type { OrderSummary } from './order-summary';

// Lists of the domain's unions, written as records so that the compiler finds a value added to one.
const ORDER_STATUS_SET: Record<OrderStatus, true> = {
  awaiting_payment: true,
  paid: true,
  shipped: true,
  finished: true,
  closed: true,
  refunded: true,
  partially_refunded: true,
  refund_closed: true,
};
const DELIVERY_STATE_SET: Record<DeliveryDecision, true> = {
  none: true,
  pending: true,
  delivered: true,
  blocked: true,
};
const RETURN_STATE_SET: Record<ReturnDecision, true> = {
  none: true,
  pending: true,
  returned: true,
  manual_review: true,
};

export const ORDER_STATUSES = Object.keys(ORDER_STATUS_SET) as OrderStatus[];
export const DELIVERY_STATES = Object.keys(DELIVERY_STATE_SET) as DeliveryDecision[];
export const RETURN_STATES = Object.keys(RETURN_STATE_SET) as ReturnDecision[];

class DeliveryView {
  @ApiProperty({ enum: DELIVERY_STATES })
  state: OrderSummary['deliveryState'];
}

class ReturnView {
  @ApiProperty({ enum: RETURN_STATES })
  state: OrderSummary['returnState'];
}

class AnomalyView {
  @ApiProperty({ example: 'amount_mismatch' })
  kind: string;

  @ApiProperty()
  detail: string;

  @ApiProperty({
    enum: ['accepted', 'confirmed'],
    nullable: true,
    description:
      "The operator's decision (POST /admin/orders/:outTradeNo/anomalies/resolve): accepted no longer blocks " +
      'delivery, confirmed keeps it blocked; null while open',
  })
  resolution: 'accepted' | 'confirmed' | null;
}

/**
 * `GET /admin/orders/:outTradeNo` (docs/product-rules.md, "Admin views"): amounts in yuan with two decimals,
 * times ISO 8601 UTC. An order the ledger never placed, whose stream only holds anomalies, has no status and
 * no amount.
 */
export class OrderView {
  @ApiProperty()
  outTradeNo: string;

  @ApiProperty({ type: String, nullable: true })
  tradeNo: string | null;

  @ApiProperty({
    enum: ORDER_STATUSES,
    nullable: true,
    description: 'As docs/product-rules.md, "Order status" defines it; null for an order never placed',
  })
  status: OrderSummary['status'];

  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'The PHP integration code: 0 awaiting payment, 8 paid, 4 finished, 32 closed, 105 refunded, 106 refund closed',
  })
  statusCode: OrderSummary['statusCode'];

  @ApiProperty({ type: String, nullable: true, description: "Alipay's most advanced trade_status" })
  tradeStatus: string | null;

  @ApiProperty({ type: String, nullable: true, description: "Alipay's latest refund_status" })
  refundStatus: string | null;

  @ApiProperty({ enum: ['instant', 'escrow'], nullable: true })
  paymentType: OrderSummary['paymentType'];

  @ApiProperty({ type: String, nullable: true })
  subject: string | null;

  @ApiProperty({ type: String, nullable: true, example: '120.00' })
  totalFee: string | null;

  @ApiProperty({ example: '120.00' })
  paidFee: string;

  @ApiProperty({ example: '0.00' })
  refundedFee: string;

  @ApiProperty({ type: String, nullable: true })
  buyerId: string | null;

  @ApiProperty({ type: String, nullable: true })
  buyerEmail: string | null;

  @ApiProperty({ type: DeliveryView })
  delivery: DeliveryView;

  @ApiProperty({ type: ReturnView })
  return: ReturnView;

  @ApiProperty({ type: [AnomalyView] })
  anomalies: AnomalyView[];

  @ApiProperty({ description: 'When the last event applied was recorded' })
  updatedAt: string;

  @ApiProperty({ description: "The order stream's version the view reflects" })
  version: number;
}

/** An item of `GET /admin/orders`: the order's view and when the ledger first recorded it (the filter). */
export class OrderListItem extends OrderView {
  @ApiProperty({
    description: "When the ledger recorded the order stream's first event; `from`/`to` filter on it",
  })
  createdAt: string;
}

export class OrderPageView {
  @ApiProperty({ type: [OrderListItem] })
  items: OrderListItem[];

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Pass as `cursor` for the next page' })
  nextCursor: string | null;
}

export function toOrderView(order: OrderSummary): OrderView {
  return {
    outTradeNo: order.outTradeNo,
    tradeNo: order.tradeNo,
    status: order.status,
    statusCode: order.statusCode,
    tradeStatus: order.tradeStatus,
    refundStatus: order.refundStatus,
    paymentType: order.paymentType,
    subject: order.subject,
    totalFee: order.totalFee === null ? null : formatYuan(order.totalFee),
    paidFee: formatYuan(order.paidFee),
    refundedFee: formatYuan(order.refundedFee),
    buyerId: order.buyerId,
    buyerEmail: order.buyerEmail,
    delivery: { state: order.deliveryState },
    return: { state: order.returnState },
    anomalies: order.anomalies.map(({ kind, detail, resolution }) => ({
      kind,
      detail,
      resolution: resolution ?? null,
    })),
    updatedAt: order.updatedAt,
    version: order.version,
  };
}

export function toOrderListItem(order: OrderSummary): OrderListItem {
  return { ...toOrderView(order), createdAt: order.createdAt };
}
