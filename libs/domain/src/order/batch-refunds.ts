import { formatYuan, isRequestAmount, refundResultOutcome } from '@ledger/alipay-protocol';
import type { AnomalyKind } from '../anomaly';
import { DomainError } from '../domain-error';
import type { Fen, Instant } from '../values';
import { refundableFee } from './order-decisions';
import type { OrderEvent } from './order-events';
import type { OrderState } from './order-state';

// The order's side of a batch refund (docs/events.md, "Batch refunds on the order"): the batch reserves an
// amount on each of its orders before anything is sent, and each record's result settles its reservation.

/**
 * Reserve `amount` of the order for batch `batchNo` (docs/events.md, "Batch refunds on the order": appended
 * before the batch is sent).
 */
export interface ReserveBatchRefund {
  type: 'ReserveBatchRefund';
  outTradeNo: string;
  batchNo: string;
  amount: Fen;
  reason: string;
  requestedAt: Instant;
}

/**
 * The batch was rejected (`is_success=F`), cancelled, expired or marked not accepted: its reservation on
 * this order is released. `operator` and `reason` say who settled it by hand, or why it expired.
 */
export interface ReleaseBatchReservation {
  type: 'ReleaseBatchReservation';
  outTradeNo: string;
  batchNo: string;
  code: string;
  releasedAt: Instant;
  operator?: string;
  reason?: string;
}

/** One record of a verified `batch_refund_notify`'s `result_details` that names this order's trade. */
export interface RecordBatchRefundResult {
  type: 'RecordBatchRefundResult';
  outTradeNo: string;
  batchNo: string;
  tradeNo: string;
  amount: Fen;
  code: string;
  notifyId: string;
  notifyTime: Instant;
}

/**
 * `RefundRequested` on the batch channel when the order can refund `amount`: paid, an instant trade still
 * open (batch refunds are for instant trades within their refund window, docs/alipay-protocol.md,
 * "Batch refunds"), and `amount` ≤ paid − refunded − reserved. The same reservation again is a no-op.
 */
export function decideReserveBatchRefund(command: ReserveBatchRefund, state: OrderState): OrderEvent[] {
  const { placed } = state;
  if (placed === undefined) {
    throw new DomainError('ORDER_NOT_FOUND', `order ${command.outTradeNo} was never placed`, 'outTradeNo');
  }
  if (!isRequestAmount(command.amount)) {
    throw new DomainError(
      'INVALID_BATCH',
      'a refund amount must be integer fen of at least 0.01 yuan',
      'amount',
    );
  }
  const existing = state.batchRefunds.find((entry) => entry.batchNo === command.batchNo);
  if (existing !== undefined) {
    if (existing.status === 'reserved' && existing.amount === command.amount) return [];
    throw new DomainError(
      'REFUND_RESERVATION_CONFLICT',
      `batch ${command.batchNo} already holds ${existing.status === 'reserved' ? `a reservation of ${formatYuan(existing.amount)}` : 'a settled refund'} on order ${command.outTradeNo}`,
      'batchNo',
    );
  }
  if (!state.paid || state.tradeNo === undefined) {
    throw new DomainError(
      'ORDER_NOT_PAID',
      `order ${command.outTradeNo} has no recognised payment`,
      'outTradeNo',
    );
  }
  const refusal =
    state.closed !== undefined
      ? 'the trade is closed'
      : state.finished
        ? 'the trade is finished: its refund window is over'
        : state.paymentType === 'escrow'
          ? 'escrow trades are refunded through the buyer, not by batch'
          : undefined;
  if (refusal !== undefined) {
    throw new DomainError('REFUND_NOT_ALLOWED', `order ${command.outTradeNo} cannot be refunded: ${refusal}`);
  }
  const refundable = refundableFee(state);
  if (command.amount > refundable) {
    throw new DomainError(
      'REFUND_EXCEEDS_REFUNDABLE',
      `refund of ${formatYuan(command.amount)} exceeds the ${formatYuan(refundable)} still refundable on order ${command.outTradeNo}`,
      'amount',
    );
  }
  return [
    {
      type: 'RefundRequested',
      data: {
        channel: 'batch',
        outTradeNo: command.outTradeNo,
        tradeNo: state.tradeNo,
        batchNo: command.batchNo,
        amount: command.amount,
        reason: command.reason,
        requestedAt: command.requestedAt,
      },
    },
  ];
}

/** `RefundFailed` (stage `rejected`) releasing the batch's reservation; nothing when none is in flight. */
export function decideReleaseBatchReservation(
  command: ReleaseBatchReservation,
  state: OrderState,
): OrderEvent[] {
  const entry = state.batchRefunds.find((e) => e.batchNo === command.batchNo);
  if (entry === undefined || entry.status !== 'reserved' || state.tradeNo === undefined) return [];
  return [
    {
      type: 'RefundFailed',
      data: {
        channel: 'batch',
        outTradeNo: command.outTradeNo,
        tradeNo: state.tradeNo,
        batchNo: command.batchNo,
        amount: entry.amount,
        code: command.code,
        stage: 'rejected',
        failedAt: command.releasedAt,
        ...(command.operator === undefined ? {} : { operator: command.operator }),
        ...(command.reason === undefined ? {} : { reason: command.reason }),
      },
    },
  ];
}

function anomaly(
  command: RecordBatchRefundResult,
  kind: AnomalyKind,
  detail: string,
  settlesBatch: boolean,
): OrderEvent {
  return {
    type: 'AnomalyDetected',
    data: {
      outTradeNo: command.outTradeNo,
      kind,
      detail,
      detectedAt: command.notifyTime,
      notifyId: command.notifyId,
      tradeNo: command.tradeNo,
      batchNo: command.batchNo,
      ...(settlesBatch ? { settlesBatch } : {}),
    },
  };
}

/**
 * Applies one record of a batch result (docs/events.md, "Batch refunds on the order"), keyed by (batch_no,
 * trade_no) as docs/alipay-protocol.md, "Idempotency keys" recommends: a record already settled is a
 * duplicate. A success counts its amount unless a trade-channel full refund already did; a success that would
 * take the refunds above the payment is an `over_refund` anomaly and is never applied; `TRADE_HAS_CLOSED` is
 * "already refunded" when the ledger knows an earlier refund, an anomaly otherwise; any other code is
 * `RefundFailed`. Every outcome releases the reservation.
 */
export function decideRecordBatchRefundResult(
  command: RecordBatchRefundResult,
  state: OrderState,
): OrderEvent[] {
  const entry = state.batchRefunds.find((e) => e.batchNo === command.batchNo);
  if (
    entry !== undefined &&
    (entry.status === 'succeeded' || entry.status === 'failed' || entry.status === 'settled')
  ) {
    return [];
  }
  const reserved = entry?.status === 'reserved' ? entry : undefined;
  if (state.placed === undefined || state.tradeNo !== command.tradeNo) {
    if (state.anomalies.some((a) => a.kind === 'refund_result_unmatched' && a.batchNo === command.batchNo))
      return [];
    return [
      anomaly(
        command,
        'refund_result_unmatched',
        state.placed === undefined
          ? `batch ${command.batchNo} reports trade ${command.tradeNo} for an order this ledger never placed`
          : `batch ${command.batchNo} reports trade ${command.tradeNo}, not the order's trade ${state.tradeNo ?? '(none)'}`,
        // A reservation of this order stays in flight: its own record is still to come, or missing.
        reserved === undefined,
      ),
    ];
  }

  // SUCCESS refunded; TRADE_HAS_CLOSED means already refunded; any other code, known or not, failed.
  const outcome = refundResultOutcome(command.code);
  if (outcome === 'failed') {
    if (reserved === undefined) {
      // A failure for a rejected batch changes nothing; for a batch never reserved it is worth a look.
      return entry === undefined
        ? [
            anomaly(
              command,
              'refund_result_unmatched',
              `batch ${command.batchNo} failed (${command.code}) for a refund this order never reserved`,
              true,
            ),
          ]
        : [];
    }
    return [
      {
        type: 'RefundFailed',
        data: {
          channel: 'batch',
          outTradeNo: command.outTradeNo,
          tradeNo: command.tradeNo,
          batchNo: command.batchNo,
          amount: reserved.amount,
          code: command.code,
          stage: 'result',
          failedAt: command.notifyTime,
          notifyId: command.notifyId,
        },
      },
    ];
  }

  const base = {
    channel: 'batch' as const,
    outTradeNo: command.outTradeNo,
    tradeNo: command.tradeNo,
    batchNo: command.batchNo,
    amount: command.amount,
    notifyId: command.notifyId,
    notifyTime: command.notifyTime,
  };

  if (outcome === 'already_closed') {
    const knowsEarlierRefund =
      state.refundedFee > 0 ||
      state.partialRefundReported ||
      state.batchRefunds.some((e) => e.status === 'succeeded');
    if (reserved === undefined || !knowsEarlierRefund) {
      return [
        anomaly(
          command,
          reserved === undefined ? 'refund_result_unmatched' : 'trade_closed_without_refund',
          reserved === undefined
            ? `batch ${command.batchNo} reports TRADE_HAS_CLOSED for a refund this order never reserved`
            : `batch ${command.batchNo} reports TRADE_HAS_CLOSED but the ledger knows no earlier refund of this trade`,
          true,
        ),
      ];
    }
    // Already refunded by an earlier refund that is counted (or will be, by the trade channel's full
    // refund): this record adds nothing.
    return [{ type: 'RefundSucceeded', data: { ...base, resultCode: 'TRADE_HAS_CLOSED', countedFee: 0 } }];
  }

  const events: OrderEvent[] = [];
  if (reserved === undefined) {
    events.push(
      anomaly(
        command,
        'refund_result_unmatched',
        entry === undefined
          ? `batch ${command.batchNo} refunded ${formatYuan(command.amount)} that this order never reserved`
          : `batch ${command.batchNo} refunded ${formatYuan(command.amount)} after it was rejected`,
        false,
      ),
    );
  } else if (reserved.amount !== command.amount) {
    events.push(
      anomaly(
        command,
        'refund_amount_mismatch',
        `batch ${command.batchNo} refunded ${formatYuan(command.amount)} where ${formatYuan(reserved.amount)} was submitted`,
        false,
      ),
    );
  }
  if (reserved?.coveredByFullRefund === true) {
    events.push({ type: 'RefundSucceeded', data: { ...base, resultCode: 'SUCCESS', countedFee: 0 } });
    return events;
  }
  if (!state.paid || state.refundedFee + command.amount > state.paidFee) {
    return [
      ...events,
      anomaly(
        command,
        'over_refund',
        `batch ${command.batchNo} refunded ${formatYuan(command.amount)}, but only ${formatYuan(Math.max(0, state.paidFee - state.refundedFee))} of the payment is not refunded yet: not applied`,
        true,
      ),
    ];
  }
  events.push({
    type: 'RefundSucceeded',
    data: { ...base, resultCode: 'SUCCESS', countedFee: command.amount },
  });
  return events;
}
