import { REFUND_STATUSES, TRADE_STATUSES } from '@ledger/alipay-protocol';
import fc from 'fast-check';
import { DomainError } from '../domain-error';
import {
  TOTAL_FEE,
  batchResult,
  escrowOrder,
  notice,
  placeOrder,
  refundNotice,
  reserve,
} from '../testing/order-fixtures';
import { deliveryDecision, orderStatusOf, refundableFee, returnDecision } from './order-decisions';
import { orderDecider, type OrderCommand } from './order-decider';
import type { OrderEvent } from './order-events';
import type { OrderState } from './order-state';
import type { RecordTradeStatus } from './record-trade-status';

// Properties of the rules (docs/product-rules.md, "Rules"): notifications arrive out of order and more than
// once, yet the monotonic part of the order ends the same; and whatever arrives, refunds never exceed what
// was paid.

/** Applies commands one by one; a refused merchant command (DomainError) appends nothing. */
function run(commands: readonly OrderCommand[], check?: (state: OrderState, command: OrderCommand) => void) {
  const events: OrderEvent[] = [];
  let state = orderDecider.initialState();
  for (const command of commands) {
    let decided: OrderEvent[] = [];
    try {
      decided = orderDecider.decide(command, state);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
    events.push(...decided);
    state = decided.reduce(orderDecider.evolve, state);
    check?.(state, command);
  }
  return { events, state };
}

/** What must not depend on the order of arrival: the trade-status part and what the projections show. */
function monotonicPart(state: OrderState) {
  return {
    status: orderStatusOf(state),
    tradeStatus: state.tradeStatus,
    tradeNo: state.tradeNo,
    paid: state.paid,
    paidFee: state.paidFee,
    refundedFee: state.refundedFee,
    closed: state.closed,
    anomalies: state.anomalies.length,
    delivery: deliveryDecision(state),
    return: returnDecision(state),
  };
}

const day = (n: number) => `2024-05-${String(n).padStart(2, '0')}T01:00:00.000Z`;

/** Lifecycles Alipay can notify for one instant trade (docs/alipay-protocol.md, "Instant trades"). */
const instantLifecycle = fc
  .record({
    waitFirst: fc.boolean(),
    partials: fc.integer({ min: 0, max: 3 }),
    end: fc.constantFrom('open', 'finished', 'refunded', 'refunded_then_finished'),
  })
  .map(({ waitFirst, partials, end }) => {
    const notices: RecordTradeStatus[] = waitFirst ? [notice('WAIT_BUYER_PAY')] : [];
    notices.push(notice('TRADE_SUCCESS'));
    const gmts = Array.from({ length: partials }, (_, i) => day(3 + i));
    for (const gmtRefund of gmts)
      notices.push(refundNotice('TRADE_SUCCESS', 'REFUND_SUCCESS', { gmtRefund }));
    const last = gmts.at(-1);
    if (end === 'finished') {
      notices.push(
        last === undefined
          ? notice('TRADE_FINISHED')
          : refundNotice('TRADE_FINISHED', 'REFUND_SUCCESS', { gmtRefund: last }),
      );
    }
    if (end === 'refunded' || end === 'refunded_then_finished') {
      notices.push(refundNotice('TRADE_CLOSED', 'REFUND_SUCCESS', { gmtRefund: day(9) }));
      if (end === 'refunded_then_finished') {
        notices.push(refundNotice('TRADE_FINISHED', 'REFUND_SUCCESS', { gmtRefund: day(9) }));
      }
    }
    return { place: placeOrder(), notices };
  });

/**
 * Lifecycles of an escrow trade (docs/alipay-protocol.md, "Escrow trades"), cut at any step, or closed
 * unpaid, or fully refunded.
 */
const escrowLifecycle = fc
  .record({
    steps: fc.integer({ min: 1, max: 4 }),
    repeatWait: fc.boolean(),
    end: fc.constantFrom('path', 'closed_unpaid', 'refunded'),
  })
  .map(({ steps, repeatWait, end }) => {
    const wait = [
      notice('WAIT_BUYER_PAY'),
      ...(repeatWait ? [notice('WAIT_BUYER_PAY', { notifyId: 'wait-2' })] : []),
    ];
    const path = [
      notice('WAIT_SELLER_SEND_GOODS'),
      notice('WAIT_BUYER_CONFIRM_GOODS'),
      notice('TRADE_FINISHED'),
    ];
    const notices =
      end === 'closed_unpaid'
        ? [...wait, notice('TRADE_CLOSED')]
        : end === 'refunded'
          ? [...wait, path[0], refundNotice('TRADE_CLOSED', 'REFUND_SUCCESS', { gmtRefund: day(9) })]
          : [...wait, ...path].slice(0, steps + wait.length - 1);
    return { place: placeOrder(escrowOrder), notices };
  });

/** The notifications in any order, each at least once, some several times. */
function arrivals(notices: RecordTradeStatus[]) {
  const n = notices.length;
  return fc
    .tuple(
      fc.shuffledSubarray(notices, { minLength: n, maxLength: n }),
      fc.array(fc.tuple(fc.nat({ max: n - 1 }), fc.nat()), { maxLength: 6 }),
    )
    .map(([shuffled, duplicates]) => {
      const sequence = [...shuffled];
      for (const [which, where] of duplicates)
        sequence.splice(where % (sequence.length + 1), 0, notices[which]);
      return sequence;
    });
}

describe('order properties', () => {
  it.each([
    ['instant', instantLifecycle],
    ['escrow', escrowLifecycle],
  ] as const)(
    'any permutation and duplication of a %s trade’s notifications ends as applying them in order',
    (_name, lifecycle) => {
      fc.assert(
        fc.property(
          lifecycle.chain((l) => arrivals(l.notices).map((sequence) => ({ ...l, sequence }))),
          ({ place, notices, sequence }) => {
            const inOrder = run([place, ...notices]).state;
            const anyOrder = run([place, ...sequence]).state;
            expect(monotonicPart(anyOrder)).toEqual(monotonicPart(inOrder));
          },
        ),
        { numRuns: 300 },
      );
    },
  );

  it('applying the same history twice appends nothing the second time (replay is idempotent)', () => {
    fc.assert(
      fc.property(
        fc
          .oneof(instantLifecycle, escrowLifecycle)
          .chain((l) => arrivals(l.notices).map((s) => ({ ...l, s }))),
        ({ place, s }) => {
          const first = run([place, ...s]);
          const again = s.flatMap((command) => orderDecider.decide(command, first.state));
          expect(again).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  });

  const batchNos = ['20240502001', '20240502002', '20240502003'];
  const anyNotice = fc
    .record({
      tradeStatus: fc.constantFrom(...TRADE_STATUSES),
      refundStatus: fc.option(fc.constantFrom(...REFUND_STATUSES), { nil: undefined }),
      gmtRefund: fc.option(fc.constantFrom(day(3), day(4), day(5)), { nil: undefined }),
      totalFee: fc.constantFrom(TOTAL_FEE, TOTAL_FEE, TOTAL_FEE, 1),
      notifyTime: fc.constantFrom(day(2), day(3), day(4)),
    })
    .map(({ tradeStatus, ...rest }): OrderCommand =>
      notice(tradeStatus, {
        ...rest,
        notifyId: `n-${tradeStatus}-${rest.refundStatus ?? ''}-${rest.gmtRefund ?? ''}-${rest.totalFee}-${rest.notifyTime}`,
      }),
    );
  const anyBatchCommand = fc.oneof(
    fc
      .tuple(fc.constantFrom(...batchNos), fc.integer({ min: 1, max: TOTAL_FEE }))
      .map(([batchNo, amount]): OrderCommand => reserve(batchNo, amount)),
    fc.constantFrom(...batchNos).map((batchNo): OrderCommand => ({
      type: 'ReleaseBatchReservation',
      outTradeNo: placeOrder().outTradeNo,
      batchNo,
      code: 'SYSTEM_ERROR',
      releasedAt: day(3),
    })),
    fc
      .tuple(
        fc.constantFrom(...batchNos),
        fc.integer({ min: 1, max: TOTAL_FEE + 100 }),
        fc.constantFrom('SUCCESS', 'SUCCESS', 'TRADE_HAS_CLOSED', 'SELLER_BALANCE_NOT_ENOUGH'),
      )
      .map(([batchNo, amount, code]): OrderCommand => batchResult(batchNo, amount, code)),
  );

  it('never counts more refunded than paid, whatever arrives and in whatever order', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(placeOrder(), placeOrder(escrowOrder)),
        fc.array(fc.oneof(anyNotice, anyBatchCommand), { maxLength: 30 }),
        (place, commands) => {
          run([place, ...commands], (state, command) => {
            expect(state.refundedFee).toBeGreaterThanOrEqual(0);
            expect(state.refundedFee).toBeLessThanOrEqual(state.paidFee);
            if (!state.paid) expect(state.refundedFee).toBe(0);
            expect(refundableFee(state)).toBeGreaterThanOrEqual(0);
            expect(refundableFee(state)).toBeLessThanOrEqual(state.paidFee - state.refundedFee);
            if (state.anomalies.length > 0) expect(deliveryDecision(state)).not.toBe('pending');
            // A retry of the same input right away appends nothing.
            if (command.type !== 'ReserveBatchRefund')
              expect(orderDecider.decide(command, state)).toEqual([]);
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});
