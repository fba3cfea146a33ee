import {
  OUT_TRADE_NO,
  TOTAL_FEE,
  batchResult,
  escrowOrder,
  notice,
  placeOrder,
  refundNotice,
  reserve,
  stateAfter,
} from '../testing/order-fixtures';
import type { CompleteDelivery, CompleteReturn } from './fulfilment';
import { deliveryDecision, orderStatusOf, refundableFee, returnDecision } from './order-decisions';
import type { OrderCommand } from './order-decider';

const deliver: CompleteDelivery = {
  type: 'CompleteDelivery',
  outTradeNo: OUT_TRADE_NO,
  deliveredAt: '2024-05-01T03:00:00.000Z',
};
const takeBack: CompleteReturn = {
  type: 'CompleteReturn',
  outTradeNo: OUT_TRADE_NO,
  returnedAt: '2024-05-09T00:00:00.000Z',
};
const paid = [placeOrder(), notice('TRADE_SUCCESS')];
const escrowPaid = [placeOrder(escrowOrder), notice('WAIT_BUYER_PAY'), notice('WAIT_SELLER_SEND_GOODS')];
const partialBatch = [reserve('20240502001', 1_000), batchResult('20240502001', 1_000)];
const fullRefund = refundNotice('TRADE_CLOSED', 'REFUND_SUCCESS');

describe('orderStatusOf (docs/product-rules.md, "Order status": statuses and PHP codes)', () => {
  it.each<[string, OrderCommand[], string, number | null]>([
    ['placed', [placeOrder()], 'awaiting_payment', 0],
    ['waiting for the buyer', [placeOrder(), notice('WAIT_BUYER_PAY')], 'awaiting_payment', 0],
    ['paid', paid, 'paid', 8],
    ['paid into escrow', escrowPaid, 'paid', 8],
    ['shipped', [...escrowPaid, notice('WAIT_BUYER_CONFIRM_GOODS')], 'shipped', null],
    ['finished', [...paid, notice('TRADE_FINISHED')], 'finished', 4],
    ['closed unpaid', [placeOrder(), notice('TRADE_CLOSED')], 'closed', 32],
    ['fully refunded', [...paid, fullRefund], 'refunded', 105],
    [
      'refunded by batches',
      [...paid, reserve('20240502001', TOTAL_FEE), batchResult('20240502001', TOTAL_FEE)],
      'refunded',
      105,
    ],
    ['partially refunded', [...paid, ...partialBatch], 'partially_refunded', null],
    [
      'partially refunded, then finished',
      [...paid, ...partialBatch, notice('TRADE_FINISHED')],
      'partially_refunded',
      null,
    ],
    [
      'refund request closed',
      [
        ...escrowPaid,
        refundNotice('WAIT_SELLER_SEND_GOODS', 'WAIT_SELLER_AGREE', {
          notifyTime: '2024-05-02T00:00:00.000Z',
        }),
        refundNotice('WAIT_SELLER_SEND_GOODS', 'REFUND_CLOSED', { notifyTime: '2024-05-03T00:00:00.000Z' }),
      ],
      'refund_closed',
      106,
    ],
    [
      'refund request closed, then finished',
      [...escrowPaid, refundNotice('WAIT_SELLER_SEND_GOODS', 'REFUND_CLOSED'), notice('TRADE_FINISHED')],
      'finished',
      4,
    ],
    [
      'a partial refund reported by Alipay alone',
      [...paid, refundNotice('TRADE_SUCCESS', 'REFUND_SUCCESS')],
      'partially_refunded',
      null,
    ],
    [
      'paid, then closed by a batch still in flight',
      [...paid, reserve('20240502001', TOTAL_FEE), notice('TRADE_CLOSED')],
      'refunded',
      105,
    ],
  ])('%s → %s (%s)', (_name, commands, status, statusCode) => {
    expect(orderStatusOf(stateAfter(...commands))).toEqual({ status, statusCode });
  });

  it('has no status for a stream that only holds anomalies about an order never placed', () => {
    expect(orderStatusOf(stateAfter(notice('TRADE_SUCCESS')))).toBeUndefined();
  });
});

// docs/product-rules.md, "Delivery decisions"
describe('deliveryDecision (exactly once, only when paid and matched)', () => {
  it.each<[string, OrderCommand[], string]>([
    ['placed', [placeOrder()], 'none'],
    ['awaiting payment', [placeOrder(), notice('WAIT_BUYER_PAY')], 'none'],
    ['closed unpaid', [placeOrder(), notice('TRADE_CLOSED')], 'none'],
    ['paid (instant)', paid, 'pending'],
    ['paid into escrow', escrowPaid, 'pending'],
    [
      'finished without delivery (ordinary instant product)',
      [placeOrder(), notice('TRADE_FINISHED')],
      'pending',
    ],
    ['partially refunded', [...paid, ...partialBatch], 'pending'],
    ['delivered', [...paid, deliver], 'delivered'],
    ['delivered, then refunded', [...paid, deliver, fullRefund], 'delivered'],
    ['fully refunded', [...paid, fullRefund], 'blocked'],
    ['a full refund in flight', [...paid, reserve('20240502001', TOTAL_FEE)], 'blocked'],
    ['amount mismatch', [placeOrder(), notice('TRADE_SUCCESS', { totalFee: 1 })], 'blocked'],
    ['seller mismatch', [placeOrder(), notice('TRADE_SUCCESS', { sellerId: '2088000000000001' })], 'blocked'],
    ['unknown order', [notice('TRADE_SUCCESS')], 'blocked'],
    ['paid, then an over-refund flagged', [...paid, batchResult('20240502009', TOTAL_FEE + 1)], 'blocked'],
    ['paid and closed without a refund', [...paid, notice('TRADE_CLOSED')], 'blocked'],
    [
      'buyer asking for a refund',
      [...escrowPaid, refundNotice('WAIT_SELLER_SEND_GOODS', 'WAIT_SELLER_AGREE')],
      'blocked',
    ],
  ])('%s → %s', (_name, commands, decision) => {
    expect(deliveryDecision(stateAfter(...commands))).toBe(decision);
  });
});

// docs/product-rules.md, "Return decisions"
describe('returnDecision (take back once when a delivered order is fully refunded)', () => {
  it.each<[string, OrderCommand[], string]>([
    ['paid, not delivered', paid, 'none'],
    ['refunded, never delivered', [...paid, fullRefund], 'none'],
    ['delivered, not refunded', [...paid, deliver], 'none'],
    ['delivered, fully refunded', [...paid, deliver, fullRefund], 'pending'],
    [
      'delivered, refunded by a batch',
      [...paid, deliver, reserve('20240502001', TOTAL_FEE), batchResult('20240502001', TOTAL_FEE)],
      'pending',
    ],
    ['delivered, partially refunded', [...paid, deliver, ...partialBatch], 'manual_review'],
    [
      'delivered, partial refund reported by Alipay',
      [...paid, deliver, refundNotice('TRADE_SUCCESS', 'REFUND_SUCCESS')],
      'manual_review',
    ],
    ['delivered, refund in flight only', [...paid, deliver, reserve('20240502001', TOTAL_FEE)], 'none'],
    ['returned', [...paid, deliver, fullRefund, takeBack], 'returned'],
  ])('%s → %s', (_name, commands, decision) => {
    expect(returnDecision(stateAfter(...commands))).toBe(decision);
  });
});

describe('refundableFee', () => {
  it('is zero before payment and never negative', () => {
    expect(refundableFee(stateAfter(placeOrder()))).toBe(0);
    expect(refundableFee(stateAfter(...paid, fullRefund))).toBe(0);
    expect(refundableFee(stateAfter(...paid, reserve('20240502001', TOTAL_FEE), fullRefund))).toBe(0);
  });
});
