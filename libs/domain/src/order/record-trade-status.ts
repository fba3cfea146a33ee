import {
  inferPaymentType,
  isPaidStatus,
  refundOutcome,
  tradeStatusRank,
  type PaymentType,
  type RefundStatus,
  type TradeStatus,
} from '@ledger/alipay-protocol';
import type { AnomalyKind } from '../anomaly';
import type { Fen, Instant, NotificationSource } from '../values';
import { isFullyRefunded, reservedFee } from './order-decisions';
import type { NotificationRef, OrderEvent, PaymentService, TradeClosedReason } from './order-events';
import { evolveOrder, tradeRefundKey, type OrderState } from './order-state';

/**
 * A verified `trade_status_sync` notification or `return_url` visit, already parsed: amounts in fen, Alipay's
 * Beijing times as instants. Both sources go through the same rules (docs/product-rules.md, "Buyer redirects"
 * return_url).
 */
export interface RecordTradeStatus {
  type: 'RecordTradeStatus';
  outTradeNo: string;
  tradeNo: string;
  tradeStatus: TradeStatus;
  refundStatus?: RefundStatus;
  totalFee: Fen;
  sellerId: string;
  buyer: { id?: string; email?: string };
  times: { gmtCreate?: Instant; gmtPayment?: Instant; gmtSendGoods?: Instant; gmtClose?: Instant };
  gmtRefund?: Instant;
  notifyId: string;
  notifyTime: Instant;
  source: NotificationSource;
}

/** Appends events one by one, so that each rule sees the facts the earlier ones just recorded. */
interface Recorder {
  readonly before: OrderState;
  state: OrderState;
  readonly events: OrderEvent[];
}

function record(recorder: Recorder, event: OrderEvent): void {
  recorder.events.push(event);
  recorder.state = evolveOrder(recorder.state, event);
}

function isLater(a: Instant, b: Instant): boolean {
  return Date.parse(a) > Date.parse(b);
}

/**
 * Anomalies that stop the notification from being applied (docs/product-rules.md, "Business checks"). A kind
 * already recorded for the same `notify_id` is not recorded again, so a retry or a replay adds nothing.
 */
function mismatches(command: RecordTradeStatus, state: OrderState): { kind: AnomalyKind; detail: string }[] {
  const { placed } = state;
  if (placed === undefined) {
    return [{ kind: 'unknown_order', detail: `no order ${command.outTradeNo} was placed by this ledger` }];
  }
  const found: { kind: AnomalyKind; detail: string }[] = [];
  if (command.sellerId !== placed.sellerId) {
    found.push({
      kind: 'seller_mismatch',
      detail: `seller_id ${command.sellerId} is not the order's seller ${placed.sellerId}`,
    });
  }
  if (command.totalFee !== placed.totalFee) {
    found.push({
      kind: 'amount_mismatch',
      detail: `total_fee ${command.totalFee} fen is not the order's ${placed.totalFee} fen`,
    });
  }
  if (state.tradeNo !== undefined && command.tradeNo !== state.tradeNo) {
    found.push({
      kind: 'trade_no_mismatch',
      detail: `trade_no ${command.tradeNo} is not the order's trade ${state.tradeNo}`,
    });
  }
  return found;
}

function anomalies(
  command: RecordTradeStatus,
  state: OrderState,
  found: { kind: AnomalyKind; detail: string }[],
): OrderEvent[] {
  return found
    .filter(({ kind }) => !state.anomalies.some((a) => a.kind === kind && a.notifyId === command.notifyId))
    .map(({ kind, detail }) => ({
      type: 'AnomalyDetected',
      data: {
        outTradeNo: command.outTradeNo,
        kind,
        detail,
        detectedAt: command.notifyTime,
        notifyId: command.notifyId,
        tradeNo: command.tradeNo,
      },
    }));
}

/**
 * Payment type inference (docs/product-rules.md, "Payment type"), as the official guide describes it: an
 * escrow step means escrow; `TRADE_SUCCESS` or `TRADE_FINISHED` straight from `WAIT_BUYER_PAY` (or from
 * nothing) means instant. `create_direct_pay_by_user` has no escrow at all. When the statuses say nothing (a
 * refund closed the trade before any payment status arrived), no escrow step was ever seen, so instant.
 */
function paymentTypeOf(
  service: PaymentService,
  previous: TradeStatus | undefined,
  next: TradeStatus,
): PaymentType {
  if (service === 'create_direct_pay_by_user') return 'instant';
  return inferPaymentType(previous, next) ?? 'instant';
}

// A refund notice proves a payment as much as a paid status does (docs/alipay-protocol.md, "Instant trades":
// TRADE_CLOSED + REFUND_SUCCESS first records the payment, then its refund).
function impliesPayment(command: RecordTradeStatus): boolean {
  return isPaidStatus(command.tradeStatus) || command.refundStatus !== undefined;
}

function closingReason(state: OrderState): TradeClosedReason {
  if (!state.paid) return 'unpaid';
  // A batch in flight for the rest explains the closing before its own result arrives.
  if (isFullyRefunded(state) || state.refundedFee + reservedFee(state) >= state.paidFee) return 'refunded';
  return 'unexplained';
}

/** The trade channel's `REFUND_SUCCESS` (docs/events.md, "One refund, two channels"). */
function recordRefundSuccess(recorder: Recorder, command: RecordTradeStatus, ref: NotificationRef): void {
  const { state } = recorder;
  const full = refundOutcome(command.tradeStatus, 'REFUND_SUCCESS') === 'full';
  // A trade is fully refunded once, and nothing is refunded after that (a later notice only echoes it). A
  // partial refund is known by its gmt_refund; without one, nothing tells it from the last refund reported.
  const fullyRefundedBefore = state.tradeRefundKeys.some((key) => key.startsWith('full:'));
  const known =
    fullyRefundedBefore ||
    (!full &&
      (command.gmtRefund === undefined
        ? state.refundStatus === 'REFUND_SUCCESS'
        : state.tradeRefundKeys.includes(tradeRefundKey(false, command.gmtRefund))));
  if (known) return;
  const matched = state.batchRefunds.find(
    (entry) => !entry.corroborated && (entry.status === 'reserved' || entry.status === 'succeeded'),
  );
  record(recorder, {
    type: 'RefundSucceeded',
    data: {
      ...ref,
      channel: 'trade',
      outTradeNo: command.outTradeNo,
      tradeNo: command.tradeNo,
      refundStatus: 'REFUND_SUCCESS',
      full,
      ...(command.gmtRefund === undefined ? {} : { gmtRefund: command.gmtRefund }),
      // The notification carries no refund amount: a partial refund counts nothing (its batch result
      // will), a full one counts whatever is not counted yet.
      countedFee: full ? Math.max(0, state.paidFee - state.refundedFee) : 0,
      ...(matched === undefined ? {} : { matchedBatchNo: matched.batchNo }),
    },
  });
}

/**
 * The escrow negotiation (docs/alipay-protocol.md, "Escrow refunds") is not monotonic, so no rank orders it.
 * A step is new when it differs from the last one; it is late when its trade status is behind the order's,
 * when the trade has closed, or when its `notify_time` predates the last refund notice applied.
 */
function recordNegotiation(recorder: Recorder, command: RecordTradeStatus, ref: NotificationRef): void {
  const { before } = recorder;
  const status = command.refundStatus;
  if (status === undefined || status === 'REFUND_SUCCESS') return;
  if (before.closed !== undefined || before.refundStatus === status) return;
  if (
    before.tradeStatus !== undefined &&
    tradeStatusRank(command.tradeStatus) < tradeStatusRank(before.tradeStatus)
  ) {
    return;
  }
  if (before.lastRefundNoticeAt !== undefined && isLater(before.lastRefundNoticeAt, command.notifyTime))
    return;
  const common = {
    ...ref,
    outTradeNo: command.outTradeNo,
    tradeNo: command.tradeNo,
    ...(command.gmtRefund === undefined ? {} : { gmtRefund: command.gmtRefund }),
  };
  switch (status) {
    case 'SELLER_REFUSE_BUYER':
      record(recorder, { type: 'RefundRefused', data: { ...common, refundStatus: status } });
      return;
    case 'REFUND_CLOSED':
      record(recorder, { type: 'RefundClosed', data: { ...common, refundStatus: status } });
      return;
    case 'WAIT_SELLER_AGREE':
    case 'WAIT_BUYER_RETURN_GOODS':
    case 'WAIT_SELLER_CONFIRM_GOODS':
      record(recorder, {
        type: 'RefundRequested',
        data: { ...common, channel: 'trade', refundStatus: status },
      });
      return;
  }
}

/**
 * The rules (docs/product-rules.md, "Rules") for one trade notification: a duplicate or stale one appends
 * nothing; a status that skips ahead records what it implies; a mismatch or an unknown order appends only
 * `AnomalyDetected`; the payment is recognised once, whatever the order of arrival (docs/alipay-protocol.md,
 * "Idempotency keys").
 */
export function decideRecordTradeStatus(command: RecordTradeStatus, state: OrderState): OrderEvent[] {
  if (state.appliedNotifyIds.includes(command.notifyId)) return [];
  const found = mismatches(command, state);
  if (found.length > 0 || state.placed === undefined) return anomalies(command, state, found);

  const recorder: Recorder = { before: state, state, events: [] };
  const ref: NotificationRef = {
    notifyId: command.notifyId,
    notifyTime: command.notifyTime,
    source: command.source,
  };
  const trade = { ...ref, outTradeNo: command.outTradeNo, tradeNo: command.tradeNo };
  const { tradeStatus } = command;
  const progress =
    state.tradeStatus === undefined || tradeStatusRank(tradeStatus) > tradeStatusRank(state.tradeStatus);

  if (progress && (tradeStatus === 'WAIT_BUYER_PAY' || tradeStatus === 'TRADE_PENDING')) {
    record(recorder, {
      type: 'PaymentAwaited',
      data: {
        ...trade,
        tradeStatus,
        ...(command.times.gmtCreate === undefined ? {} : { gmtCreate: command.times.gmtCreate }),
      },
    });
  }

  if (!recorder.state.paid && impliesPayment(command)) {
    record(recorder, {
      type: 'PaymentSucceeded',
      data: {
        ...trade,
        paymentType: paymentTypeOf(state.placed.service, state.tradeStatus, tradeStatus),
        paidFee: command.totalFee,
        ...(command.buyer.id === undefined ? {} : { buyerId: command.buyer.id }),
        ...(command.buyer.email === undefined ? {} : { buyerEmail: command.buyer.email }),
        ...(command.times.gmtPayment === undefined ? {} : { gmtPayment: command.times.gmtPayment }),
        tradeStatus,
        ...(command.refundStatus === undefined ? {} : { refundStatus: command.refundStatus }),
      },
    });
    if (state.closed === 'unpaid') {
      record(recorder, {
        type: 'AnomalyDetected',
        data: {
          outTradeNo: command.outTradeNo,
          kind: 'trade_closed_without_refund',
          detail: `the trade closed unpaid, yet Alipay now reports it paid (${tradeStatus})`,
          detectedAt: command.notifyTime,
          notifyId: command.notifyId,
          tradeNo: command.tradeNo,
        },
      });
    }
  }

  if (progress && tradeStatus === 'WAIT_BUYER_CONFIRM_GOODS' && !recorder.state.shipped) {
    record(recorder, {
      type: 'GoodsShipped',
      data: {
        ...trade,
        implied: false,
        ...(command.times.gmtSendGoods === undefined ? {} : { gmtSendGoods: command.times.gmtSendGoods }),
      },
    });
  }

  if (command.refundStatus === 'REFUND_SUCCESS') recordRefundSuccess(recorder, command, ref);
  recordNegotiation(recorder, command, ref);

  const gmtClose = command.times.gmtClose === undefined ? {} : { gmtClose: command.times.gmtClose };
  if (tradeStatus === 'TRADE_FINISHED' && !recorder.state.finished && recorder.state.closed === undefined) {
    // An escrow trade ends when the buyer confirms the goods, so they were shipped.
    if (recorder.state.paymentType === 'escrow' && !recorder.state.shipped) {
      record(recorder, { type: 'GoodsShipped', data: { ...trade, implied: true } });
    }
    record(recorder, { type: 'TradeFinished', data: { ...trade, ...gmtClose } });
  }

  if (tradeStatus === 'TRADE_CLOSED' && recorder.state.closed === undefined) {
    const reason = closingReason(recorder.state);
    record(recorder, { type: 'TradeClosed', data: { ...trade, reason, ...gmtClose } });
    if (reason === 'unexplained') {
      record(recorder, {
        type: 'AnomalyDetected',
        data: {
          outTradeNo: command.outTradeNo,
          kind: 'trade_closed_without_refund',
          detail: `the trade closed after a payment of ${recorder.state.paidFee} fen, but only ${recorder.state.refundedFee} fen is known refunded`,
          detectedAt: command.notifyTime,
          notifyId: command.notifyId,
          tradeNo: command.tradeNo,
        },
      });
    }
  }
  return recorder.events;
}
