import { foldEvents } from '../decider';
import { deciderSpec } from '../testing/given-when-then';
import {
  OUT_TRADE_NO,
  SELLER_ID,
  TOTAL_FEE,
  TRADE_NO,
  escrowOrder,
  history,
  notice,
  orderPlaced,
  placeOrder,
  reserve,
  batchResult,
} from '../testing/order-fixtures';
import { deliveryDecision, orderStatusOf } from './order-decisions';
import { orderDecider } from './order-decider';
import type { OrderEvent } from './order-events';
import type { RecordTradeStatus } from './record-trade-status';

const given = deciderSpec(orderDecider);

/** The fields every event from notification `command` carries. */
function from(command: RecordTradeStatus) {
  return {
    notifyId: command.notifyId,
    notifyTime: command.notifyTime,
    source: command.source,
    outTradeNo: OUT_TRADE_NO,
    tradeNo: TRADE_NO,
  };
}

function paid(command: RecordTradeStatus, paymentType: 'instant' | 'escrow'): OrderEvent {
  return {
    type: 'PaymentSucceeded',
    data: {
      ...from(command),
      paymentType,
      paidFee: TOTAL_FEE,
      buyerId: '2088202561123456',
      buyerEmail: '137******70',
      tradeStatus: command.tradeStatus,
      ...(command.times.gmtPayment === undefined ? {} : { gmtPayment: command.times.gmtPayment }),
      ...(command.refundStatus === undefined ? {} : { refundStatus: command.refundStatus }),
    },
  };
}

const types = (events: readonly OrderEvent[]) => events.map((event) => event.type);

describe('RecordTradeStatus: instant payments', () => {
  const success = notice('TRADE_SUCCESS', { times: { gmtPayment: '2024-05-01T02:04:59.000Z' } });

  it('recognises TRADE_SUCCESS as an instant payment', () => {
    const { state } = given([orderPlaced()])
      .when(success)
      .then([paid(success, 'instant')]);
    expect(orderStatusOf(state)).toEqual({ status: 'paid', statusCode: 8 });
    expect(deliveryDecision(state)).toBe('pending');
  });

  it('appends nothing for the same notification again (same notify_id)', () => {
    given(history(placeOrder(), success)).when(success).thenNothing();
  });

  it('appends nothing for the same status in another notification (e.g. return_url after notify)', () => {
    given(history(placeOrder(), success))
      .when({ ...success, notifyId: 'return-notify-id', source: 'return' })
      .thenNothing();
  });

  it('processes a return_url like a notification when it comes first', () => {
    const viaReturn = { ...success, source: 'return' as const, notifyId: 'RqPnCoPT3K9%2Fvwbh3In' };
    given([orderPlaced()])
      .when(viaReturn)
      .then([paid(viaReturn, 'instant')]);
  });

  it('records PaymentAwaited for WAIT_BUYER_PAY, once', () => {
    const waiting = notice('WAIT_BUYER_PAY', { times: { gmtCreate: '2024-05-01T02:01:00.000Z' } });
    const { state } = given([orderPlaced()])
      .when(waiting)
      .then([
        {
          type: 'PaymentAwaited',
          data: { ...from(waiting), tradeStatus: 'WAIT_BUYER_PAY', gmtCreate: '2024-05-01T02:01:00.000Z' },
        },
      ]);
    expect(orderStatusOf(state)).toEqual({ status: 'awaiting_payment', statusCode: 0 });
    expect(deliveryDecision(state)).toBe('none');
    given(history(placeOrder(), waiting))
      .when(notice('WAIT_BUYER_PAY', { notifyId: 'second-wait' }))
      .thenNothing();
  });

  it('ignores a stale WAIT_BUYER_PAY after the payment', () => {
    given(history(placeOrder(), success)).when(notice('WAIT_BUYER_PAY')).thenNothing();
  });

  it('treats TRADE_FINISHED after TRADE_SUCCESS as the end of the trade, not a second payment', () => {
    const finished = notice('TRADE_FINISHED', { times: { gmtClose: '2024-08-01T00:00:00.000Z' } });
    const { state } = given(history(placeOrder(), success))
      .when(finished)
      .then([{ type: 'TradeFinished', data: { ...from(finished), gmtClose: '2024-08-01T00:00:00.000Z' } }]);
    expect(state.paidFee).toBe(TOTAL_FEE);
    expect(orderStatusOf(state)).toEqual({ status: 'finished', statusCode: 4 });
  });

  it('records the payment a TRADE_FINISHED implies when it comes first', () => {
    const finished = notice('TRADE_FINISHED');
    given([orderPlaced()])
      .when(finished)
      .then([paid(finished, 'instant'), { type: 'TradeFinished', data: from(finished) }]);
  });

  it('ignores TRADE_SUCCESS arriving after TRADE_FINISHED', () => {
    given(history(placeOrder(), notice('TRADE_FINISHED')))
      .when(success)
      .thenNothing();
  });

  it('waits on TRADE_PENDING (the seller cannot receive yet), then pays on TRADE_SUCCESS', () => {
    const pending = notice('TRADE_PENDING');
    const { state } = given(history(placeOrder(), notice('WAIT_BUYER_PAY')))
      .when(pending)
      .then([{ type: 'PaymentAwaited', data: { ...from(pending), tradeStatus: 'TRADE_PENDING' } }]);
    expect(state.paid).toBe(false);
    expect(deliveryDecision(state)).toBe('none');
    given(history(placeOrder(), notice('WAIT_BUYER_PAY'), pending))
      .when(success)
      .then([paid(success, 'instant')]);
  });

  it('keeps buyer and time fields absent when the notification has none', () => {
    const bare = notice('TRADE_SUCCESS', { buyer: {} });
    const { events } = given([orderPlaced()]).when(bare).outcome();
    expect(events[0].data).not.toHaveProperty('buyerId');
    expect(events[0].data).not.toHaveProperty('gmtPayment');
  });
});

describe('RecordTradeStatus: escrow payments (trade_create_by_buyer)', () => {
  const placed = placeOrder(escrowOrder);

  it('infers escrow from WAIT_SELLER_SEND_GOODS after WAIT_BUYER_PAY', () => {
    const sendGoods = notice('WAIT_SELLER_SEND_GOODS');
    const { state } = given(history(placed, notice('WAIT_BUYER_PAY')))
      .when(sendGoods)
      .then([paid(sendGoods, 'escrow')]);
    expect(deliveryDecision(state)).toBe('pending');
  });

  it('records GoodsShipped for WAIT_BUYER_CONFIRM_GOODS, then TradeFinished', () => {
    const confirm = notice('WAIT_BUYER_CONFIRM_GOODS', {
      times: { gmtSendGoods: '2024-05-01T03:00:00.000Z' },
    });
    const { state } = given(history(placed, notice('WAIT_BUYER_PAY'), notice('WAIT_SELLER_SEND_GOODS')))
      .when(confirm)
      .then([
        {
          type: 'GoodsShipped',
          data: { ...from(confirm), implied: false, gmtSendGoods: '2024-05-01T03:00:00.000Z' },
        },
      ]);
    expect(orderStatusOf(state)).toEqual({ status: 'shipped', statusCode: null });
    const finished = notice('TRADE_FINISHED');
    given(history(placed, notice('WAIT_BUYER_PAY'), notice('WAIT_SELLER_SEND_GOODS'), confirm))
      .when(finished)
      .then([{ type: 'TradeFinished', data: from(finished) }]);
  });

  it('records payment and shipping when WAIT_BUYER_CONFIRM_GOODS comes first', () => {
    const confirm = notice('WAIT_BUYER_CONFIRM_GOODS');
    given(history(placed))
      .when(confirm)
      .then([paid(confirm, 'escrow'), { type: 'GoodsShipped', data: { ...from(confirm), implied: false } }]);
  });

  it('records the shipping a TRADE_FINISHED implies for an escrow trade not yet seen shipped', () => {
    const finished = notice('TRADE_FINISHED');
    given(history(placed, notice('WAIT_SELLER_SEND_GOODS')))
      .when(finished)
      .then([
        { type: 'GoodsShipped', data: { ...from(finished), implied: true } },
        { type: 'TradeFinished', data: from(finished) },
      ]);
  });

  it('infers instant from TRADE_FINISHED straight after WAIT_BUYER_PAY (the official guide)', () => {
    const finished = notice('TRADE_FINISHED');
    given(history(placed, notice('WAIT_BUYER_PAY')))
      .when(finished)
      .then([paid(finished, 'instant'), { type: 'TradeFinished', data: from(finished) }]);
  });

  it('ignores a late WAIT_SELLER_SEND_GOODS once the goods are shipped', () => {
    given(history(placed, notice('WAIT_BUYER_CONFIRM_GOODS')))
      .when(notice('WAIT_SELLER_SEND_GOODS'))
      .thenNothing();
  });

  it('never infers escrow for create_direct_pay_by_user', () => {
    const sendGoods = notice('WAIT_SELLER_SEND_GOODS');
    given(history(placeOrder(), notice('WAIT_BUYER_PAY')))
      .when(sendGoods)
      .then([paid(sendGoods, 'instant')]);
  });
});

describe('RecordTradeStatus: business checks (docs/product-rules.md, "Business checks")', () => {
  function anomaly(command: RecordTradeStatus, kind: string, detail: string): OrderEvent {
    return {
      type: 'AnomalyDetected',
      data: {
        outTradeNo: OUT_TRADE_NO,
        kind: kind as never,
        detail,
        detectedAt: command.notifyTime,
        notifyId: command.notifyId,
        tradeNo: command.tradeNo,
      },
    };
  }

  it('flags an amount mismatch and never treats the order as paid', () => {
    const wrong = notice('TRADE_SUCCESS', { totalFee: 1 });
    const { state } = given([orderPlaced()])
      .when(wrong)
      .then([anomaly(wrong, 'amount_mismatch', `total_fee 1 fen is not the order's ${TOTAL_FEE} fen`)]);
    expect(state.paid).toBe(false);
    expect(deliveryDecision(state)).toBe('blocked');
    expect(orderStatusOf(state)).toEqual({ status: 'awaiting_payment', statusCode: 0 });
  });

  it('flags a seller mismatch and never treats the order as paid', () => {
    const wrong = notice('TRADE_SUCCESS', { sellerId: '2088000000000001' });
    const { state } = given([orderPlaced()])
      .when(wrong)
      .then([
        anomaly(
          wrong,
          'seller_mismatch',
          `seller_id 2088000000000001 is not the order's seller ${SELLER_ID}`,
        ),
      ]);
    expect(state.paid).toBe(false);
    expect(deliveryDecision(state)).toBe('blocked');
  });

  it('flags both mismatches of one notification', () => {
    const { events } = given([orderPlaced()])
      .when(notice('TRADE_SUCCESS', { sellerId: '2088000000000001', totalFee: 1 }))
      .outcome();
    expect(events.map((e) => e.type === 'AnomalyDetected' && e.data.kind)).toEqual([
      'seller_mismatch',
      'amount_mismatch',
    ]);
  });

  it('records a mismatch once per notification, however often it is retried', () => {
    const wrong = notice('TRADE_SUCCESS', { totalFee: 1 });
    given(history(placeOrder(), wrong)).when(wrong).thenNothing();
  });

  it('keeps the order blocked when a matching notification follows a mismatching one', () => {
    const { state } = given(
      history(placeOrder(), notice('TRADE_SUCCESS', { totalFee: 1, notifyId: 'forged' })),
    )
      .when(notice('TRADE_SUCCESS'))
      .outcome();
    expect(state.paid).toBe(true);
    expect(deliveryDecision(state)).toBe('blocked');
  });

  it('flags a mismatching refund notice too, without applying its refund', () => {
    const { events, state } = given(history(placeOrder(), notice('TRADE_SUCCESS')))
      .when(notice('TRADE_CLOSED', { refundStatus: 'REFUND_SUCCESS', totalFee: 1 }))
      .outcome();
    expect(types(events)).toEqual(['AnomalyDetected']);
    expect(state.refundedFee).toBe(0);
  });

  it('flags a notification for an order never placed (unknown_order), once', () => {
    const stray = notice('TRADE_SUCCESS');
    const { state } = given([])
      .when(stray)
      .then([anomaly(stray, 'unknown_order', `no order ${OUT_TRADE_NO} was placed by this ledger`)]);
    expect(deliveryDecision(state)).toBe('blocked');
    expect(orderStatusOf(state)).toBeUndefined();
    given(history(stray)).when(stray).thenNothing();
  });

  it('applies a notification replayed after its order was placed', () => {
    const stray = notice('TRADE_SUCCESS');
    const { events } = given(history(stray, placeOrder())).when(stray).outcome();
    expect(types(events)).toEqual(['PaymentSucceeded']);
  });

  it('flags a second trade_no for the same order and applies nothing from it', () => {
    const other = notice('TRADE_SUCCESS', { tradeNo: '2024050122001004370000999999', notifyId: 'other' });
    const { events, state } = given(history(placeOrder(), notice('WAIT_BUYER_PAY')))
      .when(other)
      .outcome();
    expect(events).toEqual([
      {
        type: 'AnomalyDetected',
        data: expect.objectContaining({ kind: 'trade_no_mismatch', tradeNo: '2024050122001004370000999999' }),
      },
    ]);
    expect(state.paid).toBe(false);
  });
});

describe('RecordTradeStatus: closing', () => {
  it('closes an unpaid trade (code 32) and never delivers it', () => {
    const closed = notice('TRADE_CLOSED', { times: { gmtClose: '2024-05-02T02:00:00.000Z' } });
    const { state } = given(history(placeOrder(), notice('WAIT_BUYER_PAY')))
      .when(closed)
      .then([
        {
          type: 'TradeClosed',
          data: { ...from(closed), reason: 'unpaid', gmtClose: '2024-05-02T02:00:00.000Z' },
        },
      ]);
    expect(orderStatusOf(state)).toEqual({ status: 'closed', statusCode: 32 });
    expect(deliveryDecision(state)).toBe('none');
  });

  it('ignores a late WAIT_BUYER_PAY after the close', () => {
    given(history(placeOrder(), notice('TRADE_CLOSED')))
      .when(notice('WAIT_BUYER_PAY'))
      .thenNothing();
  });

  it('flags a paid trade closed with no refund known (trade_closed_without_refund)', () => {
    const closed = notice('TRADE_CLOSED');
    const { state } = given(history(placeOrder(), notice('TRADE_SUCCESS')))
      .when(closed)
      .then([
        { type: 'TradeClosed', data: { ...from(closed), reason: 'unexplained' } },
        {
          type: 'AnomalyDetected',
          data: {
            outTradeNo: OUT_TRADE_NO,
            kind: 'trade_closed_without_refund',
            detail: `the trade closed after a payment of ${TOTAL_FEE} fen, but only 0 fen is known refunded`,
            detectedAt: closed.notifyTime,
            notifyId: closed.notifyId,
            tradeNo: TRADE_NO,
          },
        },
      ]);
    expect(deliveryDecision(state)).toBe('blocked');
  });

  it('accepts the close of a paid trade whose remaining amount a batch in flight is refunding', () => {
    const { events } = given(
      history(placeOrder(), notice('TRADE_SUCCESS'), reserve('20240502001', TOTAL_FEE)),
    )
      .when(notice('TRADE_CLOSED'))
      .outcome();
    expect(events).toEqual([{ type: 'TradeClosed', data: expect.objectContaining({ reason: 'refunded' }) }]);
  });

  it('accepts the close of a trade a batch already refunded in full', () => {
    const { events, state } = given(
      history(
        placeOrder(),
        notice('TRADE_SUCCESS'),
        reserve('20240502001', TOTAL_FEE),
        batchResult('20240502001', TOTAL_FEE),
      ),
    )
      .when(notice('TRADE_CLOSED'))
      .outcome();
    expect(events).toEqual([{ type: 'TradeClosed', data: expect.objectContaining({ reason: 'refunded' }) }]);
    expect(orderStatusOf(state)).toEqual({ status: 'refunded', statusCode: 105 });
  });

  it('recognises a payment reported after the trade closed unpaid, and flags it', () => {
    const late = notice('TRADE_SUCCESS');
    const { events, state } = given(history(placeOrder(), notice('TRADE_CLOSED')))
      .when(late)
      .outcome();
    expect(types(events)).toEqual(['PaymentSucceeded', 'AnomalyDetected']);
    expect(events[1].data).toMatchObject({ kind: 'trade_closed_without_refund' });
    expect(state.tradeStatus).toBe('TRADE_CLOSED');
    expect(deliveryDecision(state)).toBe('blocked');
  });

  it('keeps TRADE_CLOSED as the status when TRADE_FINISHED arrives after it', () => {
    const state = foldEvents(
      orderDecider,
      history(
        placeOrder(),
        notice('TRADE_SUCCESS'),
        notice('TRADE_CLOSED', { refundStatus: 'REFUND_SUCCESS' }),
      ),
    );
    expect(state.tradeStatus).toBe('TRADE_CLOSED');
    given(
      history(
        placeOrder(),
        notice('TRADE_SUCCESS'),
        notice('TRADE_CLOSED', { refundStatus: 'REFUND_SUCCESS' }),
      ),
    )
      .when(notice('TRADE_FINISHED'))
      .thenNothing();
  });
});

describe('RecordTradeStatus: a fact read by single_trade_query', () => {
  // A query's fact has no notify_id: it is keyed by what it reports (docs/operations.md, "Reconciliation").
  const byQuery = (tradeStatus: 'WAIT_BUYER_PAY' | 'TRADE_SUCCESS' | 'TRADE_FINISHED') =>
    notice(tradeStatus, {
      source: 'query',
      notifyId: `query:${TRADE_NO}:${tradeStatus}:`,
      notifyTime: '2024-05-01T03:00:00.000Z',
      times: { gmtPayment: '2024-05-01T02:04:59.000Z' },
    });
  const notified = notice('TRADE_SUCCESS', { times: { gmtPayment: '2024-05-01T02:04:59.000Z' } });

  it('records the payment with source query when no notification came', () => {
    const query = byQuery('TRADE_SUCCESS');
    given([orderPlaced()])
      .when(query)
      .then([paid(query, 'instant')]);
  });

  it('makes a later notification of the same payment add nothing', () => {
    given(history(placeOrder(), byQuery('TRADE_SUCCESS')))
      .when(notified)
      .thenNothing();
  });

  it('adds nothing when the notification came first', () => {
    given(history(placeOrder(), notified)).when(byQuery('TRADE_SUCCESS')).thenNothing();
  });

  it('never moves an order back: a query that still sees WAIT_BUYER_PAY after the payment adds nothing', () => {
    given(history(placeOrder(), notified)).when(byQuery('WAIT_BUYER_PAY')).thenNothing();
  });

  it('adds nothing for a query of a paid status behind TRADE_FINISHED', () => {
    const finished = notice('TRADE_FINISHED', { notifyId: 'finished-notify-id' });
    given(history(placeOrder(), notified, finished))
      .when(byQuery('TRADE_SUCCESS'))
      .thenNothing();
  });

  it('records TRADE_FINISHED reported by a query after a notified payment, with source query', () => {
    const query = byQuery('TRADE_FINISHED');
    const { events } = given(history(placeOrder(), notified)).when(query).outcome();
    expect(types(events)).toEqual(['TradeFinished']);
    expect(events[0].data).toMatchObject({ source: 'query', notifyId: query.notifyId });
  });
});
