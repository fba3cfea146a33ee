import { deciderSpec } from '../testing/given-when-then';
import { OUT_TRADE_NO, notice, orderPlaced, placeOrder } from '../testing/order-fixtures';
import { orderDecider } from './order-decider';

const given = deciderSpec(orderDecider);

describe('PlaceOrder', () => {
  it('places a new order with its request parameters frozen', () => {
    given([]).when(placeOrder()).then([orderPlaced()]);
  });

  it('keeps the body when there is one', () => {
    given([])
      .when(placeOrder({ body: '一年有效' }))
      .then([orderPlaced({ body: '一年有效' })]);
  });

  it('copies the request parameters, so that a caller mutating its object cannot change the event', () => {
    const command = placeOrder();
    const parameters = { ...command.requestParameters };
    const { events } = given([])
      .when({ ...command, requestParameters: parameters })
      .outcome();
    parameters.total_fee = '0.01';
    expect(events[0]).toEqual(orderPlaced());
  });

  it('appends nothing when the same order is placed again, whenever', () => {
    given([orderPlaced()])
      .when(placeOrder({ placedAt: '2024-05-03T00:00:00.000Z' }))
      .thenNothing();
  });

  it.each([
    ['totalFee', { totalFee: 12_001 }],
    ['subject', { subject: '会员月卡' }],
    ['body', { body: 'extra' }],
    ['service', { service: 'trade_create_by_buyer' as const }],
    ['sellerId', { sellerId: '2088101122136242' }],
    ['requestParameters', { requestParameters: { ...placeOrder().requestParameters, total_fee: '120.01' } }],
    ['one parameter more', { requestParameters: { ...placeOrder().requestParameters, it_b_pay: '1h' } }],
  ])('refuses the same out_trade_no with another %s: ORDER_CONFLICT', (_field, overrides) => {
    given([orderPlaced()]).when(placeOrder(overrides)).thenThrows('ORDER_CONFLICT', new RegExp(OUT_TRADE_NO));
  });

  it('places an order whose stream already holds an unknown_order anomaly', () => {
    const { events } = given([]).when(notice('TRADE_SUCCESS')).outcome();
    expect(events.map((e) => e.type)).toEqual(['AnomalyDetected']);
    given(events).when(placeOrder()).then([orderPlaced()]);
  });

  it.each([
    ['outTradeNo', { outTradeNo: 'has space' }, 'INVALID_OUT_TRADE_NO'],
    ['outTradeNo', { outTradeNo: 'x'.repeat(65) }, 'INVALID_OUT_TRADE_NO'],
    ['subject', { subject: '   ' }, 'INVALID_ORDER'],
    // 86 CJK characters are 258 UTF-8 bytes: over Alipay's 256.
    ['subject', { subject: '年'.repeat(86) }, 'INVALID_ORDER'],
    ['body', { body: 'b'.repeat(1001) }, 'INVALID_ORDER'],
    ['totalFee', { totalFee: 0 }, 'INVALID_ORDER'],
    ['totalFee', { totalFee: -100 }, 'INVALID_ORDER'],
    ['totalFee', { totalFee: 12.5 }, 'INVALID_ORDER'],
    ['totalFee', { totalFee: 10_000_000_001 }, 'INVALID_ORDER'],
    ['service', { service: 'create_partner_trade_by_buyer' as never }, 'INVALID_ORDER'],
    ['sellerId', { sellerId: '1088101122136241' }, 'INVALID_ORDER'],
  ] as const)('refuses an invalid %s (%j)', (field, overrides, code) => {
    const error = given([]).when(placeOrder(overrides)).thenThrows(code);
    expect(error.field).toBe(field);
  });

  it('accepts the limits: 256-byte subject, 0.01 and 100000000.00 yuan', () => {
    given([])
      .when(placeOrder({ subject: 'a'.repeat(256) }))
      .then([orderPlaced({ subject: 'a'.repeat(256) })]);
    given([])
      .when(placeOrder({ totalFee: 1 }))
      .then([orderPlaced({ totalFee: 1 })]);
    given([])
      .when(placeOrder({ totalFee: 10_000_000_000 }))
      .then([orderPlaced({ totalFee: 10_000_000_000 })]);
  });
});
