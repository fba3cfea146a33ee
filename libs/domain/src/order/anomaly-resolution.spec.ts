import fc from 'fast-check';
import { deciderSpec } from '../testing/given-when-then';
import { OUT_TRADE_NO, TOTAL_FEE, history, notice, placeOrder, stateAfter } from '../testing/order-fixtures';
import type { ResolveAnomalies } from './anomaly-resolution';
import { deliveryDecision } from './order-decisions';
import { orderDecider, type OrderCommand } from './order-decider';

const given = deciderSpec(orderDecider);
const RESOLVED_AT = '2024-05-01T03:00:00.000Z';

function resolve(
  decision: ResolveAnomalies['decision'],
  overrides: Partial<ResolveAnomalies> = {},
): ResolveAnomalies {
  return {
    type: 'ResolveAnomalies',
    outTradeNo: OUT_TRADE_NO,
    decision,
    operator: 'ops-alice',
    reason: 'seller id changed with the contract on 1 May; Alipay support confirmed',
    resolvedAt: RESOLVED_AT,
    ...overrides,
  };
}

// Paid, then a second notice naming another trade: an anomaly that blocks the delivery.
const paidThenAnomaly = [
  placeOrder(),
  notice('TRADE_SUCCESS'),
  notice('TRADE_FINISHED', { tradeNo: '2024050122001004370000999999', notifyId: 'other-trade' }),
];

describe('ResolveAnomalies (an operator decides on the open anomalies)', () => {
  it('accept: the anomalies stop blocking, the order is delivered after all, with who and why on record', () => {
    expect(deliveryDecision(stateAfter(...paidThenAnomaly))).toBe('blocked');
    const { state } = given(history(...paidThenAnomaly))
      .when(resolve('accept'))
      .then([
        {
          type: 'AnomalyResolved',
          data: {
            outTradeNo: OUT_TRADE_NO,
            decision: 'accept',
            operator: 'ops-alice',
            reason: 'seller id changed with the contract on 1 May; Alipay support confirmed',
            kinds: ['trade_no_mismatch'],
            resolvedAt: RESOLVED_AT,
          },
        },
      ]);
    expect(deliveryDecision(state)).toBe('pending');
    expect(state.anomalies.map((a) => a.resolution)).toEqual(['accepted']);
  });

  it('confirm: the order stays blocked, and the confirmed anomaly is closed for good', () => {
    const { state } = given(history(...paidThenAnomaly))
      .when(resolve('confirm'))
      .outcome();
    expect(deliveryDecision(state)).toBe('blocked');
    given(history(...paidThenAnomaly, resolve('confirm')))
      .when(resolve('accept'))
      .thenThrows('NO_OPEN_ANOMALY', /already resolved/);
  });

  it('a later anomaly blocks again until it is resolved in turn', () => {
    const later = notice('TRADE_CLOSED', { tradeNo: '2024050122001004370000888888', notifyId: 'third' });
    const state = stateAfter(...paidThenAnomaly, resolve('accept'), later);
    expect(deliveryDecision(state)).toBe('blocked');
    const { events } = given(history(...paidThenAnomaly, resolve('accept'), later))
      .when(resolve('accept'))
      .outcome();
    expect(events).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ kinds: ['trade_no_mismatch'] }) }),
    ]);
  });

  it('does not make an order paid: an amount mismatch accepted leaves nothing to deliver', () => {
    const mismatch = [placeOrder(), notice('TRADE_SUCCESS', { totalFee: TOTAL_FEE + 1 })];
    expect(deliveryDecision(stateAfter(...mismatch, resolve('accept')))).toBe('none');
  });

  it('refuses an order without an open anomaly, and a resolution without who or why', () => {
    given(history(placeOrder(), notice('TRADE_SUCCESS')))
      .when(resolve('accept'))
      .thenThrows('NO_OPEN_ANOMALY', /has no anomaly/);
    given(history(...paidThenAnomaly))
      .when(resolve('accept', { reason: '   ' }))
      .thenThrows('INVALID_RESOLUTION', /reason/);
    given(history(...paidThenAnomaly))
      .when(resolve('accept', { reason: 'x'.repeat(501) }))
      .thenThrows('INVALID_RESOLUTION', /reason/);
    for (const operator of ['', ' alice', 'bob\n', 'é', 'o'.repeat(65)]) {
      given(history(...paidThenAnomaly))
        .when(resolve('accept', { operator }))
        .thenThrows('INVALID_RESOLUTION', /operator/);
    }
  });

  it('property: delivery is blocked exactly while an anomaly no operator accepted remains', () => {
    const step = fc.oneof(
      fc.constant('anomaly' as const),
      fc.constant('accept' as const),
      fc.constant('confirm' as const),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 12 }), (steps) => {
        const commands: OrderCommand[] = [placeOrder(), notice('TRADE_SUCCESS')];
        let unaccepted = 0;
        let open = 0;
        steps.forEach((kind, index) => {
          if (kind === 'anomaly') {
            commands.push(
              notice('TRADE_FINISHED', {
                tradeNo: `20240501220010043700009${index}`,
                notifyId: `n-${index}`,
              }),
            );
            open++;
            unaccepted++;
            return;
          }
          if (open === 0) return;
          commands.push(resolve(kind === 'accept' ? 'accept' : 'confirm'));
          if (kind === 'accept') unaccepted -= open;
          open = 0;
        });
        const state = stateAfter(...commands);
        expect(deliveryDecision(state)).toBe(unaccepted > 0 ? 'blocked' : 'pending');
      }),
    );
  });
});
