import {
  deliveryDecision,
  orderStatusOf,
  returnDecision,
  type OrderEvent,
  type OrderState,
} from '@ledger/domain';

/** The webhook types the ledger sends (docs/webhooks.md, "Event types"). */
export const WEBHOOK_EVENT_TYPES = [
  'order.paid',
  'order.delivery_requested',
  'order.delivered',
  'order.return_requested',
  'order.returned',
  'order.shipping_confirmed',
  'order.refunded',
  'order.partially_refunded',
  'order.closed',
  'order.anomaly_detected',
  'refund_batch.completed',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** A webhook an order event calls for: its type and what the event adds to the order's view. */
export interface OrderWebhook {
  type: WebhookEventType;
  details?: Record<string, unknown>;
}

/**
 * The webhooks one order event calls for, from the order's state before and after it. Decisions are read
 * with the domain's own functions, so a webhook is sent when a decision *becomes* due, whichever event made
 * it so: `order.delivery_requested` when the delivery turns `pending` (a payment, or a block lifted), and
 * `order.return_requested` when the return does.
 */
export function orderWebhooksOf(before: OrderState, after: OrderState, event: OrderEvent): OrderWebhook[] {
  // An order imported from a PHP integration's history was handled by the merchant's systems then: its
  // years of payments and refunds are not news to them (docs/operations.md, "Importing a PHP integration's
  // history").
  if (after.placed?.imported !== undefined) return [];
  const webhooks: OrderWebhook[] = [];
  const statusBefore = orderStatusOf(before)?.status;
  const statusAfter = orderStatusOf(after)?.status;
  switch (event.type) {
    case 'PaymentSucceeded':
      webhooks.push({ type: 'order.paid' });
      break;
    case 'DeliveryCompleted':
    case 'ReturnCompleted': {
      const { outTradeNo: _order, ...details } = event.data;
      webhooks.push({
        type: event.type === 'DeliveryCompleted' ? 'order.delivered' : 'order.returned',
        details,
      });
      break;
    }
    case 'ShippingConfirmed':
      webhooks.push({
        type: 'order.shipping_confirmed',
        details: { attempt: event.data.attempt, confirmedAt: event.data.confirmedAt },
      });
      break;
    case 'AnomalyDetected':
      webhooks.push({
        type: 'order.anomaly_detected',
        details: { kind: event.data.kind, detail: event.data.detail, detectedAt: event.data.detectedAt },
      });
      break;
    case 'OrderPlaced':
    case 'PaymentAwaited':
    case 'GoodsShipped':
    case 'TradeFinished':
    case 'TradeClosed':
    case 'RefundRequested':
    case 'RefundRefused':
    case 'RefundSucceeded':
    case 'RefundFailed':
    case 'RefundClosed':
    case 'ShippingConfirmationFailed':
    case 'AnomalyResolved':
    case 'OrderStatusImported':
      // Their webhooks, if any, come from the decisions and the status they change, below.
      break;
  }
  if (deliveryDecision(before) !== 'pending' && deliveryDecision(after) === 'pending') {
    webhooks.push({ type: 'order.delivery_requested' });
  }
  if (returnDecision(before) !== 'pending' && returnDecision(after) === 'pending') {
    webhooks.push({ type: 'order.return_requested' });
  }
  if (statusAfter === 'refunded' && statusBefore !== 'refunded') {
    webhooks.push({ type: 'order.refunded', details: { refundedFeeFen: after.refundedFee } });
  } else if (
    statusAfter !== 'refunded' &&
    (event.type === 'RefundSucceeded' || after.refundedFee > before.refundedFee)
  ) {
    webhooks.push({
      type: 'order.partially_refunded',
      details: {
        refundedFeeFen: after.refundedFee,
        newlyRefundedFen: after.refundedFee - before.refundedFee,
      },
    });
  }
  if (statusAfter === 'closed' && statusBefore !== 'closed') webhooks.push({ type: 'order.closed' });
  return webhooks;
}
