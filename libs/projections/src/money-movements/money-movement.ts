import { asOrderEvent, outTradeNoOfStream, type Fen } from '@ledger/domain';
import type { RecordedEvent } from '@ledger/event-store';

/** A payment, or a refund's outcome on an order. */
export type MoneyMovementKind = 'payment' | 'refund';

/**
 * `paid`: a payment recognised. Refunds, as the refund batch view names a record's result: `refunded`,
 * `already_closed` (`TRADE_HAS_CLOSED` read as refunded before, counting nothing), `failed` (the record's
 * result), and `released` (the batch was rejected, cancelled, expired or marked not accepted).
 */
export type MoneyMovementOutcome = 'paid' | 'refunded' | 'already_closed' | 'failed' | 'released';

/**
 * One row of the money movements projection: what one order event says of money (docs/operations.md,
 * "Exports"). Every field comes from the event, so a rebuild reproduces it.
 */
export interface MoneyMovement {
  /** The event's global position: the row's key, and where an auditor finds the event. */
  globalPosition: number;
  /** The event's version in its order stream. */
  streamVersion: number;
  eventType: 'PaymentSucceeded' | 'RefundSucceeded' | 'RefundFailed';
  kind: MoneyMovementKind;
  outTradeNo: string;
  tradeNo: string | null;
  /** The refund's batch; on the trade channel, the batch its notice confirmed, if any. */
  batchNo: string | null;
  /** Refunds: `batch` (a batch refund's result) or `trade` (a `REFUND_SUCCESS` trade notice). */
  channel: 'batch' | 'trade' | null;
  outcome: MoneyMovementOutcome;
  /** Alipay's code: the payment's `trade_status`, the record's result code, or `REFUND_SUCCESS`. */
  code: string | null;
  /**
   * What Alipay reported, in fen: the payment, the record's amount, the released reservation; for a
   * trade notice the amount it counted, null for a partial one (its notification carries no amount).
   */
  amount: Fen | null;
  /**
   * What it adds to the order's paid or refunded total (docs/events.md, "One refund, two channels"):
   * summed, every refund counts once whichever channels reported it.
   */
  counted: Fen;
  notifyId: string | null;
  /** Alipay's time of the movement: `gmt_payment`, `gmt_refund` or the notification's time. */
  occurredAt: string;
  /** When the ledger recorded the event. */
  recordedAt: string;
}

/** The order event types that move money, and the only ones the projection reads. */
export const MONEY_EVENT_TYPES = ['PaymentSucceeded', 'RefundSucceeded', 'RefundFailed'] as const;

/** The movement an event records, or undefined for any other event (or another stream's). */
export function moneyMovementOf(event: RecordedEvent): MoneyMovement | undefined {
  const outTradeNo = outTradeNoOfStream(event.streamId);
  const orderEvent = outTradeNo === undefined ? undefined : asOrderEvent(event.type, event.data);
  if (outTradeNo === undefined || orderEvent === undefined) return undefined;
  const envelope = {
    globalPosition: event.globalPosition,
    streamVersion: event.version,
    outTradeNo,
    recordedAt: event.metadata.recordedAt,
  };
  if (orderEvent.type === 'PaymentSucceeded') {
    const { data } = orderEvent;
    return {
      ...envelope,
      eventType: 'PaymentSucceeded',
      kind: 'payment',
      tradeNo: data.tradeNo,
      batchNo: null,
      channel: null,
      outcome: 'paid',
      code: data.tradeStatus,
      amount: data.paidFee,
      counted: data.paidFee,
      notifyId: data.notifyId,
      occurredAt: data.gmtPayment ?? data.notifyTime,
    };
  }
  if (orderEvent.type === 'RefundSucceeded') {
    const { data } = orderEvent;
    const common = {
      ...envelope,
      eventType: 'RefundSucceeded' as const,
      kind: 'refund' as const,
      tradeNo: data.tradeNo,
      counted: data.countedFee,
      notifyId: data.notifyId,
    };
    if (data.channel === 'batch') {
      return {
        ...common,
        batchNo: data.batchNo,
        channel: 'batch',
        outcome: data.resultCode === 'SUCCESS' ? 'refunded' : 'already_closed',
        code: data.resultCode,
        amount: data.amount,
        occurredAt: data.notifyTime,
      };
    }
    return {
      ...common,
      batchNo: data.matchedBatchNo ?? null,
      channel: 'trade',
      outcome: 'refunded',
      code: data.refundStatus,
      amount: data.full || data.countedFee > 0 ? data.countedFee : null,
      occurredAt: data.gmtRefund ?? data.notifyTime,
    };
  }
  if (orderEvent.type === 'RefundFailed') {
    const { data } = orderEvent;
    return {
      ...envelope,
      eventType: 'RefundFailed',
      kind: 'refund',
      tradeNo: data.tradeNo,
      batchNo: data.batchNo,
      channel: 'batch',
      outcome: data.stage === 'rejected' ? 'released' : 'failed',
      code: data.code,
      amount: data.amount,
      counted: 0,
      notifyId: data.notifyId ?? null,
      occurredAt: data.failedAt,
    };
  }
  return undefined;
}
