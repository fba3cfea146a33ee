import { deciderSpec } from '../testing/given-when-then';
import {
  OUT_TRADE_NO,
  history,
  notice,
  placeOrder,
  refundNotice,
  stateAfter,
} from '../testing/order-fixtures';
import type { ImportOrderStatus } from './import-order-status';
import { orderDecider } from './order-decider';
import { deliveryDecision, orderStatusOf, shippingDecision } from './order-decisions';
import type { PhpStatusCode } from './order-status';

const given = deciderSpec(orderDecider);
const imported = placeOrder({ imported: { source: 'user_order.csv:2' }, requestParameters: {} });

function importStatus(statusCode: PhpStatusCode): ImportOrderStatus {
  return {
    type: 'ImportOrderStatus',
    outTradeNo: OUT_TRADE_NO,
    statusCode,
    source: 'user_order.csv:2',
    importedAt: '2026-12-07T03:00:00.000Z',
  };
}

describe('ImportOrderStatus', () => {
  it('records a status no notification explains, saying what the notifications showed', () => {
    const { events, state } = given(history(imported)).when(importStatus(4)).outcome();
    expect(events).toEqual([
      {
        type: 'OrderStatusImported',
        data: {
          outTradeNo: OUT_TRADE_NO,
          statusCode: 4,
          status: 'finished',
          explainedStatus: 'awaiting_payment',
          source: 'user_order.csv:2',
          importedAt: '2026-12-07T03:00:00.000Z',
        },
      },
    ]);
    expect(orderStatusOf(state)).toEqual({ status: 'finished', statusCode: 4 });
  });

  it('appends nothing when the notifications explain the status, or when it was imported before', () => {
    given(history(imported, notice('TRADE_SUCCESS')))
      .when(importStatus(8))
      .thenNothing();
    given(history(imported, importStatus(105)))
      .when(importStatus(105))
      .thenNothing();
  });

  it('refuses an order the ledger placed itself: its status is its own', () => {
    given(history(placeOrder()))
      .when(importStatus(8))
      .thenThrows('INVALID_ORDER', /not placed from/);
  });

  it.each([
    // The facts reach as far as the imported status, or further: they show.
    [8, [refundNotice('TRADE_CLOSED', 'REFUND_SUCCESS')], 'refunded'],
    [0, [notice('TRADE_SUCCESS')], 'paid'],
    // The imported status is further than the facts: it shows.
    [106, [notice('TRADE_SUCCESS')], 'refund_closed'],
  ] as const)('shows imported %s against the facts as %s', (code, facts, shown) => {
    const state = stateAfter(imported, importStatus(code), ...facts);
    expect(orderStatusOf(state)?.status).toBe(shown);
  });

  it('never makes the ledger deliver or ship what the PHP site sold', () => {
    const paid = stateAfter(
      { ...imported, service: 'trade_create_by_buyer' },
      notice('WAIT_SELLER_SEND_GOODS'),
    );
    expect(paid.paid).toBe(true);
    expect(deliveryDecision(paid)).toBe('none');
    expect(shippingDecision(paid)).toBe('none');
    expect(deliveryDecision(stateAfter(placeOrder(), notice('TRADE_SUCCESS')))).toBe('pending');
  });
});
