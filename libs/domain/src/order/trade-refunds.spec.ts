import { deciderSpec } from '../testing/given-when-then';
import {
  OUT_TRADE_NO,
  TOTAL_FEE,
  TRADE_NO,
  batchResult,
  escrowOrder,
  history,
  notice,
  placeOrder,
  refundNotice,
  reserve,
} from '../testing/order-fixtures';
import { deliveryDecision, orderStatusOf, refundableFee } from './order-decisions';
import { orderDecider } from './order-decider';
import type { OrderEvent } from './order-events';
import type { RecordTradeStatus } from './record-trade-status';

// The trade channel: trade_status_sync notifications carrying refund_status (docs/alipay-protocol.md,
// "Instant trades" and "Escrow refunds"), and how they meet the batch channel (docs/events.md,
// "One refund, two channels").

const given = deciderSpec(orderDecider);

function from(command: RecordTradeStatus) {
  return {
    notifyId: command.notifyId,
    notifyTime: command.notifyTime,
    source: command.source,
    outTradeNo: OUT_TRADE_NO,
    tradeNo: TRADE_NO,
  };
}

const types = (events: readonly OrderEvent[]) => events.map((event) => event.type);
const paidInstant = [placeOrder(), notice('TRADE_SUCCESS')];
const GMT1 = '2024-05-03T01:00:00.000Z';
const GMT2 = '2024-05-04T01:00:00.000Z';

describe('trade channel: instant trades', () => {
  it('records a partial refund (TRADE_SUCCESS + REFUND_SUCCESS) without counting an amount it does not carry', () => {
    const partial = refundNotice('TRADE_SUCCESS', 'REFUND_SUCCESS', { gmtRefund: GMT1 });
    const { state } = given(history(...paidInstant))
      .when(partial)
      .then([
        {
          type: 'RefundSucceeded',
          data: {
            ...from(partial),
            channel: 'trade',
            refundStatus: 'REFUND_SUCCESS',
            full: false,
            gmtRefund: GMT1,
            countedFee: 0,
          },
        },
      ]);
    expect(state.refundedFee).toBe(0);
    expect(orderStatusOf(state)).toEqual({ status: 'partially_refunded', statusCode: null });
  });

  it('does not repeat a partial refund echoed by a later notification (same gmt_refund)', () => {
    const partial = refundNotice('TRADE_SUCCESS', 'REFUND_SUCCESS', { gmtRefund: GMT1 });
    const finished = refundNotice('TRADE_FINISHED', 'REFUND_SUCCESS', { gmtRefund: GMT1 });
    given(history(...paidInstant, partial))
      .when(finished)
      .then([{ type: 'TradeFinished', data: from(finished) }]);
  });

  it('records a second partial refund (another gmt_refund)', () => {
    const { events } = given(
      history(...paidInstant, refundNotice('TRADE_SUCCESS', 'REFUND_SUCCESS', { gmtRefund: GMT1 })),
    )
      .when(refundNotice('TRADE_SUCCESS', 'REFUND_SUCCESS', { gmtRefund: GMT2 }))
      .outcome();
    expect(events).toEqual([
      { type: 'RefundSucceeded', data: expect.objectContaining({ channel: 'trade', gmtRefund: GMT2 }) },
    ]);
  });

  it('cannot tell two partial refunds apart without gmt_refund, so records the second as the same', () => {
    given(history(...paidInstant, refundNotice('TRADE_SUCCESS', 'REFUND_SUCCESS', { notifyId: 'a' })))
      .when(refundNotice('TRADE_SUCCESS', 'REFUND_SUCCESS', { notifyId: 'b' }))
      .thenNothing();
  });

  it('counts a full refund (TRADE_CLOSED + REFUND_SUCCESS) for the whole payment and closes the trade', () => {
    const full = refundNotice('TRADE_CLOSED', 'REFUND_SUCCESS', { gmtRefund: GMT1 });
    const { state } = given(history(...paidInstant))
      .when(full)
      .then([
        {
          type: 'RefundSucceeded',
          data: {
            ...from(full),
            channel: 'trade',
            refundStatus: 'REFUND_SUCCESS',
            full: true,
            gmtRefund: GMT1,
            countedFee: TOTAL_FEE,
          },
        },
        { type: 'TradeClosed', data: { ...from(full), reason: 'refunded' } },
      ]);
    expect(state.refundedFee).toBe(TOTAL_FEE);
    expect(orderStatusOf(state)).toEqual({ status: 'refunded', statusCode: 105 });
    expect(deliveryDecision(state)).toBe('blocked');
  });

  it('records payment, refund and close when the full refund is the first notification', () => {
    const full = refundNotice('TRADE_CLOSED', 'REFUND_SUCCESS');
    const { events, state } = given(history(placeOrder())).when(full).outcome();
    expect(types(events)).toEqual(['PaymentSucceeded', 'RefundSucceeded', 'TradeClosed']);
    expect(events[0].data).toMatchObject({
      paymentType: 'instant',
      paidFee: TOTAL_FEE,
      refundStatus: 'REFUND_SUCCESS',
    });
    expect(state.refundedFee).toBe(TOTAL_FEE);
  });

  it('counts only the rest when earlier batch refunds are already counted', () => {
    const { events, state } = given(
      history(...paidInstant, reserve('20240502001', 2_000), batchResult('20240502001', 2_000)),
    )
      .when(refundNotice('TRADE_CLOSED', 'REFUND_SUCCESS'))
      .outcome();
    expect(events[0].data).toMatchObject({ countedFee: TOTAL_FEE - 2_000, matchedBatchNo: '20240502001' });
    expect(state.refundedFee).toBe(TOTAL_FEE);
  });

  it('does not count a full refund twice, nor a later partial echo of it', () => {
    const closed = history(
      ...paidInstant,
      refundNotice('TRADE_CLOSED', 'REFUND_SUCCESS', { gmtRefund: GMT1 }),
    );
    given(closed)
      .when(refundNotice('TRADE_CLOSED', 'REFUND_SUCCESS', { gmtRefund: GMT1, notifyId: 'again' }))
      .thenNothing();
    given(closed)
      .when(refundNotice('TRADE_FINISHED', 'REFUND_SUCCESS', { gmtRefund: GMT1 }))
      .thenNothing();
    given(closed).when(notice('TRADE_FINISHED')).thenNothing();
  });
});

describe('trade channel and batch channel: one refund counts once', () => {
  const batch = '20240502001';

  it('matches a partial notice to the batch in flight, and counts the batch result', () => {
    const partial = refundNotice('TRADE_SUCCESS', 'REFUND_SUCCESS', { gmtRefund: GMT1 });
    const { events } = given(history(...paidInstant, reserve(batch, 3_000)))
      .when(partial)
      .outcome();
    expect(events[0].data).toMatchObject({ countedFee: 0, matchedBatchNo: batch });
    const { state } = given(history(...paidInstant, reserve(batch, 3_000), partial))
      .when(batchResult(batch, 3_000))
      .outcome();
    expect(state.refundedFee).toBe(3_000);
  });

  it('matches a partial notice arriving after the batch result, and counts nothing more', () => {
    const { events, state } = given(history(...paidInstant, reserve(batch, 3_000), batchResult(batch, 3_000)))
      .when(refundNotice('TRADE_SUCCESS', 'REFUND_SUCCESS', { gmtRefund: GMT1 }))
      .outcome();
    expect(events[0].data).toMatchObject({ countedFee: 0, matchedBatchNo: batch });
    expect(state.refundedFee).toBe(3_000);
  });

  it('matches each notice to one batch, oldest first', () => {
    const { events } = given(
      history(
        ...paidInstant,
        reserve(batch, 1_000),
        reserve('20240502002', 1_000),
        refundNotice('TRADE_SUCCESS', 'REFUND_SUCCESS', { gmtRefund: GMT1 }),
      ),
    )
      .when(refundNotice('TRADE_SUCCESS', 'REFUND_SUCCESS', { gmtRefund: GMT2 }))
      .outcome();
    expect(events[0].data).toMatchObject({ matchedBatchNo: '20240502002' });
  });

  it('counts a full notice including the batch in flight, then counts nothing for that batch result', () => {
    const full = refundNotice('TRADE_CLOSED', 'REFUND_SUCCESS');
    const { events, state } = given(history(...paidInstant, reserve(batch, TOTAL_FEE)))
      .when(full)
      .outcome();
    expect(events[0].data).toMatchObject({ countedFee: TOTAL_FEE, matchedBatchNo: batch });
    expect(events[1].data).toMatchObject({ reason: 'refunded' });
    expect(state.refundedFee).toBe(TOTAL_FEE);
    expect(refundableFee(state)).toBe(0);
    given(history(...paidInstant, reserve(batch, TOTAL_FEE), full))
      .when(batchResult(batch, TOTAL_FEE))
      .then([
        {
          type: 'RefundSucceeded',
          data: {
            channel: 'batch',
            outTradeNo: OUT_TRADE_NO,
            tradeNo: TRADE_NO,
            batchNo: batch,
            amount: TOTAL_FEE,
            resultCode: 'SUCCESS',
            countedFee: 0,
            notifyId: `batch-notify-${batch}`,
            notifyTime: '2024-05-02T03:10:00.000Z',
          },
        },
      ]);
  });

  it('counts nothing for a full notice after a batch refunded everything', () => {
    const { events, state } = given(
      history(...paidInstant, reserve(batch, TOTAL_FEE), batchResult(batch, TOTAL_FEE)),
    )
      .when(refundNotice('TRADE_CLOSED', 'REFUND_SUCCESS'))
      .outcome();
    expect(types(events)).toEqual(['RefundSucceeded', 'TradeClosed']);
    expect(events[0].data).toMatchObject({ countedFee: 0, full: true });
    expect(state.refundedFee).toBe(TOTAL_FEE);
  });

  it('keeps the full count when the covered batch then fails (the trade was refunded another way)', () => {
    const { state } = given(
      history(...paidInstant, reserve(batch, 5_000), refundNotice('TRADE_CLOSED', 'REFUND_SUCCESS')),
    )
      .when(batchResult(batch, 5_000, 'TRADE_HAS_CLOSED'))
      .outcome();
    expect(state.refundedFee).toBe(TOTAL_FEE);
    expect(state.anomalies).toEqual([]);
  });
});

describe('trade channel: the escrow negotiation (docs/alipay-protocol.md, "Escrow refunds")', () => {
  const shipped = [
    placeOrder(escrowOrder),
    notice('WAIT_SELLER_SEND_GOODS'),
    notice('WAIT_BUYER_CONFIRM_GOODS'),
  ];
  const at = (minute: number) => `2024-05-05T01:${String(minute).padStart(2, '0')}:00.000Z`;
  const step = (
    refundStatus: Parameters<typeof refundNotice>[1],
    minute: number,
    notifyId = `${refundStatus}-${minute}`,
  ) => refundNotice('WAIT_BUYER_CONFIRM_GOODS', refundStatus, { notifyTime: at(minute), notifyId });

  it('records the buyer asking, the seller refusing, the buyer asking again, and the request closing', () => {
    const ask = step('WAIT_SELLER_AGREE', 1);
    const { state: asking } = given(history(...shipped))
      .when(ask)
      .then([
        {
          type: 'RefundRequested',
          data: { ...from(ask), channel: 'trade', refundStatus: 'WAIT_SELLER_AGREE' },
        },
      ]);
    expect(asking.refundStatus).toBe('WAIT_SELLER_AGREE');

    const refuse = step('SELLER_REFUSE_BUYER', 2);
    given(history(...shipped, ask))
      .when(refuse)
      .then([{ type: 'RefundRefused', data: { ...from(refuse), refundStatus: 'SELLER_REFUSE_BUYER' } }]);

    const askAgain = step('WAIT_SELLER_AGREE', 3);
    given(history(...shipped, ask, refuse))
      .when(askAgain)
      .then([
        {
          type: 'RefundRequested',
          data: { ...from(askAgain), channel: 'trade', refundStatus: 'WAIT_SELLER_AGREE' },
        },
      ]);

    const close = step('REFUND_CLOSED', 4);
    const { state } = given(history(...shipped, ask, refuse, askAgain))
      .when(close)
      .then([{ type: 'RefundClosed', data: { ...from(close), refundStatus: 'REFUND_CLOSED' } }]);
    expect(orderStatusOf(state)).toEqual({ status: 'refund_closed', statusCode: 106 });
  });

  it('ignores a negotiation step sent before the last one applied (a late retry)', () => {
    given(history(...shipped, step('WAIT_SELLER_AGREE', 1), step('SELLER_REFUSE_BUYER', 5)))
      .when(step('WAIT_SELLER_AGREE', 3))
      .thenNothing();
  });

  it('ignores a repeat of the current negotiation step', () => {
    given(history(...shipped, step('WAIT_SELLER_AGREE', 1)))
      .when(step('WAIT_SELLER_AGREE', 2))
      .thenNothing();
  });

  it('ignores a negotiation step whose trade status is behind the order', () => {
    given(history(...shipped, notice('TRADE_FINISHED')))
      .when(step('WAIT_SELLER_AGREE', 1))
      .thenNothing();
  });

  it('holds delivery while the buyer asks for a refund before shipping, and releases it on refusal', () => {
    const paidEscrow = [placeOrder(escrowOrder), notice('WAIT_SELLER_SEND_GOODS')];
    const ask = refundNotice('WAIT_SELLER_SEND_GOODS', 'WAIT_SELLER_AGREE', { notifyTime: at(1) });
    const { state: asking } = given(history(...paidEscrow))
      .when(ask)
      .outcome();
    expect(deliveryDecision(asking)).toBe('blocked');
    const { state: refused } = given(history(...paidEscrow, ask))
      .when(refundNotice('WAIT_SELLER_SEND_GOODS', 'SELLER_REFUSE_BUYER', { notifyTime: at(2) }))
      .outcome();
    expect(deliveryDecision(refused)).toBe('pending');
  });

  it('ends a return-goods refund with the full refund and the close', () => {
    const steps = [
      step('WAIT_SELLER_AGREE', 1),
      step('WAIT_BUYER_RETURN_GOODS', 2),
      step('WAIT_SELLER_CONFIRM_GOODS', 3),
    ];
    const events = history(...shipped, ...steps);
    expect(types(events).slice(-3)).toEqual(['RefundRequested', 'RefundRequested', 'RefundRequested']);
    const { events: ending, state } = given(events)
      .when(refundNotice('TRADE_CLOSED', 'REFUND_SUCCESS', { notifyTime: at(4) }))
      .outcome();
    expect(types(ending)).toEqual(['RefundSucceeded', 'TradeClosed']);
    expect(state.refundedFee).toBe(TOTAL_FEE);
    expect(orderStatusOf(state)).toEqual({ status: 'refunded', statusCode: 105 });
  });

  it('ignores negotiation once the trade is closed', () => {
    given(history(...shipped, refundNotice('TRADE_CLOSED', 'REFUND_SUCCESS')))
      .when(refundNotice('TRADE_CLOSED', 'WAIT_SELLER_AGREE', { notifyTime: at(59) }))
      .thenNothing();
  });

  it('records the payment a refund request implies when it is the first notification', () => {
    const { events } = given(history(placeOrder(escrowOrder)))
      .when(refundNotice('WAIT_SELLER_SEND_GOODS', 'WAIT_SELLER_AGREE'))
      .outcome();
    expect(types(events)).toEqual(['PaymentSucceeded', 'RefundRequested']);
    expect(events[0].data).toMatchObject({ paymentType: 'escrow' });
  });
});
