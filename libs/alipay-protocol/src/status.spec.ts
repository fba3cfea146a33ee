import {
  REFUND_STATUSES,
  TRADE_STATUSES,
  inferPaymentType,
  isExpectedRefundTransition,
  isPaidStatus,
  isRefundStatus,
  isTerminalTradeStatus,
  isTradeStatus,
  refundOutcome,
  tradeStatusRank,
  type TradeStatus,
} from './status';

describe('trade status ranks', () => {
  it('orders the escrow path and the instant path towards the terminal statuses', () => {
    const escrow: TradeStatus[] = [
      'WAIT_BUYER_PAY',
      'WAIT_SELLER_SEND_GOODS',
      'WAIT_BUYER_CONFIRM_GOODS',
      'TRADE_FINISHED',
    ];
    for (let i = 1; i < escrow.length; i++) {
      expect(tradeStatusRank(escrow[i])).toBeGreaterThan(tradeStatusRank(escrow[i - 1]));
    }
    expect(tradeStatusRank('TRADE_PENDING')).toBeGreaterThan(tradeStatusRank('WAIT_BUYER_PAY'));
    expect(tradeStatusRank('TRADE_SUCCESS')).toBeGreaterThan(tradeStatusRank('TRADE_PENDING'));
    expect(tradeStatusRank('TRADE_FINISHED')).toBeGreaterThan(tradeStatusRank('TRADE_SUCCESS'));
    expect(tradeStatusRank('TRADE_CLOSED')).toBeGreaterThan(tradeStatusRank('TRADE_SUCCESS'));
  });

  it('gives both terminal statuses the same rank, so TRADE_FINISHED after a full refund is no progress', () => {
    expect(tradeStatusRank('TRADE_FINISHED')).toBe(tradeStatusRank('TRADE_CLOSED'));
  });

  it('makes a late WAIT_BUYER_PAY retry stale after any other status', () => {
    for (const status of TRADE_STATUSES.filter((s) => s !== 'WAIT_BUYER_PAY')) {
      expect(tradeStatusRank('WAIT_BUYER_PAY')).toBeLessThan(tradeStatusRank(status));
    }
  });

  it('marks only the two end states as terminal', () => {
    expect(TRADE_STATUSES.filter(isTerminalTradeStatus)).toEqual(['TRADE_FINISHED', 'TRADE_CLOSED']);
  });
});

describe('isPaidStatus', () => {
  it('recognises payment in instant and escrow trades, never in pending, unpaid or closed ones', () => {
    expect(TRADE_STATUSES.filter(isPaidStatus)).toEqual([
      'WAIT_SELLER_SEND_GOODS',
      'WAIT_BUYER_CONFIRM_GOODS',
      'TRADE_SUCCESS',
      'TRADE_FINISHED',
    ]);
  });
});

describe('type guards', () => {
  it('accepts the exact wire values only', () => {
    expect(isTradeStatus('TRADE_SUCCESS')).toBe(true);
    expect(isTradeStatus('trade_success')).toBe(false);
    expect(isTradeStatus('TRADE_SUCCESS ')).toBe(false);
    expect(isTradeStatus('constructor')).toBe(false);
    expect(isRefundStatus('SELLER_REFUSE_BUYER')).toBe(true);
    expect(isRefundStatus('REFUND_FAILED')).toBe(false);
    expect(REFUND_STATUSES).toHaveLength(6);
  });
});

describe('inferPaymentType', () => {
  it.each<[TradeStatus | undefined, TradeStatus, 'instant' | 'escrow' | undefined]>([
    ['WAIT_BUYER_PAY', 'WAIT_SELLER_SEND_GOODS', 'escrow'],
    [undefined, 'WAIT_SELLER_SEND_GOODS', 'escrow'],
    ['WAIT_BUYER_PAY', 'WAIT_BUYER_CONFIRM_GOODS', 'escrow'],
    ['WAIT_SELLER_SEND_GOODS', 'TRADE_FINISHED', 'escrow'],
    ['WAIT_BUYER_CONFIRM_GOODS', 'TRADE_FINISHED', 'escrow'],
    ['WAIT_BUYER_PAY', 'TRADE_FINISHED', 'instant'],
    ['WAIT_BUYER_PAY', 'TRADE_SUCCESS', 'instant'],
    [undefined, 'TRADE_SUCCESS', 'instant'],
    [undefined, 'TRADE_FINISHED', 'instant'],
    ['TRADE_SUCCESS', 'TRADE_FINISHED', 'instant'],
    ['TRADE_PENDING', 'TRADE_SUCCESS', 'instant'],
    ['TRADE_CLOSED', 'TRADE_FINISHED', undefined],
    ['WAIT_BUYER_PAY', 'TRADE_CLOSED', undefined],
    [undefined, 'WAIT_BUYER_PAY', undefined],
  ])('%s → %s is %s', (previous, next, expected) => {
    expect(inferPaymentType(previous, next)).toBe(expected);
  });
});

describe('refundOutcome', () => {
  it('tells a full refund (TRADE_CLOSED) from a partial one (trade still open)', () => {
    expect(refundOutcome('TRADE_CLOSED', 'REFUND_SUCCESS')).toBe('full');
    expect(refundOutcome('TRADE_SUCCESS', 'REFUND_SUCCESS')).toBe('partial');
    expect(refundOutcome('TRADE_FINISHED', 'REFUND_SUCCESS')).toBe('partial');
  });

  it('maps the escrow refund flow', () => {
    expect(refundOutcome('WAIT_BUYER_CONFIRM_GOODS', 'WAIT_SELLER_AGREE')).toBe('in_progress');
    expect(refundOutcome('WAIT_BUYER_CONFIRM_GOODS', 'WAIT_BUYER_RETURN_GOODS')).toBe('in_progress');
    expect(refundOutcome('WAIT_BUYER_CONFIRM_GOODS', 'WAIT_SELLER_CONFIRM_GOODS')).toBe('in_progress');
    expect(refundOutcome('WAIT_BUYER_CONFIRM_GOODS', 'SELLER_REFUSE_BUYER')).toBe('refused');
    expect(refundOutcome('TRADE_FINISHED', 'REFUND_CLOSED')).toBe('closed');
  });

  it('is none without a refund status, whatever the trade status', () => {
    for (const status of TRADE_STATUSES) expect(refundOutcome(status, undefined)).toBe('none');
  });
});

describe('isExpectedRefundTransition', () => {
  it('allows the cycle between refusal and a new application (not monotonic)', () => {
    expect(isExpectedRefundTransition('WAIT_SELLER_AGREE', 'SELLER_REFUSE_BUYER')).toBe(true);
    expect(isExpectedRefundTransition('SELLER_REFUSE_BUYER', 'WAIT_SELLER_AGREE')).toBe(true);
  });

  it('follows the goods-returned path and flags jumps', () => {
    expect(isExpectedRefundTransition(undefined, 'WAIT_SELLER_AGREE')).toBe(true);
    expect(isExpectedRefundTransition('WAIT_SELLER_AGREE', 'WAIT_BUYER_RETURN_GOODS')).toBe(true);
    expect(isExpectedRefundTransition('WAIT_BUYER_RETURN_GOODS', 'WAIT_SELLER_CONFIRM_GOODS')).toBe(true);
    expect(isExpectedRefundTransition('WAIT_SELLER_CONFIRM_GOODS', 'REFUND_SUCCESS')).toBe(true);
    expect(isExpectedRefundTransition(undefined, 'WAIT_SELLER_CONFIRM_GOODS')).toBe(false);
    expect(isExpectedRefundTransition('WAIT_BUYER_RETURN_GOODS', 'SELLER_REFUSE_BUYER')).toBe(false);
  });

  it('allows repeated partial refunds of an instant trade', () => {
    expect(isExpectedRefundTransition(undefined, 'REFUND_SUCCESS')).toBe(true);
    expect(isExpectedRefundTransition('REFUND_SUCCESS', 'REFUND_SUCCESS')).toBe(true);
  });
});
