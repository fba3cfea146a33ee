import { deciderSpec } from '../testing/given-when-then';
import {
  OUT_TRADE_NO,
  TRADE_NO,
  batchResult,
  escrowOrder,
  history,
  notice,
  placeOrder,
  refundNotice,
  reserve,
} from '../testing/order-fixtures';
import type { CompleteDelivery, CompleteReturn, ConfirmShipping } from './fulfilment';
import { deliveryDecision, returnDecision, shippingDecision } from './order-decisions';
import { orderDecider } from './order-decider';

const given = deciderSpec(orderDecider);

const deliver: CompleteDelivery = {
  type: 'CompleteDelivery',
  outTradeNo: OUT_TRADE_NO,
  deliveredAt: '2024-05-01T02:06:00.000Z',
  reference: 'fulfil-77',
};
const takeBack: CompleteReturn = {
  type: 'CompleteReturn',
  outTradeNo: OUT_TRADE_NO,
  returnedAt: '2024-05-09T00:00:00.000Z',
};

function shippingResult(result: ConfirmShipping['result']): ConfirmShipping {
  return { type: 'ConfirmShipping', outTradeNo: OUT_TRADE_NO, result, at: '2024-05-01T02:07:00.000Z' };
}

const paidInstant = [placeOrder(), notice('TRADE_SUCCESS')];
const paidEscrow = [placeOrder(escrowOrder), notice('WAIT_BUYER_PAY'), notice('WAIT_SELLER_SEND_GOODS')];

describe('CompleteDelivery', () => {
  it('records the delivery of a paid order, once', () => {
    const { state } = given(history(...paidInstant))
      .when(deliver)
      .then([
        {
          type: 'DeliveryCompleted',
          data: { outTradeNo: OUT_TRADE_NO, deliveredAt: '2024-05-01T02:06:00.000Z', reference: 'fulfil-77' },
        },
      ]);
    expect(deliveryDecision(state)).toBe('delivered');
    given(history(...paidInstant, deliver))
      .when(deliver)
      .thenNothing();
  });

  it('records a delivery whose hook ran before a refund was recorded, so that the return can follow', () => {
    const { state } = given(history(...paidInstant, refundNotice('TRADE_CLOSED', 'REFUND_SUCCESS')))
      .when(deliver)
      .outcome();
    expect(state.delivered).toBe(true);
    expect(returnDecision(state)).toBe('pending');
  });

  it.each([
    ['an order never placed', []],
    ['an unpaid order', [placeOrder(), notice('WAIT_BUYER_PAY')]],
    ['an order whose payment did not match', [placeOrder(), notice('TRADE_SUCCESS', { totalFee: 1 })]],
  ] as const)('refuses %s: DELIVERY_NOT_DUE', (_name, commands) => {
    given(history(...commands))
      .when(deliver)
      .thenThrows('DELIVERY_NOT_DUE');
  });
});

describe('CompleteReturn', () => {
  const refundedAfterDelivery = [...paidInstant, deliver, refundNotice('TRADE_CLOSED', 'REFUND_SUCCESS')];

  it('records taking back the goods of a delivered, fully refunded order, once', () => {
    const { state } = given(history(...refundedAfterDelivery))
      .when(takeBack)
      .then([
        {
          type: 'ReturnCompleted',
          data: { outTradeNo: OUT_TRADE_NO, returnedAt: '2024-05-09T00:00:00.000Z' },
        },
      ]);
    expect(returnDecision(state)).toBe('returned');
    given(history(...refundedAfterDelivery, takeBack))
      .when(takeBack)
      .thenNothing();
  });

  it('lets an admin settle a manual review (partial refund) with a return', () => {
    const partly = [
      ...paidInstant,
      deliver,
      reserve('20240502001', 1_000),
      batchResult('20240502001', 1_000),
    ];
    const { events } = given(history(...partly))
      .when({ ...takeBack, reference: 'review-12' })
      .outcome();
    expect(events).toEqual([
      {
        type: 'ReturnCompleted',
        data: { outTradeNo: OUT_TRADE_NO, returnedAt: '2024-05-09T00:00:00.000Z', reference: 'review-12' },
      },
    ]);
  });

  it.each([
    ['a delivered order not refunded', [...paidInstant, deliver]],
    ['a refunded order never delivered', [...paidInstant, refundNotice('TRADE_CLOSED', 'REFUND_SUCCESS')]],
  ] as const)('refuses %s: RETURN_NOT_DUE', (_name, commands) => {
    given(history(...commands))
      .when(takeBack)
      .thenThrows('RETURN_NOT_DUE');
  });
});

describe('ConfirmShipping (send_goods_confirm_by_platform for escrow trades)', () => {
  const delivered = [...paidEscrow, deliver];

  it('is due once an escrow trade is delivered, and records the confirmation', () => {
    expect(
      shippingDecision(history(...paidEscrow).reduce(orderDecider.evolve, orderDecider.initialState())),
    ).toBe('none');
    const { state } = given(history(...delivered))
      .when(shippingResult({ outcome: 'confirmed' }))
      .then([
        {
          type: 'ShippingConfirmed',
          data: {
            outTradeNo: OUT_TRADE_NO,
            tradeNo: TRADE_NO,
            attempt: 1,
            confirmedAt: '2024-05-01T02:07:00.000Z',
          },
        },
      ]);
    expect(shippingDecision(state)).toBe('confirmed');
    given(history(...delivered, shippingResult({ outcome: 'confirmed' })))
      .when(shippingResult({ outcome: 'confirmed' }))
      .thenNothing();
  });

  it('counts failed attempts, stays due while they are retryable, and gives up on a permanent one', () => {
    const failure = shippingResult({ outcome: 'failed', code: 'SYSTEM_ERROR', retryable: true });
    const { state } = given(history(...delivered))
      .when(failure)
      .then([
        {
          type: 'ShippingConfirmationFailed',
          data: {
            outTradeNo: OUT_TRADE_NO,
            tradeNo: TRADE_NO,
            attempt: 1,
            code: 'SYSTEM_ERROR',
            retryable: true,
            failedAt: '2024-05-01T02:07:00.000Z',
          },
        },
      ]);
    expect(shippingDecision(state)).toBe('pending');
    const { events, state: confirmed } = given(history(...delivered, failure))
      .when(shippingResult({ outcome: 'confirmed' }))
      .outcome();
    expect(events[0].data).toMatchObject({ attempt: 2 });
    expect(shippingDecision(confirmed)).toBe('confirmed');

    const permanent = shippingResult({ outcome: 'failed', code: 'TRADE_NOT_EXIST', retryable: false });
    const { state: failed } = given(history(...delivered, failure))
      .when(permanent)
      .outcome();
    expect(shippingDecision(failed)).toBe('failed');
    given(history(...delivered, failure, permanent))
      .when(failure)
      .thenThrows('SHIPPING_NOT_DUE');
  });

  it('appends nothing once Alipay reports the goods shipped', () => {
    given(history(...delivered, notice('WAIT_BUYER_CONFIRM_GOODS')))
      .when(shippingResult({ outcome: 'failed', code: 'TRADE_STATUS_ERROR', retryable: false }))
      .thenNothing();
  });

  it.each([
    ['an instant trade', [...paidInstant, deliver]],
    ['an escrow trade not delivered yet', paidEscrow],
    ['a closed escrow trade', [...delivered, refundNotice('TRADE_CLOSED', 'REFUND_SUCCESS')]],
  ] as const)('refuses %s: SHIPPING_NOT_DUE', (_name, commands) => {
    given(history(...commands))
      .when(shippingResult({ outcome: 'confirmed' }))
      .thenThrows('SHIPPING_NOT_DUE');
  });
});
