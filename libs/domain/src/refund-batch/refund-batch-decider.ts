import { MAX_BATCH_RECORDS, formatYuan, isRequestAmount, parseBatchNo } from '@ledger/alipay-protocol';
import type { AnomalyKind } from '../anomaly';
import type { Decider } from '../decider';
import { DomainError } from '../domain-error';
import type {
  RecordBatchRefundResult,
  ReleaseBatchReservation,
  ReserveBatchRefund,
} from '../order/batch-refunds';
import { isValidOutTradeNo } from '../order/order-stream';
import { checkResolution } from '../operator-resolution';
import { utf8Length, type Instant } from '../values';
import type {
  BatchAnomaly,
  ReconciledRecord,
  RefundBatchAccepted,
  RefundBatchCompleted,
  OperatorResolution,
  RefundBatchEvent,
  RefundBatchItem,
  RefundBatchRejected,
  RefundBatchResendRejected,
  RefundBatchSubmitted,
  RefundMode,
  RefundRecordResult,
} from './refund-batch-events';

/**
 * Submit a batch: appended before anything is sent to Alipay (docs/events.md, "Batch refunds on the order").
 */
export interface SubmitRefundBatch {
  type: 'SubmitRefundBatch';
  batchNo: string;
  mode: RefundMode;
  items: readonly RefundBatchItem[];
  submittedAt: Instant;
}

/** The nopwd gateway accepted the batch (`T`, `P`, or `DUPLICATE_BATCH_NO` on a retry of ours). */
export interface AcceptRefundBatch {
  type: 'AcceptRefundBatch';
  batchNo: string;
  reply: 'T' | 'P' | 'DUPLICATE_BATCH_NO';
  acceptedAt: Instant;
}

/** The nopwd gateway rejected the batch (`F` with an error code). */
export interface RejectRefundBatch {
  type: 'RejectRefundBatch';
  batchNo: string;
  code: string;
  rejectedAt: Instant;
  /**
   * An earlier call of this batch went unanswered after it may have reached Alipay: the rejection is of a
   * resend and releases nothing. Only the caller knows (its record of the calls it started), as for
   * `DUPLICATE_BATCH_NO`.
   */
  afterUnansweredCall?: boolean;
}

/** A nopwd call went unanswered after it may have reached Alipay: recorded once, the batch waits. */
export interface MarkRefundBatchOutcomeUnknown {
  type: 'MarkRefundBatchOutcomeUnknown';
  batchNo: string;
  /** The gateway error's code (`TIMEOUT`, `UNREACHABLE`, `BAD_REPLY`, `ABORTED`, `INTERRUPTED`). */
  code: string;
  detail: string;
  at: Instant;
}

/** The operator cancels a `pwd` batch that waits for confirmation on Alipay's page. */
export interface CancelRefundBatch {
  type: 'CancelRefundBatch';
  batchNo: string;
  operator: string;
  reason: string;
  cancelledAt: Instant;
}

/** A periodic check: a `pwd` batch still unconfirmed `expireAfterMs` after its submission expires. */
export interface ExpireRefundBatch {
  type: 'ExpireRefundBatch';
  batchNo: string;
  checkedAt: Instant;
  expireAfterMs: number;
}

/** The operator's reading of Alipay's console for a batch whose outcome is unknown. */
export interface MarkRefundBatchOutcome {
  type: 'MarkRefundBatchOutcome';
  batchNo: string;
  accepted: boolean;
  operator: string;
  reason: string;
  markedAt: Instant;
}

/** A verified `batch_refund_notify` for the batch, its `result_details` already parsed. */
export interface CompleteRefundBatch {
  type: 'CompleteRefundBatch';
  batchNo: string;
  successNum: number;
  results: readonly RefundRecordResult[];
  notifyId: string;
  notifyTime: Instant;
}

/** A periodic check: a batch still without a result `overdueAfterMs` after submission is flagged, once. */
export interface FlagOverdueRefundBatch {
  type: 'FlagOverdueRefundBatch';
  batchNo: string;
  checkedAt: Instant;
  overdueAfterMs: number;
}

export type RefundBatchCommand =
  | SubmitRefundBatch
  | AcceptRefundBatch
  | RejectRefundBatch
  | CompleteRefundBatch
  | FlagOverdueRefundBatch
  | MarkRefundBatchOutcomeUnknown
  | CancelRefundBatch
  | ExpireRefundBatch
  | MarkRefundBatchOutcome;

/**
 * `outcome_unknown`: a nopwd call went unanswered; `cancelled` / `expired`: a pwd batch never confirmed,
 * released; a batch marked not accepted is `rejected`, marked accepted `accepted`.
 */
export type RefundBatchStatus =
  'none' | 'submitted' | 'outcome_unknown' | 'accepted' | 'rejected' | 'cancelled' | 'expired' | 'completed';

/** How a batch was settled by hand or by its expiry (docs/product-rules.md, "Operator resolutions"). */
export type RefundBatchResolution = (
  | (OperatorResolution & { action: 'cancelled' | 'marked_accepted' | 'marked_not_accepted' })
  | { action: 'expired'; operator: 'ledger'; reason: string }
) & { at: Instant };

export interface RefundBatchState {
  status: RefundBatchStatus;
  submitted?: RefundBatchSubmitted['data'];
  /** The gateway's first acceptance (nopwd): a retry's `DUPLICATE_BATCH_NO` does not replace it. */
  acceptance?: RefundBatchAccepted['data'];
  rejection?: RefundBatchRejected['data'];
  completion?: RefundBatchCompleted['data'];
  /** Why the outcome is unknown: the unanswered call (docs/product-rules.md, "Refund batches whose outcome is unknown"). */
  outcomeUnknown?: { code: string; detail: string; at: Instant };
  /** The `F` a resend got while the outcome was unknown: no further resend is made. */
  resendRejection?: RefundBatchResendRejected['data'];
  resolution?: RefundBatchResolution;
  /** Anomalies recorded outside a completion, to record each one once. */
  anomalies: readonly { kind: AnomalyKind; detail: string; notifyId?: string }[];
}

// docs/alipay-protocol.md, "detail_data": at most 1000 records; a reason under 256 bytes without the
// structural `^ | $ #`.
const MAX_REASON_BYTES = 255;
const STRUCTURAL = /[\^|$#]/;
const TRADE_NO = /^[A-Za-z0-9]{1,64}$/;

export function initialRefundBatchState(): RefundBatchState {
  return { status: 'none', anomalies: [] };
}

export function evolveRefundBatch(state: RefundBatchState, event: RefundBatchEvent): RefundBatchState {
  switch (event.type) {
    case 'RefundBatchSubmitted':
      return { ...state, status: 'submitted', submitted: event.data };
    case 'RefundBatchAccepted':
      return { ...state, status: 'accepted', acceptance: state.acceptance ?? event.data };
    case 'RefundBatchRejected':
      return { ...state, status: 'rejected', rejection: event.data };
    case 'RefundBatchCompleted':
      return { ...state, status: 'completed', completion: event.data };
    case 'RefundBatchOutcomeUnknown': {
      const { code, detail, at } = event.data;
      return {
        ...state,
        status: state.status === 'submitted' ? 'outcome_unknown' : state.status,
        outcomeUnknown: { code, detail, at },
      };
    }
    case 'RefundBatchResendRejected':
      return { ...state, resendRejection: event.data };
    case 'RefundBatchCancelled': {
      const { operator, reason, cancelledAt } = event.data;
      return {
        ...state,
        status: 'cancelled',
        resolution: { action: 'cancelled', operator, reason, at: cancelledAt },
      };
    }
    case 'RefundBatchExpired':
      return {
        ...state,
        status: 'expired',
        resolution: {
          action: 'expired',
          operator: 'ledger',
          reason: expiryReason(event.data.expireAfterMs),
          at: event.data.expiredAt,
        },
      };
    case 'RefundBatchOutcomeMarked': {
      const { accepted, operator, reason, markedAt } = event.data;
      return {
        ...state,
        status: accepted ? 'accepted' : 'rejected',
        resolution: {
          action: accepted ? 'marked_accepted' : 'marked_not_accepted',
          operator,
          reason,
          at: markedAt,
        },
      };
    }
    case 'AnomalyDetected': {
      const { kind, detail, notifyId } = event.data;
      return {
        ...state,
        anomalies: [...state.anomalies, { kind, detail, ...(notifyId === undefined ? {} : { notifyId }) }],
      };
    }
  }
}

/** The reason an expiry records, on the batch and on each released reservation. */
export function expiryReason(expireAfterMs: number): string {
  const hours = Math.round((expireAfterMs / 3_600_000) * 100) / 100;
  return `not confirmed on Alipay's page within ${hours} hours of its submission`;
}

function invalid(field: string, message: string): DomainError {
  return new DomainError('INVALID_BATCH', message, field);
}

function validate(command: SubmitRefundBatch): void {
  // The batch_no must carry the Beijing date of its submission: a UTC date is "yesterday" from 00:00 to
  // 08:00 in Beijing, and Alipay answers BATCH_NO_FORMAT_ERROR (docs/alipay-protocol.md, "batch_no").
  const batchNo = parseBatchNo(command.batchNo, new Date(command.submittedAt));
  if (!batchNo.ok) throw invalid('batchNo', batchNo.errors.map((e) => e.message).join('; '));
  if (command.mode !== 'pwd' && command.mode !== 'nopwd') throw invalid('mode', 'mode must be pwd or nopwd');
  if (command.items.length === 0) throw invalid('items', 'a batch needs at least one record');
  if (command.items.length > MAX_BATCH_RECORDS) {
    throw invalid('items', `a batch holds at most ${MAX_BATCH_RECORDS} records, not ${command.items.length}`);
  }
  const trades = new Set<string>();
  const orders = new Set<string>();
  command.items.forEach((item, index) => {
    const at = `items[${index}]`;
    if (!isValidOutTradeNo(item.outTradeNo)) throw invalid(`${at}.outTradeNo`, `${at}: invalid out_trade_no`);
    if (!TRADE_NO.test(item.tradeNo))
      throw invalid(`${at}.tradeNo`, `${at}: trade_no must be 1 to 64 letters or digits`);
    if (!isRequestAmount(item.amount)) {
      throw invalid(
        `${at}.amount`,
        `${at}: the amount must be integer fen between 0.01 and 100000000.00 yuan`,
      );
    }
    if (item.reason.trim() === '') throw invalid(`${at}.reason`, `${at}: a reason is required`);
    if (STRUCTURAL.test(item.reason))
      throw invalid(`${at}.reason`, `${at}: the reason must not contain ^ | $ or #`);
    if (utf8Length(item.reason) > MAX_REASON_BYTES) {
      throw invalid(`${at}.reason`, `${at}: the reason must be under 256 bytes`);
    }
    // DUBL_TRADE_NO_IN_SAME_BATCH: a trade at most once per batch (docs/alipay-protocol.md, "detail_data").
    if (trades.has(item.tradeNo) || orders.has(item.outTradeNo)) {
      throw invalid(
        `${at}`,
        `${at}: order ${item.outTradeNo} (trade ${item.tradeNo}) is already in the batch`,
      );
    }
    trades.add(item.tradeNo);
    orders.add(item.outTradeNo);
  });
}

function sameItems(a: readonly RefundBatchItem[], b: readonly RefundBatchItem[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (item, i) =>
        item.outTradeNo === b[i].outTradeNo &&
        item.tradeNo === b[i].tradeNo &&
        item.amount === b[i].amount &&
        item.reason === b[i].reason,
    )
  );
}

function decideSubmit(command: SubmitRefundBatch, state: RefundBatchState): RefundBatchEvent[] {
  if (state.submitted !== undefined) {
    if (state.submitted.mode === command.mode && sameItems(state.submitted.items, command.items)) return [];
    throw new DomainError(
      'BATCH_CONFLICT',
      `batch ${command.batchNo} was already submitted with other records`,
      'batchNo',
    );
  }
  if (state.status !== 'none') {
    throw new DomainError(
      'BATCH_CONFLICT',
      `batch_no ${command.batchNo} already has a result from Alipay`,
      'batchNo',
    );
  }
  validate(command);
  return [
    {
      type: 'RefundBatchSubmitted',
      data: {
        batchNo: command.batchNo,
        mode: command.mode,
        items: command.items.map((item) => ({ ...item })),
        batchNum: command.items.length,
        totalAmount: command.items.reduce((sum, item) => sum + item.amount, 0),
        submittedAt: command.submittedAt,
      },
    },
  ];
}

function anomaly(
  state: RefundBatchState,
  batchNo: string,
  kind: AnomalyKind,
  detail: string,
  detectedAt: Instant,
  notifyId?: string,
): RefundBatchEvent[] {
  const recorded = state.anomalies.some(
    (a) => a.kind === kind && (notifyId === undefined ? a.detail === detail : a.notifyId === notifyId),
  );
  if (recorded) return [];
  return [
    {
      type: 'AnomalyDetected',
      data: { batchNo, kind, detail, detectedAt, ...(notifyId === undefined ? {} : { notifyId }) },
    },
  ];
}

function notFound(batchNo: string): DomainError {
  return new DomainError('BATCH_NOT_FOUND', `batch ${batchNo} was never submitted`, 'batchNo');
}

function decideAccept(command: AcceptRefundBatch, state: RefundBatchState): RefundBatchEvent[] {
  switch (state.status) {
    case 'none':
      throw notFound(command.batchNo);
    case 'submitted':
    case 'outcome_unknown':
      return [
        {
          type: 'RefundBatchAccepted',
          data: { batchNo: command.batchNo, reply: command.reply, acceptedAt: command.acceptedAt },
        },
      ];
    // A second acceptance (a retry's DUPLICATE_BATCH_NO), or the result already in: nothing new.
    case 'accepted':
    case 'completed':
      return [];
    case 'rejected':
    case 'cancelled':
    case 'expired':
      return anomaly(
        state,
        command.batchNo,
        'conflicting_batch_outcome',
        `the gateway accepted (${command.reply}) a batch that was ${settledAs(state)}`,
        command.acceptedAt,
      );
  }
}

/** How a released batch was settled, for the anomaly that contradicts it. */
function settledAs(state: RefundBatchState): string {
  switch (state.resolution?.action) {
    case 'cancelled':
      return `cancelled by ${state.resolution.operator}`;
    case 'expired':
      return 'expired';
    case 'marked_not_accepted':
      return `marked not accepted by ${state.resolution.operator}`;
    case 'marked_accepted':
    case undefined:
      return `rejected (${state.rejection?.code ?? 'no code'})`;
  }
}

function decideReject(command: RejectRefundBatch, state: RefundBatchState): RefundBatchEvent[] {
  switch (state.status) {
    case 'none':
      throw notFound(command.batchNo);
    case 'submitted':
      if (command.afterUnansweredCall === true) {
        return [
          {
            type: 'RefundBatchOutcomeUnknown',
            data: {
              batchNo: command.batchNo,
              code: 'UNANSWERED_CALL',
              detail: 'an earlier call of this batch went unanswered',
              at: command.rejectedAt,
            },
          },
          resendRejected(command),
        ];
      }
      return [
        {
          type: 'RefundBatchRejected',
          data: { batchNo: command.batchNo, code: command.code, rejectedAt: command.rejectedAt },
        },
      ];
    // The first call may have been accepted: the refusal of a resend is recorded and releases nothing
    // (docs/product-rules.md, "Refund batches whose outcome is unknown").
    case 'outcome_unknown':
      return state.resendRejection?.code === command.code ? [] : [resendRejected(command)];
    case 'rejected':
    case 'cancelled':
    case 'expired':
      return [];
    case 'accepted':
    case 'completed':
      return anomaly(
        state,
        command.batchNo,
        'conflicting_batch_outcome',
        `the gateway rejected (${command.code}) a batch that was already ${state.status}`,
        command.rejectedAt,
      );
  }
}

function resendRejected(command: RejectRefundBatch): RefundBatchEvent {
  return {
    type: 'RefundBatchResendRejected',
    data: { batchNo: command.batchNo, code: command.code, rejectedAt: command.rejectedAt },
  };
}

/**
 * Matches every submitted record with its result, per record (docs/alipay-protocol.md,
 * "Batch refund results"): a record without a result, a result nobody submitted, a result twice, an amount
 * other than submitted, and a `success_num` that disagrees with the `SUCCESS` records are all listed.
 */
export function reconcileRefundBatch(
  items: readonly RefundBatchItem[],
  results: readonly RefundRecordResult[],
  successNum: number,
): { records: ReconciledRecord[]; anomalies: BatchAnomaly[] } {
  const anomalies: BatchAnomaly[] = [];
  const firstResult = new Map<string, RefundRecordResult>();
  const extras: ReconciledRecord[] = [];
  const submitted = new Map(items.map((item) => [item.tradeNo, item]));
  for (const result of results) {
    if (firstResult.has(result.tradeNo)) {
      anomalies.push({
        kind: 'duplicate_refund_result',
        detail: `trade ${result.tradeNo} has more than one result (${result.code})`,
        tradeNo: result.tradeNo,
      });
      extras.push({ tradeNo: result.tradeNo, result });
      continue;
    }
    firstResult.set(result.tradeNo, result);
    if (!submitted.has(result.tradeNo)) {
      anomalies.push({
        kind: 'refund_result_unmatched',
        detail: `trade ${result.tradeNo} has a result (${formatYuan(result.amount)}, ${result.code}) but was not submitted in this batch`,
        tradeNo: result.tradeNo,
      });
      extras.push({ tradeNo: result.tradeNo, result });
    }
  }
  const records: ReconciledRecord[] = items.map((item) => {
    const result = firstResult.get(item.tradeNo) ?? null;
    if (result === null) {
      anomalies.push({
        kind: 'refund_result_missing',
        detail: `trade ${item.tradeNo} (order ${item.outTradeNo}) was submitted but has no result`,
        tradeNo: item.tradeNo,
      });
    } else if (result.amount !== item.amount) {
      anomalies.push({
        kind: 'refund_amount_mismatch',
        detail: `trade ${item.tradeNo} was submitted for ${formatYuan(item.amount)} but the result says ${formatYuan(result.amount)}`,
        tradeNo: item.tradeNo,
      });
    }
    return { tradeNo: item.tradeNo, outTradeNo: item.outTradeNo, submittedAmount: item.amount, result };
  });
  const successes = [...firstResult.values()].filter((result) => result.code === 'SUCCESS').length;
  if (successes !== successNum) {
    anomalies.push({
      kind: 'success_num_mismatch',
      detail: `success_num is ${successNum} but ${successes} record(s) say SUCCESS`,
    });
  }
  return { records: [...records, ...extras], anomalies };
}

function sameResults(completion: RefundBatchCompleted['data'], command: CompleteRefundBatch): boolean {
  const reported = completion.records.flatMap((record) => (record.result === null ? [] : [record.result]));
  const key = (r: RefundRecordResult) => `${r.tradeNo}^${r.amount}^${r.code}`;
  const before = reported.map(key).sort();
  const now = command.results.map(key).sort();
  return (
    completion.successNum === command.successNum &&
    before.length === now.length &&
    before.every((k, i) => k === now[i])
  );
}

function decideComplete(command: CompleteRefundBatch, state: RefundBatchState): RefundBatchEvent[] {
  const { completion } = state;
  if (completion !== undefined) {
    if (completion.notifyId === command.notifyId || sameResults(completion, command)) return [];
    return anomaly(
      state,
      command.batchNo,
      'conflicting_batch_outcome',
      `a second result (notify_id ${command.notifyId}) differs from the one recorded (notify_id ${completion.notifyId})`,
      command.notifyTime,
      command.notifyId,
    );
  }
  const { records, anomalies } = reconcileRefundBatch(
    state.submitted?.items ?? [],
    command.results,
    command.successNum,
  );
  if (state.status === 'none') {
    anomalies.unshift({
      kind: 'refund_result_unmatched',
      detail: `batch ${command.batchNo} was never submitted by this ledger`,
    });
  } else if (state.status === 'rejected' || state.status === 'cancelled' || state.status === 'expired') {
    anomalies.unshift({
      kind: 'conflicting_batch_outcome',
      detail: `a result arrived for a batch that was ${settledAs(state)}`,
    });
  }
  return [
    {
      type: 'RefundBatchCompleted',
      data: {
        batchNo: command.batchNo,
        successNum: command.successNum,
        records,
        anomalies,
        notifyId: command.notifyId,
        notifyTime: command.notifyTime,
      },
    },
  ];
}

function decideFlagOverdue(command: FlagOverdueRefundBatch, state: RefundBatchState): RefundBatchEvent[] {
  const { submitted } = state;
  if (submitted === undefined) throw notFound(command.batchNo);
  if (state.status !== 'submitted' && state.status !== 'accepted' && state.status !== 'outcome_unknown') {
    return [];
  }
  if (state.anomalies.some((a) => a.kind === 'refund_result_missing')) return [];
  const waited = Date.parse(command.checkedAt) - Date.parse(submitted.submittedAt);
  if (waited < command.overdueAfterMs) return [];
  return anomaly(
    state,
    command.batchNo,
    'refund_result_missing',
    `no result for the ${submitted.batchNum} record(s) ${Math.floor(waited / 60_000)} minutes after submission`,
    command.checkedAt,
  );
}

function decideOutcomeUnknown(
  command: MarkRefundBatchOutcomeUnknown,
  state: RefundBatchState,
): RefundBatchEvent[] {
  if (state.submitted === undefined) throw notFound(command.batchNo);
  // Only a batch still waiting for the gateway's answer: any recorded answer or result already says more.
  if (state.status !== 'submitted' || state.submitted.mode !== 'nopwd') return [];
  return [
    {
      type: 'RefundBatchOutcomeUnknown',
      data: { batchNo: command.batchNo, code: command.code, detail: command.detail, at: command.at },
    },
  ];
}

function decideCancel(command: CancelRefundBatch, state: RefundBatchState): RefundBatchEvent[] {
  const { submitted } = state;
  if (submitted === undefined) throw notFound(command.batchNo);
  checkResolution(command.operator, command.reason);
  if (state.status === 'cancelled') return [];
  if (submitted.mode !== 'pwd' || state.status !== 'submitted') {
    throw new DomainError(
      'BATCH_NOT_CANCELLABLE',
      submitted.mode !== 'pwd'
        ? `batch ${command.batchNo} is a nopwd batch: only a pwd batch waiting for confirmation can be cancelled`
        : `batch ${command.batchNo} is ${state.status}: only a pwd batch waiting for confirmation can be cancelled`,
      'batchNo',
    );
  }
  return [
    {
      type: 'RefundBatchCancelled',
      data: {
        batchNo: command.batchNo,
        operator: command.operator,
        reason: command.reason,
        cancelledAt: command.cancelledAt,
      },
    },
  ];
}

function decideExpire(command: ExpireRefundBatch, state: RefundBatchState): RefundBatchEvent[] {
  const { submitted } = state;
  if (submitted === undefined) throw notFound(command.batchNo);
  if (submitted.mode !== 'pwd' || state.status !== 'submitted') return [];
  if (Date.parse(command.checkedAt) - Date.parse(submitted.submittedAt) < command.expireAfterMs) return [];
  return [
    {
      type: 'RefundBatchExpired',
      data: { batchNo: command.batchNo, expireAfterMs: command.expireAfterMs, expiredAt: command.checkedAt },
    },
  ];
}

function decideMarkOutcome(command: MarkRefundBatchOutcome, state: RefundBatchState): RefundBatchEvent[] {
  if (state.submitted === undefined) throw notFound(command.batchNo);
  checkResolution(command.operator, command.reason);
  const marked = command.accepted ? 'marked_accepted' : 'marked_not_accepted';
  if (state.resolution?.action === marked) return [];
  if (state.status !== 'outcome_unknown') {
    throw new DomainError(
      'BATCH_OUTCOME_NOT_UNKNOWN',
      `batch ${command.batchNo} is ${state.status}: only a nopwd batch whose outcome is unknown can be marked`,
      'batchNo',
    );
  }
  return [
    {
      type: 'RefundBatchOutcomeMarked',
      data: {
        batchNo: command.batchNo,
        accepted: command.accepted,
        operator: command.operator,
        reason: command.reason,
        markedAt: command.markedAt,
      },
    },
  ];
}

/** The events a batch command causes; Alipay's contradictions become `AnomalyDetected`, never errors. */
export function decideRefundBatch(command: RefundBatchCommand, state: RefundBatchState): RefundBatchEvent[] {
  switch (command.type) {
    case 'SubmitRefundBatch':
      return decideSubmit(command, state);
    case 'AcceptRefundBatch':
      return decideAccept(command, state);
    case 'RejectRefundBatch':
      return decideReject(command, state);
    case 'CompleteRefundBatch':
      return decideComplete(command, state);
    case 'FlagOverdueRefundBatch':
      return decideFlagOverdue(command, state);
    case 'MarkRefundBatchOutcomeUnknown':
      return decideOutcomeUnknown(command, state);
    case 'CancelRefundBatch':
      return decideCancel(command, state);
    case 'ExpireRefundBatch':
      return decideExpire(command, state);
    case 'MarkRefundBatchOutcome':
      return decideMarkOutcome(command, state);
  }
}

export const refundBatchDecider: Decider<RefundBatchCommand, RefundBatchEvent, RefundBatchState> = {
  decide: decideRefundBatch,
  evolve: evolveRefundBatch,
  initialState: initialRefundBatchState,
};

/** An order command a refund batch's event calls for, on the order its record names. */
export type BatchOrderCommand = ReserveBatchRefund | ReleaseBatchReservation | RecordBatchRefundResult;

/**
 * The order commands a batch event calls for: a submission reserves each record's amount on its order; a
 * rejection releases every reservation; a completion records each submitted record's result on its order.
 * Results nobody submitted name no order: they stay anomalies of the batch.
 */
export function orderCommandsForBatchEvent(
  event: RefundBatchEvent,
  state: RefundBatchState,
): BatchOrderCommand[] {
  switch (event.type) {
    case 'RefundBatchSubmitted':
      return event.data.items.map((item) => ({
        type: 'ReserveBatchRefund',
        outTradeNo: item.outTradeNo,
        batchNo: event.data.batchNo,
        amount: item.amount,
        reason: item.reason,
        requestedAt: event.data.submittedAt,
      }));
    case 'RefundBatchRejected':
      return releaseAll(state, event.data.batchNo, event.data.code, event.data.rejectedAt);
    case 'RefundBatchCancelled': {
      const { batchNo, operator, reason, cancelledAt } = event.data;
      return releaseAll(state, batchNo, 'CANCELLED', cancelledAt, { operator, reason });
    }
    case 'RefundBatchExpired': {
      const { batchNo, expireAfterMs, expiredAt } = event.data;
      return releaseAll(state, batchNo, 'EXPIRED', expiredAt, {
        operator: 'ledger',
        reason: expiryReason(expireAfterMs),
      });
    }
    case 'RefundBatchOutcomeMarked': {
      const { batchNo, accepted, operator, reason, markedAt } = event.data;
      return accepted ? [] : releaseAll(state, batchNo, 'NOT_ACCEPTED', markedAt, { operator, reason });
    }
    case 'RefundBatchCompleted':
      return event.data.records.flatMap((record) =>
        record.outTradeNo === undefined || record.result === null
          ? []
          : [
              {
                type: 'RecordBatchRefundResult' as const,
                outTradeNo: record.outTradeNo,
                batchNo: event.data.batchNo,
                tradeNo: record.tradeNo,
                amount: record.result.amount,
                code: record.result.code,
                notifyId: event.data.notifyId,
                notifyTime: event.data.notifyTime,
              },
            ],
      );
    // An unknown outcome holds the reservations: the batch may have been accepted.
    case 'RefundBatchOutcomeUnknown':
    case 'RefundBatchResendRejected':
    case 'RefundBatchAccepted':
    case 'AnomalyDetected':
      return [];
  }
}

function releaseAll(
  state: RefundBatchState,
  batchNo: string,
  code: string,
  releasedAt: Instant,
  resolution?: OperatorResolution,
): BatchOrderCommand[] {
  return (state.submitted?.items ?? []).map((item) => ({
    type: 'ReleaseBatchReservation',
    outTradeNo: item.outTradeNo,
    batchNo,
    code,
    releasedAt,
    ...(resolution === undefined ? {} : resolution),
  }));
}

/**
 * The order commands that the events a batch command decided call for, each event read in the state
 * before it, sorted by order: every writer takes order streams in one order, so that two batches over the
 * same orders cannot deadlock. The live writer and the dry run of a replay both run exactly these.
 */
export function orderCommandsForBatchEvents(
  before: RefundBatchState,
  events: readonly RefundBatchEvent[],
): BatchOrderCommand[] {
  const commands: BatchOrderCommand[] = [];
  let state = before;
  for (const event of events) {
    commands.push(...orderCommandsForBatchEvent(event, state));
    state = evolveRefundBatch(state, event);
  }
  return commands.sort((a, b) => (a.outTradeNo < b.outTradeNo ? -1 : a.outTradeNo > b.outTradeNo ? 1 : 0));
}
