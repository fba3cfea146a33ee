import fc from 'fast-check';
import { foldEvents } from '../decider';
import { deciderSpec } from '../testing/given-when-then';
import {
  orderCommandsForBatchEvent,
  orderCommandsForBatchEvents,
  refundBatchDecider,
  type CompleteRefundBatch,
  type SubmitRefundBatch,
} from './refund-batch-decider';
import type { RefundBatchEvent, RefundBatchItem, RefundRecordResult } from './refund-batch-events';
import { batchNoOfStream, refundBatchStreamId } from './refund-batch-stream';

const given = deciderSpec(refundBatchDecider);
const BATCH = '20240502001';
// 2024-05-02 10:00 in Beijing.
const SUBMITTED_AT = '2024-05-02T02:00:00.000Z';

const items: RefundBatchItem[] = [
  { outTradeNo: 'ORD-1', tradeNo: '2024050122001004370000000001', amount: 1_000, reason: '协商退款' },
  { outTradeNo: 'ORD-2', tradeNo: '2024050122001004370000000002', amount: 2_550, reason: 'damaged' },
];

function submit(overrides: Partial<SubmitRefundBatch> = {}): SubmitRefundBatch {
  return {
    type: 'SubmitRefundBatch',
    batchNo: BATCH,
    mode: 'nopwd',
    items,
    submittedAt: SUBMITTED_AT,
    ...overrides,
  };
}

const submitted: RefundBatchEvent = {
  type: 'RefundBatchSubmitted',
  data: { batchNo: BATCH, mode: 'nopwd', items, batchNum: 2, totalAmount: 3_550, submittedAt: SUBMITTED_AT },
};
const accepted: RefundBatchEvent = {
  type: 'RefundBatchAccepted',
  data: { batchNo: BATCH, reply: 'T', acceptedAt: '2024-05-02T02:00:01.000Z' },
};
const rejected: RefundBatchEvent = {
  type: 'RefundBatchRejected',
  data: { batchNo: BATCH, code: 'BATCH_NUM_EXCEED_LIMIT', rejectedAt: '2024-05-02T02:00:01.000Z' },
};

function result(index: number, code = 'SUCCESS', amount = items[index].amount): RefundRecordResult {
  return { tradeNo: items[index].tradeNo, amount, code };
}

function complete(
  results: RefundRecordResult[],
  successNum: number,
  notifyId = 'refund-notify-1',
): CompleteRefundBatch {
  return {
    type: 'CompleteRefundBatch',
    batchNo: BATCH,
    successNum,
    results,
    notifyId,
    notifyTime: '2024-05-02T02:10:00.000Z',
  };
}

const kindsOf = (events: RefundBatchEvent[]) =>
  events.flatMap((e) => (e.type === 'RefundBatchCompleted' ? e.data.anomalies.map((a) => a.kind) : []));

describe('the batch stream id', () => {
  it('is refund-batch-<batch_no>, read back from the id', () => {
    expect(refundBatchStreamId(BATCH)).toBe('refund-batch-20240502001');
    expect(refundBatchStreamId(`20240502${'9'.repeat(24)}`)).toBe(`refund-batch-20240502${'9'.repeat(24)}`);
    expect(batchNoOfStream('refund-batch-20240502001')).toBe(BATCH);
    expect(batchNoOfStream('order-20240502001')).toBeUndefined();
    expect(batchNoOfStream('refund-batch-2024')).toBeUndefined();
  });

  it.each([
    '2024050201',
    `20240502${'1'.repeat(25)}`,
    '20241302001',
    '20240230001',
    '20240502000',
    '2024-05-02001',
    '20240502 01',
  ])('refuses %j with INVALID_BATCH', (batchNo) => {
    expect(() => refundBatchStreamId(batchNo)).toThrow(expect.objectContaining({ code: 'INVALID_BATCH' }));
  });
});

describe('SubmitRefundBatch', () => {
  it('records the batch with its count and total', () => {
    given([]).when(submit()).then([submitted]);
  });

  it('appends nothing for the same batch again; refuses other records under the same batch_no', () => {
    given([submitted]).when(submit()).thenNothing();
    given([submitted])
      .when(submit({ items: [items[0]] }))
      .thenThrows('BATCH_CONFLICT');
    given([submitted])
      .when(submit({ mode: 'pwd' }))
      .thenThrows('BATCH_CONFLICT');
  });

  it('uses the Beijing date: at 01:00 Beijing the UTC date is still yesterday', () => {
    const earlyBeijing = '2024-05-01T17:00:00.000Z';
    given([])
      .when(submit({ batchNo: '20240501001', submittedAt: earlyBeijing }))
      .thenThrows('INVALID_BATCH', /20240502/);
    const { events } = given([])
      .when(submit({ batchNo: '20240502001', submittedAt: earlyBeijing }))
      .outcome();
    expect(events).toHaveLength(1);
  });

  it('takes up to 1000 records and refuses 1001', () => {
    const many = (n: number): RefundBatchItem[] =>
      Array.from({ length: n }, (_, i) => ({
        outTradeNo: `ORD-${i}`,
        tradeNo: `2024${String(i).padStart(6, '0')}`,
        amount: 1,
        reason: 'r',
      }));
    expect(
      given([])
        .when(submit({ items: many(1000) }))
        .outcome().events[0].data,
    ).toMatchObject({ batchNum: 1000 });
    given([])
      .when(submit({ items: many(1001) }))
      .thenThrows('INVALID_BATCH', /at most 1000/);
  });

  it.each<[string, Partial<SubmitRefundBatch>, string]>([
    ['an empty batch', { items: [] }, 'items'],
    ['a batch_no of another day', { batchNo: '20240501001' }, 'batchNo'],
    ['a malformed batch_no', { batchNo: '2024050201' }, 'batchNo'],
    ['an unknown mode', { mode: 'card' as never }, 'mode'],
    ['a trade twice', { items: [items[0], { ...items[1], tradeNo: items[0].tradeNo }] }, 'items[1]'],
    ['an order twice', { items: [items[0], { ...items[1], outTradeNo: items[0].outTradeNo }] }, 'items[1]'],
    ['a zero amount', { items: [{ ...items[0], amount: 0 }] }, 'items[0].amount'],
    ['a fractional amount', { items: [{ ...items[0], amount: 0.5 }] }, 'items[0].amount'],
    ['a reason with ^', { items: [{ ...items[0], reason: 'a^b' }] }, 'items[0].reason'],
    ['a reason with #', { items: [{ ...items[0], reason: 'a#b' }] }, 'items[0].reason'],
    ['a reason with |', { items: [{ ...items[0], reason: 'a|b' }] }, 'items[0].reason'],
    ['a reason with $', { items: [{ ...items[0], reason: 'a$b' }] }, 'items[0].reason'],
    ['an empty reason', { items: [{ ...items[0], reason: ' ' }] }, 'items[0].reason'],
    ['a reason of 256 bytes', { items: [{ ...items[0], reason: 'r'.repeat(256) }] }, 'items[0].reason'],
    ['a trade_no with a separator', { items: [{ ...items[0], tradeNo: '2024^1' }] }, 'items[0].tradeNo'],
    ['a bad out_trade_no', { items: [{ ...items[0], outTradeNo: 'a b' }] }, 'items[0].outTradeNo'],
  ])('refuses %s', (_name, overrides, field) => {
    const error = given([]).when(submit(overrides)).thenThrows('INVALID_BATCH');
    expect(error.field).toBe(field);
  });

  it('takes a reason of 255 bytes', () => {
    const { events } = given([])
      .when(submit({ items: [{ ...items[0], reason: 'r'.repeat(255) }] }))
      .outcome();
    expect(events).toHaveLength(1);
  });
});

describe('AcceptRefundBatch / RejectRefundBatch (the nopwd synchronous reply)', () => {
  it('records T, P and DUPLICATE_BATCH_NO (on a retry of ours) as accepted, once', () => {
    given([submitted])
      .when({ type: 'AcceptRefundBatch', batchNo: BATCH, reply: 'T', acceptedAt: '2024-05-02T02:00:01.000Z' })
      .then([accepted]);
    given([submitted, accepted])
      .when({
        type: 'AcceptRefundBatch',
        batchNo: BATCH,
        reply: 'DUPLICATE_BATCH_NO',
        acceptedAt: '2024-05-02T02:01:00.000Z',
      })
      .thenNothing();
  });

  it('records a rejection with its code, once', () => {
    given([submitted])
      .when({
        type: 'RejectRefundBatch',
        batchNo: BATCH,
        code: 'BATCH_NUM_EXCEED_LIMIT',
        rejectedAt: '2024-05-02T02:00:01.000Z',
      })
      .then([rejected]);
    given([submitted, rejected])
      .when({
        type: 'RejectRefundBatch',
        batchNo: BATCH,
        code: 'BATCH_NUM_EXCEED_LIMIT',
        rejectedAt: '2024-05-02T02:00:02.000Z',
      })
      .thenNothing();
  });

  it('appends nothing when the acceptance is read after the result came in', () => {
    const completed = refundBatchDecider.decide(
      complete([result(0), result(1)], 2),
      foldEvents(refundBatchDecider, [submitted]),
    );
    given([submitted, ...completed])
      .when({ type: 'AcceptRefundBatch', batchNo: BATCH, reply: 'T', acceptedAt: '2024-05-02T02:11:00.000Z' })
      .thenNothing();
  });

  it('flags contradictory replies as conflicting_batch_outcome, once each', () => {
    const reject = {
      type: 'RejectRefundBatch',
      batchNo: BATCH,
      code: 'SYSTEM_ERROR',
      rejectedAt: '2024-05-02T02:02:00.000Z',
    } as const;
    const { events } = given([submitted, accepted]).when(reject).outcome();
    expect(events).toEqual([
      {
        type: 'AnomalyDetected',
        data: {
          batchNo: BATCH,
          kind: 'conflicting_batch_outcome',
          detail: 'the gateway rejected (SYSTEM_ERROR) a batch that was already accepted',
          detectedAt: '2024-05-02T02:02:00.000Z',
        },
      },
    ]);
    given([submitted, accepted, ...events])
      .when(reject)
      .thenNothing();
    const accept = {
      type: 'AcceptRefundBatch',
      batchNo: BATCH,
      reply: 'T',
      acceptedAt: '2024-05-02T02:02:00.000Z',
    } as const;
    expect(given([submitted, rejected]).when(accept).outcome().events[0]).toMatchObject({
      type: 'AnomalyDetected',
      data: { kind: 'conflicting_batch_outcome' },
    });
  });

  it('refuses replies for a batch never submitted', () => {
    given([])
      .when({ type: 'AcceptRefundBatch', batchNo: BATCH, reply: 'T', acceptedAt: SUBMITTED_AT })
      .thenThrows('BATCH_NOT_FOUND');
    given([])
      .when({ type: 'RejectRefundBatch', batchNo: BATCH, code: 'X', rejectedAt: SUBMITTED_AT })
      .thenThrows('BATCH_NOT_FOUND');
  });
});

describe('CompleteRefundBatch (batch_refund_notify, reconciled per record)', () => {
  it('matches every record with its result, keeping the fee, royalty and sub-trade parts', () => {
    const withParts: RefundRecordResult = {
      ...result(0),
      dback: { isDback: true, result: 'S' },
      fee: { account: 'fee@alipay.com', userId: '2088101003147483', amount: 1, code: 'SUCCESS' },
      royalties: [
        {
          outAccount: 'from',
          outUserId: '2088701892019087',
          inAccount: 'to',
          inUserId: '2088701892019088',
          amount: 30,
          code: 'SUCCESS',
        },
      ],
      subTrade: { amount: 20, refundableAmount: 0, code: 'SUCCESS' },
    };
    const { state } = given([submitted, accepted])
      .when(complete([withParts, result(1)], 2))
      .then([
        {
          type: 'RefundBatchCompleted',
          data: {
            batchNo: BATCH,
            successNum: 2,
            records: [
              { tradeNo: items[0].tradeNo, outTradeNo: 'ORD-1', submittedAmount: 1_000, result: withParts },
              { tradeNo: items[1].tradeNo, outTradeNo: 'ORD-2', submittedAmount: 2_550, result: result(1) },
            ],
            anomalies: [],
            notifyId: 'refund-notify-1',
            notifyTime: '2024-05-02T02:10:00.000Z',
          },
        },
      ]);
    expect(state.status).toBe('completed');
  });

  it('completes a pwd batch straight from submitted (there is no synchronous reply)', () => {
    const { state } = given([{ ...submitted, data: { ...submitted.data, mode: 'pwd' } }])
      .when(complete([result(0), result(1)], 2))
      .outcome();
    expect(state.status).toBe('completed');
  });

  it('keeps mixed results without anomalies when success_num agrees', () => {
    const { events } = given([submitted, accepted])
      .when(complete([result(0), result(1, 'SELLER_BALANCE_NOT_ENOUGH')], 1))
      .outcome();
    expect(kindsOf(events)).toEqual([]);
  });

  it('lists a submitted record without result', () => {
    const { events } = given([submitted, accepted])
      .when(complete([result(0)], 1))
      .outcome();
    expect(kindsOf(events)).toEqual(['refund_result_missing']);
    expect(events[0].data).toMatchObject({
      records: [
        { result: result(0) },
        { tradeNo: items[1].tradeNo, outTradeNo: 'ORD-2', submittedAmount: 2_550, result: null },
      ],
    });
  });

  it('lists a result nobody submitted, after the submitted records', () => {
    const stray: RefundRecordResult = { tradeNo: '2024050122001004370000000099', amount: 5, code: 'SUCCESS' };
    const { events } = given([submitted, accepted])
      .when(complete([result(0), stray, result(1)], 3))
      .outcome();
    expect(kindsOf(events)).toEqual(['refund_result_unmatched']);
    const [completed] = events;
    if (completed.type !== 'RefundBatchCompleted') throw new Error(`unexpected ${completed.type}`);
    expect(completed.data.records[2]).toEqual({ tradeNo: stray.tradeNo, result: stray });
  });

  it('lists an amount other than submitted', () => {
    const { events } = given([submitted, accepted])
      .when(complete([result(0, 'SUCCESS', 999), result(1)], 2))
      .outcome();
    expect(kindsOf(events)).toEqual(['refund_amount_mismatch']);
  });

  it('lists a success_num that disagrees with the records', () => {
    const { events } = given([submitted, accepted])
      .when(complete([result(0), result(1, 'TRADE_HAS_CLOSED')], 2))
      .outcome();
    expect(kindsOf(events)).toEqual(['success_num_mismatch']);
  });

  it('lists a trade reported twice and matches only its first result', () => {
    const { events } = given([submitted, accepted])
      .when(complete([result(0), result(1), result(0, 'TRADE_HAS_CLOSED')], 2))
      .outcome();
    expect(kindsOf(events)).toEqual(['duplicate_refund_result']);
    expect(events[0].data).toMatchObject({
      records: [{ result: result(0) }, {}, { result: result(0, 'TRADE_HAS_CLOSED') }],
    });
  });

  it('records the result of a batch never submitted, every record unmatched', () => {
    const { events } = given([])
      .when(complete([result(0)], 1))
      .outcome();
    expect(kindsOf(events)).toEqual(['refund_result_unmatched', 'refund_result_unmatched']);
  });

  it('records a result for a rejected batch and flags the contradiction', () => {
    const { events } = given([submitted, rejected])
      .when(complete([result(0), result(1)], 2))
      .outcome();
    expect(kindsOf(events)).toEqual(['conflicting_batch_outcome']);
  });

  it('appends nothing for the same notification again, or the same results in another one', () => {
    const done = refundBatchDecider.decide(
      complete([result(0), result(1)], 2),
      foldEvents(refundBatchDecider, [submitted]),
    );
    given([submitted, ...done])
      .when(complete([result(0), result(1)], 2))
      .thenNothing();
    given([submitted, ...done])
      .when(complete([result(1), result(0)], 2, 'refund-notify-2'))
      .thenNothing();
  });

  it('flags a second, different result once', () => {
    const done = refundBatchDecider.decide(
      complete([result(0), result(1)], 2),
      foldEvents(refundBatchDecider, [submitted]),
    );
    const second = complete([result(0), result(1, 'SELLER_BALANCE_NOT_ENOUGH')], 1, 'refund-notify-2');
    const { events } = given([submitted, ...done])
      .when(second)
      .outcome();
    expect(events).toEqual([
      {
        type: 'AnomalyDetected',
        data: expect.objectContaining({ kind: 'conflicting_batch_outcome', notifyId: 'refund-notify-2' }),
      },
    ]);
    given([submitted, ...done, ...events])
      .when(second)
      .thenNothing();
  });
});

describe('FlagOverdueRefundBatch (no result after a configurable time)', () => {
  const check = (checkedAt: string) =>
    ({ type: 'FlagOverdueRefundBatch', batchNo: BATCH, checkedAt, overdueAfterMs: 60 * 60_000 }) as const;

  it('flags a batch still without result once the time is over, once', () => {
    given([submitted, accepted]).when(check('2024-05-02T02:59:59.000Z')).thenNothing();
    const { events } = given([submitted, accepted]).when(check('2024-05-02T03:00:00.000Z')).outcome();
    expect(events).toEqual([
      {
        type: 'AnomalyDetected',
        data: {
          batchNo: BATCH,
          kind: 'refund_result_missing',
          detail: 'no result for the 2 record(s) 60 minutes after submission',
          detectedAt: '2024-05-02T03:00:00.000Z',
        },
      },
    ]);
    given([submitted, accepted, ...events])
      .when(check('2024-05-02T05:00:00.000Z'))
      .thenNothing();
  });

  it('never flags a completed or rejected batch, and refuses a batch never submitted', () => {
    given([submitted, rejected]).when(check('2024-05-09T00:00:00.000Z')).thenNothing();
    const done = refundBatchDecider.decide(
      complete([result(0), result(1)], 2),
      foldEvents(refundBatchDecider, [submitted]),
    );
    given([submitted, ...done])
      .when(check('2024-05-09T00:00:00.000Z'))
      .thenNothing();
    given([]).when(check('2024-05-09T00:00:00.000Z')).thenThrows('BATCH_NOT_FOUND');
  });
});

describe('orderCommandsForBatchEvent', () => {
  it('releases every reservation of a rejected batch', () => {
    const state = foldEvents(refundBatchDecider, [submitted]);
    expect(orderCommandsForBatchEvent(rejected, state)).toEqual([
      {
        type: 'ReleaseBatchReservation',
        outTradeNo: 'ORD-1',
        batchNo: BATCH,
        code: 'BATCH_NUM_EXCEED_LIMIT',
        releasedAt: '2024-05-02T02:00:01.000Z',
      },
      {
        type: 'ReleaseBatchReservation',
        outTradeNo: 'ORD-2',
        batchNo: BATCH,
        code: 'BATCH_NUM_EXCEED_LIMIT',
        releasedAt: '2024-05-02T02:00:01.000Z',
      },
    ]);
  });

  it('records each matched result on its order, and nothing for missing, stray or repeated results', () => {
    const stray: RefundRecordResult = { tradeNo: '2024050122001004370000000099', amount: 5, code: 'SUCCESS' };
    const state = foldEvents(refundBatchDecider, [submitted, accepted]);
    const [completed] = refundBatchDecider.decide(
      complete([result(0, 'TRADE_HAS_CLOSED'), stray, result(0)], 1),
      state,
    );
    expect(orderCommandsForBatchEvent(completed, state)).toEqual([
      {
        type: 'RecordBatchRefundResult',
        outTradeNo: 'ORD-1',
        batchNo: BATCH,
        tradeNo: items[0].tradeNo,
        amount: 1_000,
        code: 'TRADE_HAS_CLOSED',
        notifyId: 'refund-notify-1',
        notifyTime: '2024-05-02T02:10:00.000Z',
      },
    ]);
    expect(orderCommandsForBatchEvent(accepted, state)).toEqual([]);
  });
});

describe('orderCommandsForBatchEvents', () => {
  it('given no batch, when it is submitted, then each record reserves its amount on its order', () => {
    const { events } = given([]).when(submit()).outcome();
    expect(orderCommandsForBatchEvents(refundBatchDecider.initialState(), events)).toEqual([
      {
        type: 'ReserveBatchRefund',
        outTradeNo: 'ORD-1',
        batchNo: BATCH,
        amount: 1_000,
        reason: '协商退款',
        requestedAt: SUBMITTED_AT,
      },
      {
        type: 'ReserveBatchRefund',
        outTradeNo: 'ORD-2',
        batchNo: BATCH,
        amount: 2_550,
        reason: 'damaged',
        requestedAt: SUBMITTED_AT,
      },
    ]);
  });

  it('given a submitted batch, when it is submitted again, then nothing is reserved twice', () => {
    const before = foldEvents(refundBatchDecider, [submitted]);
    const { events } = given([submitted]).when(submit()).outcome();
    expect(orderCommandsForBatchEvents(before, events)).toEqual([]);
  });

  it('given a submitted batch, when the gateway rejects it, then every reservation is released', () => {
    const before = foldEvents(refundBatchDecider, [submitted]);
    const { events } = given([submitted])
      .when({
        type: 'RejectRefundBatch',
        batchNo: BATCH,
        code: 'BATCH_NUM_EXCEED_LIMIT',
        rejectedAt: '2024-05-02T02:00:01.000Z',
      })
      .outcome();
    expect(orderCommandsForBatchEvents(before, events).map((c) => [c.type, c.outTradeNo])).toEqual([
      ['ReleaseBatchReservation', 'ORD-1'],
      ['ReleaseBatchReservation', 'ORD-2'],
    ]);
  });

  it('takes the orders of any batch in one order, each record once (one lock order for every writer)', () => {
    const record = fc.record({
      outTradeNo: fc.stringMatching(/^[A-Z][A-Za-z0-9]{0,7}$/),
      amount: fc.integer({ min: 1, max: 1_000_000 }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(record, { selector: (r) => r.outTradeNo, minLength: 1, maxLength: 30 }),
        (records) => {
          const batchItems: RefundBatchItem[] = records.map((r, index) => ({
            outTradeNo: r.outTradeNo,
            tradeNo: `20240501220010043700${String(index).padStart(8, '0')}`,
            amount: r.amount,
            reason: 'refund',
          }));
          const { events } = given([])
            .when(submit({ items: batchItems }))
            .outcome();
          const commands = orderCommandsForBatchEvents(refundBatchDecider.initialState(), events);
          const orders = commands.map((c) => c.outTradeNo);
          expect(orders).toEqual([...orders].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
          expect(new Set(orders)).toEqual(new Set(records.map((r) => r.outTradeNo)));
          expect(commands.reduce((sum, c) => sum + (c.type === 'ReserveBatchRefund' ? c.amount : 0), 0)).toBe(
            records.reduce((sum, r) => sum + r.amount, 0),
          );
        },
      ),
    );
  });
});
