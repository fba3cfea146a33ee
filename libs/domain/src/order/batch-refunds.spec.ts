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
import type { ReleaseBatchReservation } from './batch-refunds';
import { orderStatusOf, refundableFee, reservedFee } from './order-decisions';
import { orderDecider } from './order-decider';
import type { OrderEvent } from './order-events';

const given = deciderSpec(orderDecider);
const paidInstant = [placeOrder(), notice('TRADE_SUCCESS')];
const BATCH = '20240502001';
const OTHER = '20240502002';
const kinds = (events: readonly OrderEvent[]) =>
  events.map((event) => (event.type === 'AnomalyDetected' ? `${event.type}:${event.data.kind}` : event.type));

function release(batchNo: string, code = 'TRADE_STATUS_ERROR'): ReleaseBatchReservation {
  return {
    type: 'ReleaseBatchReservation',
    outTradeNo: OUT_TRADE_NO,
    batchNo,
    code,
    releasedAt: '2024-05-02T03:01:00.000Z',
  };
}

describe('ReserveBatchRefund', () => {
  it('reserves the amount on a paid instant trade', () => {
    const { state } = given(history(...paidInstant))
      .when(reserve(BATCH, 3_000))
      .then([
        {
          type: 'RefundRequested',
          data: {
            channel: 'batch',
            outTradeNo: OUT_TRADE_NO,
            tradeNo: TRADE_NO,
            batchNo: BATCH,
            amount: 3_000,
            reason: '协商退款',
            requestedAt: '2024-05-02T03:00:00.000Z',
          },
        },
      ]);
    expect(reservedFee(state)).toBe(3_000);
    expect(refundableFee(state)).toBe(TOTAL_FEE - 3_000);
    expect(state.refundedFee).toBe(0);
  });

  it('appends nothing for the same reservation again; refuses another amount under the same batch', () => {
    given(history(...paidInstant, reserve(BATCH, 3_000)))
      .when(reserve(BATCH, 3_000))
      .thenNothing();
    given(history(...paidInstant, reserve(BATCH, 3_000)))
      .when(reserve(BATCH, 3_001))
      .thenThrows('REFUND_RESERVATION_CONFLICT');
  });

  it('refuses a batch already settled on this order', () => {
    given(history(...paidInstant, reserve(BATCH, 3_000), batchResult(BATCH, 3_000)))
      .when(reserve(BATCH, 3_000))
      .thenThrows('REFUND_RESERVATION_CONFLICT');
  });

  it('reserves exactly what is refundable, and refuses one fen more', () => {
    given(history(...paidInstant))
      .when(reserve(BATCH, TOTAL_FEE + 1))
      .thenThrows('REFUND_EXCEEDS_REFUNDABLE', /120\.01 exceeds the 120\.00/);
    const { events } = given(history(...paidInstant))
      .when(reserve(BATCH, TOTAL_FEE))
      .outcome();
    expect(events).toHaveLength(1);
  });

  it('counts refunds and other batches in flight: refundable = paid − refunded − reserved', () => {
    const before = history(
      ...paidInstant,
      reserve('20240501001', 2_000),
      batchResult('20240501001', 2_000),
      reserve(OTHER, 4_000),
    );
    given(before)
      .when(reserve(BATCH, TOTAL_FEE - 6_000 + 1))
      .thenThrows('REFUND_EXCEEDS_REFUNDABLE');
    const { state } = given(before)
      .when(reserve(BATCH, TOTAL_FEE - 6_000))
      .outcome();
    expect(refundableFee(state)).toBe(0);
  });

  it('refuses the second of two batches racing for the last yuan', () => {
    const first = history(...paidInstant, reserve(BATCH, TOTAL_FEE - 100), reserve(OTHER, 100));
    given(first).when(reserve('20240502003', 100)).thenThrows('REFUND_EXCEEDS_REFUNDABLE');
  });

  it('makes a released reservation refundable again', () => {
    const { state } = given(history(...paidInstant, reserve(BATCH, TOTAL_FEE)))
      .when(release(BATCH))
      .outcome();
    expect(refundableFee(state)).toBe(TOTAL_FEE);
  });

  it.each([
    ['an order never placed', [], 'ORDER_NOT_FOUND'],
    ['an unpaid order', [placeOrder(), notice('WAIT_BUYER_PAY')], 'ORDER_NOT_PAID'],
    [
      'an order whose payment did not match',
      [placeOrder(), notice('TRADE_SUCCESS', { totalFee: 1 })],
      'ORDER_NOT_PAID',
    ],
    ['an escrow trade', [placeOrder(escrowOrder), notice('WAIT_SELLER_SEND_GOODS')], 'REFUND_NOT_ALLOWED'],
    ['a finished trade', [...paidInstant, notice('TRADE_FINISHED')], 'REFUND_NOT_ALLOWED'],
    [
      'a closed trade',
      [...paidInstant, refundNotice('TRADE_CLOSED', 'REFUND_SUCCESS')],
      'REFUND_NOT_ALLOWED',
    ],
  ] as const)('refuses %s', (_name, commands, code) => {
    given(history(...commands))
      .when(reserve(BATCH, 100))
      .thenThrows(code);
  });

  it.each([0, -1, 1.5])('refuses an amount of %s fen', (amount) => {
    given(history(...paidInstant))
      .when(reserve(BATCH, amount))
      .thenThrows('INVALID_BATCH');
  });
});

describe('ReleaseBatchReservation (the batch was rejected)', () => {
  it('releases the reservation with RefundFailed at the rejected stage', () => {
    given(history(...paidInstant, reserve(BATCH, 3_000)))
      .when(release(BATCH, 'BATCH_NUM_EXCEED_LIMIT'))
      .then([
        {
          type: 'RefundFailed',
          data: {
            channel: 'batch',
            outTradeNo: OUT_TRADE_NO,
            tradeNo: TRADE_NO,
            batchNo: BATCH,
            amount: 3_000,
            code: 'BATCH_NUM_EXCEED_LIMIT',
            stage: 'rejected',
            failedAt: '2024-05-02T03:01:00.000Z',
          },
        },
      ]);
  });

  it('appends nothing twice, nor for a batch that reserved nothing here', () => {
    given(history(...paidInstant, reserve(BATCH, 3_000), release(BATCH)))
      .when(release(BATCH))
      .thenNothing();
    given(history(...paidInstant))
      .when(release(BATCH))
      .thenNothing();
  });
});

describe('RecordBatchRefundResult', () => {
  const reserving = [...paidInstant, reserve(BATCH, 3_000)];
  const reserved = history(...reserving);

  it('counts a SUCCESS record and releases its reservation', () => {
    const { state } = given(reserved)
      .when(batchResult(BATCH, 3_000))
      .then([
        {
          type: 'RefundSucceeded',
          data: {
            channel: 'batch',
            outTradeNo: OUT_TRADE_NO,
            tradeNo: TRADE_NO,
            batchNo: BATCH,
            amount: 3_000,
            resultCode: 'SUCCESS',
            countedFee: 3_000,
            notifyId: `batch-notify-${BATCH}`,
            notifyTime: '2024-05-02T03:10:00.000Z',
          },
        },
      ]);
    expect(state.refundedFee).toBe(3_000);
    expect(reservedFee(state)).toBe(0);
    expect(refundableFee(state)).toBe(TOTAL_FEE - 3_000);
    expect(orderStatusOf(state)).toEqual({ status: 'partially_refunded', statusCode: null });
  });

  it('appends nothing for the same record again (batch_no, trade_no), from any notification', () => {
    given(history(...reserving, batchResult(BATCH, 3_000)))
      .when(batchResult(BATCH, 3_000, 'SUCCESS', { notifyId: 'retry' }))
      .thenNothing();
  });

  it('marks the order refunded when the batches add up to the payment', () => {
    const { state } = given(history(...paidInstant, reserve(BATCH, TOTAL_FEE)))
      .when(batchResult(BATCH, TOTAL_FEE))
      .outcome();
    expect(orderStatusOf(state)).toEqual({ status: 'refunded', statusCode: 105 });
  });

  it('records a failed record with its code and releases the reservation', () => {
    const { state } = given(reserved)
      .when(batchResult(BATCH, 3_000, 'SELLER_BALANCE_NOT_ENOUGH'))
      .then([
        {
          type: 'RefundFailed',
          data: {
            channel: 'batch',
            outTradeNo: OUT_TRADE_NO,
            tradeNo: TRADE_NO,
            batchNo: BATCH,
            amount: 3_000,
            code: 'SELLER_BALANCE_NOT_ENOUGH',
            stage: 'result',
            failedAt: '2024-05-02T03:10:00.000Z',
            notifyId: `batch-notify-${BATCH}`,
          },
        },
      ]);
    expect(refundableFee(state)).toBe(TOTAL_FEE);
    expect(state.refundedFee).toBe(0);
    given(history(...reserving, batchResult(BATCH, 3_000, 'SELLER_BALANCE_NOT_ENOUGH')))
      .when(batchResult(BATCH, 3_000, 'SELLER_BALANCE_NOT_ENOUGH'))
      .thenNothing();
  });

  it('treats an unknown code, or a code in the wrong case, as a failure', () => {
    for (const code of ['SOMETHING_NEW', 'success']) {
      const { events } = given(reserved)
        .when(batchResult(BATCH, 3_000, code))
        .outcome();
      expect(events).toEqual([
        { type: 'RefundFailed', data: expect.objectContaining({ code, stage: 'result' }) },
      ]);
    }
  });

  it('counts the amount Alipay refunded when it differs from the one submitted, and flags it', () => {
    const { events, state } = given(reserved).when(batchResult(BATCH, 2_500)).outcome();
    expect(kinds(events)).toEqual(['AnomalyDetected:refund_amount_mismatch', 'RefundSucceeded']);
    expect(state.refundedFee).toBe(2_500);
    expect(reservedFee(state)).toBe(0);
  });

  it('never applies a result that would refund more than was paid (over_refund)', () => {
    const nearlyAll = [
      ...paidInstant,
      reserve('20240501001', TOTAL_FEE - 1_000),
      reserve(BATCH, 1_000),
      batchResult('20240501001', TOTAL_FEE - 1_000),
    ];
    const { events, state } = given(history(...nearlyAll))
      .when(batchResult(BATCH, 1_001))
      .outcome();
    expect(kinds(events)).toEqual(['AnomalyDetected:refund_amount_mismatch', 'AnomalyDetected:over_refund']);
    expect(events[1].data).toMatchObject({ batchNo: BATCH, settlesBatch: true });
    expect(state.refundedFee).toBe(TOTAL_FEE - 1_000);
    expect(reservedFee(state)).toBe(0);
    given(history(...nearlyAll, batchResult(BATCH, 1_001)))
      .when(batchResult(BATCH, 1_001))
      .thenNothing();
  });

  it('counts a success nobody reserved when it fits, and flags it', () => {
    const { events, state } = given(history(...paidInstant))
      .when(batchResult(OTHER, 1_000))
      .outcome();
    expect(kinds(events)).toEqual(['AnomalyDetected:refund_result_unmatched', 'RefundSucceeded']);
    expect(state.refundedFee).toBe(1_000);
  });

  it('counts a success that arrives after the batch was rejected, and flags it', () => {
    const { events, state } = given(history(...reserving, release(BATCH)))
      .when(batchResult(BATCH, 3_000))
      .outcome();
    expect(kinds(events)).toEqual(['AnomalyDetected:refund_result_unmatched', 'RefundSucceeded']);
    expect(events[0].data).toMatchObject({ detail: expect.stringMatching(/after it was rejected/) });
    expect(state.refundedFee).toBe(3_000);
  });

  it('ignores a failure for a rejected batch; flags a failure nobody reserved, once', () => {
    given(history(...reserving, release(BATCH)))
      .when(batchResult(BATCH, 3_000, 'TRADE_STATUS_ERROR'))
      .thenNothing();
    const { events } = given(history(...paidInstant))
      .when(batchResult(OTHER, 3_000, 'TRADE_STATUS_ERROR'))
      .outcome();
    expect(kinds(events)).toEqual(['AnomalyDetected:refund_result_unmatched']);
    given(history(...paidInstant, batchResult(OTHER, 3_000, 'TRADE_STATUS_ERROR')))
      .when(batchResult(OTHER, 3_000, 'TRADE_STATUS_ERROR'))
      .thenNothing();
  });

  it('flags a result for another trade, or for an order never placed, once', () => {
    const { events, state } = given(reserved)
      .when(batchResult(BATCH, 3_000, 'SUCCESS', { tradeNo: '2024050122001004370000000001' }))
      .outcome();
    expect(kinds(events)).toEqual(['AnomalyDetected:refund_result_unmatched']);
    // This order's own record of the batch is still to come: its reservation stays.
    expect(reservedFee(state)).toBe(3_000);
    given(history(batchResult(BATCH, 3_000)))
      .when(batchResult(BATCH, 3_000))
      .thenNothing();
  });

  // docs/alipay-protocol.md, "Batch refund results"
  describe('TRADE_HAS_CLOSED (usually already refunded)', () => {
    it('is "already refunded" when the ledger knows an earlier refund: nothing more is counted', () => {
      const { events, state } = given(
        history(
          ...paidInstant,
          reserve('20240501001', 1_000),
          batchResult('20240501001', 1_000),
          reserve(BATCH, 3_000),
        ),
      )
        .when(batchResult(BATCH, 3_000, 'TRADE_HAS_CLOSED'))
        .outcome();
      expect(events).toEqual([
        {
          type: 'RefundSucceeded',
          data: expect.objectContaining({ resultCode: 'TRADE_HAS_CLOSED', countedFee: 0, batchNo: BATCH }),
        },
      ]);
      expect(state.refundedFee).toBe(1_000);
      expect(reservedFee(state)).toBe(0);
    });

    it('is an anomaly when the ledger knows no earlier refund; the reservation is released', () => {
      const { events, state } = given(reserved)
        .when(batchResult(BATCH, 3_000, 'TRADE_HAS_CLOSED'))
        .outcome();
      expect(events).toEqual([
        {
          type: 'AnomalyDetected',
          data: expect.objectContaining({
            kind: 'trade_closed_without_refund',
            batchNo: BATCH,
            settlesBatch: true,
          }),
        },
      ]);
      expect(state.refundedFee).toBe(0);
      expect(reservedFee(state)).toBe(0);
      given(history(...reserving, batchResult(BATCH, 3_000, 'TRADE_HAS_CLOSED')))
        .when(batchResult(BATCH, 3_000, 'TRADE_HAS_CLOSED'))
        .thenNothing();
    });

    it('counts a partial refund reported on the trade channel as an earlier refund', () => {
      const { events } = given(
        history(
          ...reserving,
          refundNotice('TRADE_SUCCESS', 'REFUND_SUCCESS', { gmtRefund: '2024-05-01T09:00:00.000Z' }),
        ),
      )
        .when(batchResult(BATCH, 3_000, 'TRADE_HAS_CLOSED'))
        .outcome();
      expect(kinds(events)).toEqual(['RefundSucceeded']);
    });

    it('is unmatched when nothing was reserved', () => {
      const { events } = given(history(...paidInstant))
        .when(batchResult(BATCH, 3_000, 'TRADE_HAS_CLOSED'))
        .outcome();
      expect(kinds(events)).toEqual(['AnomalyDetected:refund_result_unmatched']);
    });
  });
});
