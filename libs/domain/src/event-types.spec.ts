import { ORDER_EVENT_SCHEMA_VERSIONS, asOrderEvent } from './order/order-events';
import { REFUND_BATCH_EVENT_SCHEMA_VERSIONS, asRefundBatchEvent } from './refund-batch/refund-batch-events';

describe('stored event types', () => {
  it('uses the event names of docs/product-rules.md, "Events", plus the ledger\'s own (docs/events.md)', () => {
    expect(Object.keys(ORDER_EVENT_SCHEMA_VERSIONS).sort()).toEqual(
      [
        'OrderPlaced',
        'PaymentAwaited',
        'PaymentSucceeded',
        'GoodsShipped',
        'TradeFinished',
        'TradeClosed',
        'RefundRequested',
        'RefundRefused',
        'RefundSucceeded',
        'RefundFailed',
        'RefundClosed',
        'DeliveryCompleted',
        'ReturnCompleted',
        'AnomalyDetected',
        'ShippingConfirmed',
        'ShippingConfirmationFailed',
        'AnomalyResolved',
        'OrderStatusImported',
      ].sort(),
    );
    expect(Object.keys(REFUND_BATCH_EVENT_SCHEMA_VERSIONS).sort()).toEqual(
      [
        'RefundBatchSubmitted',
        'RefundBatchAccepted',
        'RefundBatchRejected',
        'RefundBatchCompleted',
        'RefundBatchOutcomeUnknown',
        'RefundBatchResendRejected',
        'RefundBatchCancelled',
        'RefundBatchExpired',
        'RefundBatchOutcomeMarked',
        'AnomalyDetected',
      ].sort(),
    );
  });

  it('narrows a stored event by its stream’s types, and nothing else', () => {
    const data = { outTradeNo: 'A1', deliveredAt: '2024-05-01T00:00:00.000Z' };
    expect(asOrderEvent('DeliveryCompleted', data)).toEqual({ type: 'DeliveryCompleted', data });
    expect(asOrderEvent('RefundBatchSubmitted', data)).toBeUndefined();
    expect(asOrderEvent('toString', data)).toBeUndefined();
    expect(asRefundBatchEvent('RefundBatchRejected', data)).toEqual({ type: 'RefundBatchRejected', data });
    expect(asRefundBatchEvent('OrderPlaced', data)).toBeUndefined();
    expect(asRefundBatchEvent('AnomalyDetected', data)?.type).toBe('AnomalyDetected');
  });
});
