import type { OrderEvent } from '@ledger/domain';
import type { RecordedEvent } from '@ledger/event-store';
import { moneyMovementOf } from './money-movement';

const REF = { notifyId: 'n-1', notifyTime: '2024-05-01T02:06:00.000Z', source: 'notify' as const };

function recorded(event: OrderEvent, streamId = 'order-A-1'): RecordedEvent {
  return {
    globalPosition: 41,
    transactionId: '900',
    streamId,
    version: 3,
    type: event.type,
    schemaVersion: 1,
    data: event.data,
    metadata: { recordedAt: '2024-05-01T02:06:01.000Z' },
    recordedAt: new Date('2024-05-01T02:06:01.000Z'),
  };
}

describe('moneyMovementOf', () => {
  it('reads a payment at Alipay’s gmt_payment, or its notification’s time without one', () => {
    const paid: OrderEvent = {
      type: 'PaymentSucceeded',
      data: {
        ...REF,
        outTradeNo: 'A-1',
        tradeNo: 'T-1',
        paymentType: 'instant',
        paidFee: 12_800,
        gmtPayment: '2024-05-01T02:05:00.000Z',
        tradeStatus: 'TRADE_SUCCESS',
      },
    };
    expect(moneyMovementOf(recorded(paid))).toEqual({
      globalPosition: 41,
      streamVersion: 3,
      eventType: 'PaymentSucceeded',
      kind: 'payment',
      outTradeNo: 'A-1',
      tradeNo: 'T-1',
      batchNo: null,
      channel: null,
      outcome: 'paid',
      code: 'TRADE_SUCCESS',
      amount: 12_800,
      counted: 12_800,
      notifyId: 'n-1',
      occurredAt: '2024-05-01T02:05:00.000Z',
      recordedAt: '2024-05-01T02:06:01.000Z',
    });
    const { gmtPayment: _, ...without } = paid.data;
    expect(moneyMovementOf(recorded({ type: 'PaymentSucceeded', data: without }))?.occurredAt).toBe(
      REF.notifyTime,
    );
  });

  it('reads a batch result as refunded or already closed, counting what the order counted', () => {
    const batch = (resultCode: 'SUCCESS' | 'TRADE_HAS_CLOSED', countedFee: number): OrderEvent => ({
      type: 'RefundSucceeded',
      data: {
        channel: 'batch',
        outTradeNo: 'A-1',
        tradeNo: 'T-1',
        batchNo: '20240501001',
        amount: 3_000,
        resultCode,
        countedFee,
        notifyId: 'n-2',
        notifyTime: '2024-05-02T01:00:00.000Z',
      },
    });
    expect(moneyMovementOf(recorded(batch('SUCCESS', 3_000)))).toMatchObject({
      kind: 'refund',
      channel: 'batch',
      batchNo: '20240501001',
      outcome: 'refunded',
      code: 'SUCCESS',
      amount: 3_000,
      counted: 3_000,
      occurredAt: '2024-05-02T01:00:00.000Z',
    });
    expect(moneyMovementOf(recorded(batch('TRADE_HAS_CLOSED', 0)))).toMatchObject({
      outcome: 'already_closed',
      amount: 3_000,
      counted: 0,
    });
  });

  it('gives a partial trade notice no amount (its notification has none) and a full one what it counted', () => {
    const trade = (full: boolean, countedFee: number): OrderEvent => ({
      type: 'RefundSucceeded',
      data: {
        ...REF,
        channel: 'trade',
        outTradeNo: 'A-1',
        tradeNo: 'T-1',
        refundStatus: 'REFUND_SUCCESS',
        full,
        gmtRefund: '2024-05-03T01:00:00.000Z',
        countedFee,
        ...(full ? {} : { matchedBatchNo: '20240501001' }),
      },
    });
    expect(moneyMovementOf(recorded(trade(false, 0)))).toMatchObject({
      channel: 'trade',
      batchNo: '20240501001',
      outcome: 'refunded',
      code: 'REFUND_SUCCESS',
      amount: null,
      counted: 0,
      occurredAt: '2024-05-03T01:00:00.000Z',
    });
    expect(moneyMovementOf(recorded(trade(true, 9_800)))).toMatchObject({
      batchNo: null,
      amount: 9_800,
      counted: 9_800,
    });
  });

  it('reads a failed record and a released reservation, which count nothing', () => {
    const failed = (stage: 'rejected' | 'result'): OrderEvent => ({
      type: 'RefundFailed',
      data: {
        channel: 'batch',
        outTradeNo: 'A-1',
        tradeNo: 'T-1',
        batchNo: '20240501002',
        amount: 500,
        code: stage === 'result' ? 'TRADE_NOT_ALLOWED' : 'NOT_ACCEPTED',
        stage,
        failedAt: '2024-05-02T03:00:00.000Z',
      },
    });
    expect(moneyMovementOf(recorded(failed('result')))).toMatchObject({
      eventType: 'RefundFailed',
      outcome: 'failed',
      code: 'TRADE_NOT_ALLOWED',
      amount: 500,
      counted: 0,
      notifyId: null,
      occurredAt: '2024-05-02T03:00:00.000Z',
    });
    expect(moneyMovementOf(recorded(failed('rejected')))?.outcome).toBe('released');
  });

  it('ignores every other event, and a refund batch stream’s', () => {
    const finished: OrderEvent = {
      type: 'TradeFinished',
      data: { ...REF, outTradeNo: 'A-1', tradeNo: 'T-1' },
    };
    expect(moneyMovementOf(recorded(finished))).toBeUndefined();
    const failed: OrderEvent = {
      type: 'RefundFailed',
      data: {
        channel: 'batch',
        outTradeNo: 'A-1',
        tradeNo: 'T-1',
        batchNo: 'B',
        amount: 1,
        code: 'X',
        stage: 'result',
        failedAt: REF.notifyTime,
      },
    };
    expect(moneyMovementOf(recorded(failed, 'refund-batch-20240501001'))).toBeUndefined();
  });
});
