import { evolveOrder, initialOrderState, type OrderEvent, type OrderState } from '@ledger/domain';
import { orderWebhooksOf } from './webhook-events';

const OUT_TRADE_NO = 'ORD-20240501-0001';
const TRADE_NO = '2024050122001004370000361525';
const AT = '2024-05-01T02:00:00.000Z';

const placed: OrderEvent = {
  type: 'OrderPlaced',
  data: {
    outTradeNo: OUT_TRADE_NO,
    subject: 'A teapot',
    totalFee: 12_000,
    service: 'create_direct_pay_by_user',
    sellerId: '2088101122136241',
    requestParameters: { out_trade_no: OUT_TRADE_NO },
    placedAt: AT,
  },
};
const paid: OrderEvent = {
  type: 'PaymentSucceeded',
  data: {
    outTradeNo: OUT_TRADE_NO,
    tradeNo: TRADE_NO,
    paymentType: 'instant',
    paidFee: 12_000,
    tradeStatus: 'TRADE_SUCCESS',
    notifyId: 'n-1',
    notifyTime: AT,
    source: 'notify',
  },
};
const anomaly: OrderEvent = {
  type: 'AnomalyDetected',
  data: {
    outTradeNo: OUT_TRADE_NO,
    kind: 'amount_mismatch',
    detail: 'paid 0.01, ordered 120.00',
    detectedAt: AT,
  },
};
const delivered: OrderEvent = {
  type: 'DeliveryCompleted',
  data: {
    outTradeNo: OUT_TRADE_NO,
    deliveredAt: AT,
    via: 'operator',
    operator: 'li.na',
    reason: 'at the counter',
  },
};

/** The webhooks of each event of `events`, folded from the start. */
function webhooksOf(...events: OrderEvent[]): string[][] {
  let state: OrderState = initialOrderState();
  return events.map((event) => {
    const before = state;
    state = evolveOrder(state, event);
    return orderWebhooksOf(before, state, event).map(({ type }) => type);
  });
}

describe('orderWebhooksOf', () => {
  it('asks for the delivery when the payment makes it pending, once', () => {
    expect(webhooksOf(placed, paid)).toEqual([[], ['order.paid', 'order.delivery_requested']]);
  });

  it("sends nothing for an order imported from a PHP integration's history", () => {
    const imported: OrderEvent = {
      ...placed,
      data: { ...(placed.data as object), imported: { source: 'user_order.csv' } },
    } as OrderEvent;
    expect(webhooksOf(imported, paid)).toEqual([[], []]);
  });

  it('never asks for the delivery of an anomalous order, and says what the anomaly is', () => {
    expect(webhooksOf(placed, anomaly, paid)).toEqual([[], ['order.anomaly_detected'], ['order.paid']]);
    const before = evolveOrder(initialOrderState(), placed);
    expect(orderWebhooksOf(before, evolveOrder(before, anomaly), anomaly)).toContainEqual({
      type: 'order.anomaly_detected',
      details: { kind: 'amount_mismatch', detail: 'paid 0.01, ordered 120.00', detectedAt: AT },
    });
  });

  it('tells who completed a delivery, without repeating the order number', () => {
    let state = [placed, paid].reduce(evolveOrder, initialOrderState());
    const before = state;
    state = evolveOrder(state, delivered);
    expect(orderWebhooksOf(before, state, delivered)).toEqual([
      {
        type: 'order.delivered',
        details: { deliveredAt: AT, via: 'operator', operator: 'li.na', reason: 'at the counter' },
      },
    ]);
  });
});
