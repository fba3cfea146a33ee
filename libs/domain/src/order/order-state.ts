import {
  tradeStatusRank,
  type PaymentType,
  type RefundStatus,
  type TradeStatus,
} from '@ledger/alipay-protocol';
import type { AnomalyKind } from '../anomaly';
import type { Fen, Instant } from '../values';
import type { OrderStatus, PhpStatusCode } from './order-status';
import type { OrderEvent, OrderPlaced, TradeClosedReason } from './order-events';

/** Where one batch refund of the order stands. */
export interface BatchRefundEntry {
  batchNo: string;
  /** The amount the batch reserved (or, for a result nobody reserved, the amount Alipay reported). */
  amount: Fen;
  /**
   * `reserved`: in flight, counted against the refundable amount; `succeeded` / `failed`: its record's
   * result is applied; `released`: the batch was rejected; `settled`: an anomaly was its outcome.
   */
  status: 'reserved' | 'succeeded' | 'failed' | 'released' | 'settled';
  /** A trade-channel full refund already counted this amount while the batch was in flight. */
  coveredByFullRefund: boolean;
  /** A trade-channel `REFUND_SUCCESS` notice has confirmed this batch refund. */
  corroborated: boolean;
}

export interface RecordedAnomaly {
  kind: AnomalyKind;
  detail: string;
  detectedAt: Instant;
  notifyId?: string;
  batchNo?: string;
  /**
   * An operator's decision (`AnomalyResolved`): `accepted` no longer blocks delivery, `confirmed` does for
   * good. Absent while open; absent in states stored before resolutions existed, which means the same.
   */
  resolution?: 'accepted' | 'confirmed';
}

/**
 * The shape version of `OrderState`, stored beside it by read models that keep the folded state. Raise it
 * when a stored state would no longer mean the same to `evolveOrder` (a field renamed, restructured or
 * given a new meaning); such rows are then refused until the read model is rebuilt (docs/events.md,
 * "Evolving the order state").
 */
export const ORDER_STATE_VERSION = 1;

/** An order as its events tell it. Built only by `evolveOrder`; read by the decider and the decisions. */
export interface OrderState {
  /** Absent until `OrderPlaced`: a stream can hold anomalies about an order the ledger never placed. */
  placed?: OrderPlaced['data'];
  tradeNo?: string;
  /** Alipay's most advanced `trade_status` (by rank; `TRADE_CLOSED` once the trade closed). */
  tradeStatus?: TradeStatus;
  /** Alipay's latest `refund_status` on the trade channel. */
  refundStatus?: RefundStatus;
  /** `notify_time` of the latest trade-channel refund notice applied, to recognise a late negotiation step. */
  lastRefundNoticeAt?: Instant;
  paymentType?: PaymentType;
  paid: boolean;
  paidFee: Fen;
  buyerId?: string;
  buyerEmail?: string;
  gmtPayment?: Instant;
  shipped: boolean;
  finished: boolean;
  closed?: TradeClosedReason;
  /** Sum of every `RefundSucceeded.countedFee`: never above `paidFee`. */
  refundedFee: Fen;
  /** Alipay reported a partial refund on the trade channel (its amount is not in the notification). */
  partialRefundReported: boolean;
  /** Trade-channel refund facts already recorded: `<full|partial>:<gmt_refund>`. */
  tradeRefundKeys: readonly string[];
  batchRefunds: readonly BatchRefundEntry[];
  anomalies: readonly RecordedAnomaly[];
  /** `notify_id`s whose notification appended facts (anomalies aside): a second run adds nothing. */
  appliedNotifyIds: readonly string[];
  delivered: boolean;
  returned: boolean;
  /**
   * The webhook whose 2xx answer was the delivery or the return, when one was: an instance that takes over a
   * webhook cut short by a crash after its answer was recorded marks it answered, not cancelled
   * (docs/webhooks.md, "Webhooks that act").
   */
  deliveredByWebhook?: string;
  returnedByWebhook?: string;
  shipping: { attempts: number; confirmed: boolean; gaveUp: boolean };
  /** The last status imported from the PHP integration's order table (`OrderStatusImported`). */
  importedStatus?: { status: OrderStatus; statusCode: PhpStatusCode };
}

/** The state of a stream with no events. */
export function initialOrderState(): OrderState {
  return {
    paid: false,
    paidFee: 0,
    shipped: false,
    finished: false,
    refundedFee: 0,
    partialRefundReported: false,
    tradeRefundKeys: [],
    batchRefunds: [],
    anomalies: [],
    appliedNotifyIds: [],
    delivered: false,
    returned: false,
    shipping: { attempts: 0, confirmed: false, gaveUp: false },
  };
}

/** The key of a trade-channel refund fact: the same refund re-notified (e.g. with `TRADE_FINISHED`) repeats it. */
export function tradeRefundKey(full: boolean, gmtRefund: Instant | undefined): string {
  return `${full ? 'full' : 'partial'}:${gmtRefund ?? ''}`;
}

/**
 * The more advanced of two statuses; on a tie the one already recorded stays (docs/product-rules.md,
 * "Never backwards").
 */
function advance(current: TradeStatus | undefined, next: TradeStatus): TradeStatus {
  return current !== undefined && tradeStatusRank(next) <= tradeStatusRank(current) ? current : next;
}

function applied(state: OrderState, notifyId: string): readonly string[] {
  return state.appliedNotifyIds.includes(notifyId)
    ? state.appliedNotifyIds
    : [...state.appliedNotifyIds, notifyId];
}

function withBatch(
  state: OrderState,
  batchNo: string,
  update: (entry: BatchRefundEntry | undefined) => BatchRefundEntry,
): readonly BatchRefundEntry[] {
  const existing = state.batchRefunds.find((entry) => entry.batchNo === batchNo);
  const next = update(existing);
  return existing === undefined
    ? [...state.batchRefunds, next]
    : state.batchRefunds.map((entry) => (entry === existing ? next : entry));
}

/** Folds one event into the order's state. */
export function evolveOrder(state: OrderState, event: OrderEvent): OrderState {
  switch (event.type) {
    case 'OrderPlaced':
      return { ...state, placed: event.data };
    case 'PaymentAwaited':
      return {
        ...state,
        tradeNo: event.data.tradeNo,
        tradeStatus: event.data.tradeStatus,
        appliedNotifyIds: applied(state, event.data.notifyId),
      };
    case 'PaymentSucceeded': {
      const { data } = event;
      return {
        ...state,
        tradeNo: data.tradeNo,
        // A payment recognised from a late notice (docs/alipay-protocol.md, "Idempotency keys") never moves
        // the status backwards.
        tradeStatus: advance(state.tradeStatus, data.tradeStatus),
        paymentType: data.paymentType,
        paid: true,
        paidFee: data.paidFee,
        buyerId: data.buyerId ?? state.buyerId,
        buyerEmail: data.buyerEmail ?? state.buyerEmail,
        gmtPayment: data.gmtPayment ?? state.gmtPayment,
        appliedNotifyIds: applied(state, data.notifyId),
      };
    }
    case 'GoodsShipped':
      return {
        ...state,
        shipped: true,
        tradeStatus: advance(state.tradeStatus, 'WAIT_BUYER_CONFIRM_GOODS'),
        appliedNotifyIds: applied(state, event.data.notifyId),
      };
    case 'TradeFinished':
      return {
        ...state,
        finished: true,
        tradeStatus: 'TRADE_FINISHED',
        appliedNotifyIds: applied(state, event.data.notifyId),
      };
    case 'TradeClosed':
      return {
        ...state,
        closed: event.data.reason,
        tradeNo: state.tradeNo ?? event.data.tradeNo,
        tradeStatus: 'TRADE_CLOSED',
        appliedNotifyIds: applied(state, event.data.notifyId),
      };
    case 'RefundRequested': {
      const { data } = event;
      if (data.channel === 'batch') {
        return {
          ...state,
          batchRefunds: withBatch(state, data.batchNo, () => ({
            batchNo: data.batchNo,
            amount: data.amount,
            status: 'reserved',
            coveredByFullRefund: false,
            corroborated: false,
          })),
        };
      }
      return {
        ...state,
        refundStatus: data.refundStatus,
        lastRefundNoticeAt: data.notifyTime,
        appliedNotifyIds: applied(state, data.notifyId),
      };
    }
    case 'RefundRefused':
    case 'RefundClosed':
      return {
        ...state,
        refundStatus: event.data.refundStatus,
        lastRefundNoticeAt: event.data.notifyTime,
        appliedNotifyIds: applied(state, event.data.notifyId),
      };
    case 'RefundSucceeded': {
      const { data } = event;
      const refundedFee = state.refundedFee + data.countedFee;
      if (data.channel === 'batch') {
        return {
          ...state,
          refundedFee,
          batchRefunds: withBatch(state, data.batchNo, (entry) => ({
            batchNo: data.batchNo,
            amount: entry?.amount ?? data.amount,
            status: 'succeeded',
            coveredByFullRefund: entry?.coveredByFullRefund ?? false,
            corroborated: entry?.corroborated ?? false,
          })),
        };
      }
      return {
        ...state,
        refundedFee,
        refundStatus: 'REFUND_SUCCESS',
        lastRefundNoticeAt: data.notifyTime,
        partialRefundReported: state.partialRefundReported || !data.full,
        tradeRefundKeys: [...state.tradeRefundKeys, tradeRefundKey(data.full, data.gmtRefund)],
        // A full refund counts everything still in flight: those batches' own results add nothing more.
        batchRefunds: state.batchRefunds.map((entry) => ({
          ...entry,
          coveredByFullRefund: entry.coveredByFullRefund || (data.full && entry.status === 'reserved'),
          corroborated: entry.corroborated || entry.batchNo === data.matchedBatchNo,
        })),
        appliedNotifyIds: applied(state, data.notifyId),
      };
    }
    case 'RefundFailed': {
      const { data } = event;
      return {
        ...state,
        batchRefunds: withBatch(state, data.batchNo, (entry) => ({
          batchNo: data.batchNo,
          amount: entry?.amount ?? data.amount,
          status: data.stage === 'rejected' ? 'released' : 'failed',
          coveredByFullRefund: entry?.coveredByFullRefund ?? false,
          corroborated: entry?.corroborated ?? false,
        })),
      };
    }
    case 'OrderStatusImported':
      return { ...state, importedStatus: { status: event.data.status, statusCode: event.data.statusCode } };
    case 'DeliveryCompleted':
      return {
        ...state,
        delivered: true,
        ...(event.data.webhookId === undefined ? {} : { deliveredByWebhook: event.data.webhookId }),
      };
    case 'ReturnCompleted':
      return {
        ...state,
        returned: true,
        ...(event.data.webhookId === undefined ? {} : { returnedByWebhook: event.data.webhookId }),
      };
    case 'ShippingConfirmed':
      return { ...state, shipping: { ...state.shipping, attempts: event.data.attempt, confirmed: true } };
    case 'ShippingConfirmationFailed':
      return {
        ...state,
        shipping: {
          ...state.shipping,
          attempts: event.data.attempt,
          gaveUp: state.shipping.gaveUp || !event.data.retryable,
        },
      };
    case 'AnomalyResolved': {
      const resolution = event.data.decision === 'accept' ? 'accepted' : 'confirmed';
      return {
        ...state,
        anomalies: state.anomalies.map((anomaly) =>
          anomaly.resolution === undefined ? { ...anomaly, resolution } : anomaly,
        ),
      };
    }
    case 'AnomalyDetected': {
      const { data } = event;
      const anomaly: RecordedAnomaly = {
        kind: data.kind,
        detail: data.detail,
        detectedAt: data.detectedAt,
        ...(data.notifyId === undefined ? {} : { notifyId: data.notifyId }),
        ...(data.batchNo === undefined ? {} : { batchNo: data.batchNo }),
      };
      const { batchNo } = data;
      return {
        ...state,
        anomalies: [...state.anomalies, anomaly],
        batchRefunds:
          data.settlesBatch === true && batchNo !== undefined
            ? withBatch(state, batchNo, (entry) => ({
                batchNo,
                amount: entry?.amount ?? 0,
                status: 'settled',
                coveredByFullRefund: entry?.coveredByFullRefund ?? false,
                corroborated: entry?.corroborated ?? false,
              }))
            : state.batchRefunds,
      };
    }
  }
}
