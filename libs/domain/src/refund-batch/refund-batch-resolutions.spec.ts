import fc from 'fast-check';
import { foldEvents } from '../decider';
import { deciderSpec } from '../testing/given-when-then';
import {
  orderCommandsForBatchEvents,
  refundBatchDecider,
  type CancelRefundBatch,
  type MarkRefundBatchOutcome,
  type RefundBatchCommand,
} from './refund-batch-decider';
import type { RefundBatchEvent, RefundBatchItem } from './refund-batch-events';

const given = deciderSpec(refundBatchDecider);
const BATCH = '20240502001';
const SUBMITTED_AT = '2024-05-02T02:00:00.000Z';
const HOUR = 3_600_000;

const items: RefundBatchItem[] = [
  { outTradeNo: 'ORD-1', tradeNo: '2024050122001004370000000001', amount: 1_000, reason: 'damaged' },
  { outTradeNo: 'ORD-2', tradeNo: '2024050122001004370000000002', amount: 2_550, reason: 'late' },
];

function submittedAs(mode: 'pwd' | 'nopwd'): RefundBatchEvent {
  return {
    type: 'RefundBatchSubmitted',
    data: { batchNo: BATCH, mode, items, batchNum: 2, totalAmount: 3_550, submittedAt: SUBMITTED_AT },
  };
}
const unknown: RefundBatchEvent = {
  type: 'RefundBatchOutcomeUnknown',
  data: {
    batchNo: BATCH,
    code: 'TIMEOUT',
    detail: 'no complete reply within 10000 ms',
    at: '2024-05-02T02:00:10.000Z',
  },
};

const cancel = (overrides: Partial<CancelRefundBatch> = {}): CancelRefundBatch => ({
  type: 'CancelRefundBatch',
  batchNo: BATCH,
  operator: 'ops-alice',
  reason: 'the customer withdrew the request',
  cancelledAt: '2024-05-02T05:00:00.000Z',
  ...overrides,
});
const mark = (
  accepted: boolean,
  overrides: Partial<MarkRefundBatchOutcome> = {},
): MarkRefundBatchOutcome => ({
  type: 'MarkRefundBatchOutcome',
  batchNo: BATCH,
  accepted,
  operator: 'ops-bob',
  reason: 'Alipay console shows no batch 20240502001',
  markedAt: '2024-05-02T06:00:00.000Z',
  ...overrides,
});
const reject = (afterUnansweredCall?: boolean): RefundBatchCommand => ({
  type: 'RejectRefundBatch',
  batchNo: BATCH,
  code: 'BATCH_NO_DATE_ERROR',
  rejectedAt: '2024-05-03T01:00:00.000Z',
  ...(afterUnansweredCall === undefined ? {} : { afterUnansweredCall }),
});
const releases = (history: RefundBatchEvent[], command: RefundBatchCommand) => {
  const before = foldEvents(refundBatchDecider, history);
  return orderCommandsForBatchEvents(before, refundBatchDecider.decide(command, before)).filter(
    (c) => c.type === 'ReleaseBatchReservation',
  );
};

describe('a nopwd batch whose outcome is unknown', () => {
  it('is recorded once after an unanswered call, and holds its reservations', () => {
    const { state } = given([submittedAs('nopwd')])
      .when({
        type: 'MarkRefundBatchOutcomeUnknown',
        batchNo: BATCH,
        code: 'TIMEOUT',
        detail: 'no complete reply within 10000 ms',
        at: '2024-05-02T02:00:10.000Z',
      })
      .then([unknown]);
    expect(state.status).toBe('outcome_unknown');
    expect(
      orderCommandsForBatchEvents(foldEvents(refundBatchDecider, [submittedAs('nopwd')]), [unknown]),
    ).toEqual([]);
    given([submittedAs('nopwd'), unknown])
      .when({
        type: 'MarkRefundBatchOutcomeUnknown',
        batchNo: BATCH,
        code: 'UNREACHABLE',
        detail: 'reset',
        at: '2024-05-02T02:05:00.000Z',
      })
      .thenNothing();
  });

  it('takes a later F as the refusal of a resend: recorded, nothing released, resent no more', () => {
    const { state } = given([submittedAs('nopwd'), unknown])
      .when(reject())
      .then([
        {
          type: 'RefundBatchResendRejected',
          data: { batchNo: BATCH, code: 'BATCH_NO_DATE_ERROR', rejectedAt: '2024-05-03T01:00:00.000Z' },
        },
      ]);
    expect(state.status).toBe('outcome_unknown');
    expect(state.resendRejection?.code).toBe('BATCH_NO_DATE_ERROR');
    expect(releases([submittedAs('nopwd'), unknown], reject())).toEqual([]);
  });

  it('records the unknown outcome with the F when the caller knows an earlier call went unanswered', () => {
    const { events, state } = given([submittedAs('nopwd')])
      .when(reject(true))
      .outcome();
    expect(events.map((e) => e.type)).toEqual(['RefundBatchOutcomeUnknown', 'RefundBatchResendRejected']);
    expect(state.status).toBe('outcome_unknown');
    expect(releases([submittedAs('nopwd')], reject(true))).toEqual([]);
    // Without an unanswered call before it, an F is a rejection and releases.
    expect(releases([submittedAs('nopwd')], reject(false))).toHaveLength(2);
  });

  it('is settled by DUPLICATE_BATCH_NO (accepted, still reserved)', () => {
    const { state } = given([submittedAs('nopwd'), unknown])
      .when({
        type: 'AcceptRefundBatch',
        batchNo: BATCH,
        reply: 'DUPLICATE_BATCH_NO',
        acceptedAt: '2024-05-02T02:10:00.000Z',
      })
      .outcome();
    expect(state.status).toBe('accepted');
  });

  it('is settled by the operator: accepted holds the reservations, not accepted releases them with who and why', () => {
    const accepted = given([submittedAs('nopwd'), unknown])
      .when(mark(true))
      .outcome();
    expect(accepted.state.status).toBe('accepted');
    expect(accepted.state.resolution).toMatchObject({ action: 'marked_accepted', operator: 'ops-bob' });
    expect(releases([submittedAs('nopwd'), unknown], mark(true))).toEqual([]);

    const notAccepted = given([submittedAs('nopwd'), unknown])
      .when(mark(false))
      .outcome();
    expect(notAccepted.state.status).toBe('rejected');
    expect(releases([submittedAs('nopwd'), unknown], mark(false))).toEqual([
      expect.objectContaining({
        outTradeNo: 'ORD-1',
        code: 'NOT_ACCEPTED',
        operator: 'ops-bob',
        reason: 'Alipay console shows no batch 20240502001',
      }),
      expect.objectContaining({ outTradeNo: 'ORD-2', code: 'NOT_ACCEPTED' }),
    ]);
    // The same mark again is nothing new; a mark of a batch whose outcome is known is refused.
    given([submittedAs('nopwd'), unknown, ...notAccepted.events])
      .when(mark(false))
      .thenNothing();
    given([submittedAs('nopwd')])
      .when(mark(true))
      .thenThrows('BATCH_OUTCOME_NOT_UNKNOWN', /submitted/);
    given([submittedAs('nopwd'), unknown, ...accepted.events])
      .when(mark(false))
      .thenThrows('BATCH_OUTCOME_NOT_UNKNOWN');
    given([submittedAs('nopwd'), unknown])
      .when(mark(true, { reason: '' }))
      .thenThrows('INVALID_RESOLUTION', /reason/);
  });

  it('a result after the operator marked it not accepted is recorded as a contradiction', () => {
    const history = [
      submittedAs('nopwd'),
      unknown,
      ...given([submittedAs('nopwd'), unknown])
        .when(mark(false))
        .outcome().events,
    ];
    const { events } = given(history)
      .when({
        type: 'CompleteRefundBatch',
        batchNo: BATCH,
        successNum: 0,
        results: [],
        notifyId: 'n-1',
        notifyTime: '2024-05-02T07:00:00.000Z',
      })
      .outcome();
    expect(events[0].type === 'RefundBatchCompleted' && events[0].data.anomalies[0]).toMatchObject({
      kind: 'conflicting_batch_outcome',
      detail: expect.stringContaining('marked not accepted by ops-bob'),
    });
  });

  it('property: after an unanswered call, only a result or the operator\'s "not accepted" releases anything', () => {
    const command = fc.oneof(
      fc.record({
        type: fc.constant('RejectRefundBatch' as const),
        batchNo: fc.constant(BATCH),
        code: fc.constantFrom('BATCH_NO_DATE_ERROR', 'TRADE_STATUS_ERROR'),
        rejectedAt: fc.constant('2024-05-03T01:00:00.000Z'),
        afterUnansweredCall: fc.boolean(),
      }),
      fc.record({
        type: fc.constant('AcceptRefundBatch' as const),
        batchNo: fc.constant(BATCH),
        reply: fc.constantFrom('T' as const, 'P' as const, 'DUPLICATE_BATCH_NO' as const),
        acceptedAt: fc.constant('2024-05-03T01:00:00.000Z'),
      }),
      fc.record({
        type: fc.constant('MarkRefundBatchOutcomeUnknown' as const),
        batchNo: fc.constant(BATCH),
        code: fc.constant('TIMEOUT'),
        detail: fc.constant('no reply'),
        at: fc.constant('2024-05-03T01:00:00.000Z'),
      }),
      fc.record({
        type: fc.constant('FlagOverdueRefundBatch' as const),
        batchNo: fc.constant(BATCH),
        checkedAt: fc.constant('2024-05-09T01:00:00.000Z'),
        overdueAfterMs: fc.constant(HOUR),
      }),
      fc.record({
        type: fc.constant('ExpireRefundBatch' as const),
        batchNo: fc.constant(BATCH),
        checkedAt: fc.constant('2024-05-09T01:00:00.000Z'),
        expireAfterMs: fc.constant(HOUR),
      }),
    );
    fc.assert(
      fc.property(fc.array(command, { maxLength: 10 }), (commands) => {
        let history: RefundBatchEvent[] = [submittedAs('nopwd'), unknown];
        for (const next of commands) {
          const before = foldEvents(refundBatchDecider, history);
          const events = refundBatchDecider.decide(next, before);
          expect(
            orderCommandsForBatchEvents(before, events).filter((c) => c.type !== 'RecordBatchRefundResult'),
          ).toEqual([]);
          history = [...history, ...events];
        }
        expect(['outcome_unknown', 'accepted']).toContain(foldEvents(refundBatchDecider, history).status);
      }),
    );
  });
});

describe('a pwd batch waiting for confirmation', () => {
  it('is cancelled by an operator: its reservations released with who and why', () => {
    const { state } = given([submittedAs('pwd')])
      .when(cancel())
      .then([
        {
          type: 'RefundBatchCancelled',
          data: {
            batchNo: BATCH,
            operator: 'ops-alice',
            reason: 'the customer withdrew the request',
            cancelledAt: '2024-05-02T05:00:00.000Z',
          },
        },
      ]);
    expect(state.status).toBe('cancelled');
    expect(releases([submittedAs('pwd')], cancel())).toEqual([
      expect.objectContaining({
        outTradeNo: 'ORD-1',
        code: 'CANCELLED',
        operator: 'ops-alice',
        reason: 'the customer withdrew the request',
      }),
      expect.objectContaining({ outTradeNo: 'ORD-2', code: 'CANCELLED' }),
    ]);
    given([
      submittedAs('pwd'),
      ...given([submittedAs('pwd')])
        .when(cancel())
        .outcome().events,
    ])
      .when(cancel())
      .thenNothing();
  });

  it('refuses to cancel a nopwd batch, a batch with a result, or without a reason', () => {
    given([submittedAs('nopwd')])
      .when(cancel())
      .thenThrows('BATCH_NOT_CANCELLABLE', /nopwd/);
    const completed: RefundBatchEvent = {
      type: 'RefundBatchCompleted',
      data: {
        batchNo: BATCH,
        successNum: 0,
        records: [],
        anomalies: [],
        notifyId: 'n',
        notifyTime: SUBMITTED_AT,
      },
    };
    given([submittedAs('pwd'), completed])
      .when(cancel())
      .thenThrows('BATCH_NOT_CANCELLABLE', /completed/);
    given([submittedAs('pwd')])
      .when(cancel({ reason: ' ' }))
      .thenThrows('INVALID_RESOLUTION');
    given([]).when(cancel()).thenThrows('BATCH_NOT_FOUND');
  });

  it('expires once the configured time has passed since its submission, releasing its reservations', () => {
    const expire = (checkedAt: string) => ({
      type: 'ExpireRefundBatch' as const,
      batchNo: BATCH,
      checkedAt,
      expireAfterMs: 48 * HOUR,
    });
    given([submittedAs('pwd')])
      .when(expire('2024-05-04T01:59:59.999Z'))
      .thenNothing();
    const { state } = given([submittedAs('pwd')])
      .when(expire('2024-05-04T02:00:00.000Z'))
      .then([
        {
          type: 'RefundBatchExpired',
          data: { batchNo: BATCH, expireAfterMs: 48 * HOUR, expiredAt: '2024-05-04T02:00:00.000Z' },
        },
      ]);
    expect(state.resolution).toMatchObject({
      action: 'expired',
      operator: 'ledger',
      reason: expect.stringContaining('48 hours'),
    });
    expect(releases([submittedAs('pwd')], expire('2024-05-04T02:00:00.000Z'))).toEqual([
      expect.objectContaining({ code: 'EXPIRED', operator: 'ledger' }),
      expect.objectContaining({ code: 'EXPIRED' }),
    ]);
    // Never a nopwd batch, never twice.
    given([submittedAs('nopwd')])
      .when(expire('2024-06-01T00:00:00.000Z'))
      .thenNothing();
    given([
      submittedAs('pwd'),
      ...(state.status === 'expired'
        ? [
            {
              type: 'RefundBatchExpired',
              data: { batchNo: BATCH, expireAfterMs: 48 * HOUR, expiredAt: '2024-05-04T02:00:00.000Z' },
            } as RefundBatchEvent,
          ]
        : []),
    ])
      .when(expire('2024-06-01T00:00:00.000Z'))
      .thenNothing();
  });
});
