import { refundResultOutcome } from '@ledger/alipay-protocol';
import {
  asRefundBatchEvent,
  batchNoOfStream,
  expiryReason,
  REFUND_BATCH_EVENT_SCHEMA_VERSIONS,
  type RefundBatchCompleted,
  type RefundBatchEvent,
} from '@ledger/domain';
import type { Projection, ProjectionContext, RecordedEvent } from '@ledger/event-store';
import type {
  RefundBatchListItem,
  RefundBatchRecord,
  RefundBatchState,
  RefundBatchSummary,
} from './refund-batch-summary';

/** The name of the refund batch projection: its checkpoint, its lock, its parked events. */
export const REFUND_BATCH_PROJECTION = 'refund_batches';

/** The table it owns (migration 1732000000005); rebuilt as a shadow and swapped in. */
export const REFUND_BATCH_TABLE = 'refund_batches';

type Table = typeof REFUND_BATCH_TABLE;

/** Where an event sits: its stream version, global position and recorded time. */
export interface EventPlace {
  version: number;
  globalPosition: number;
  recordedAt: string;
}

/**
 * The batch's row after `event`, from the row before it (undefined for the stream's first event). Pure:
 * every field comes from the events, so a rebuild reaches the same row. The state only moves forward
 * (a completion is final); the first completion is the batch's result, as it is the one the orders
 * recorded (their results are keyed by batch and trade): a second one, which the decider never appends,
 * changes nothing.
 */
export function evolveRefundBatchRow(
  batchNo: string,
  row: RefundBatchSummary | undefined,
  event: RefundBatchEvent,
  place: EventPlace,
): RefundBatchSummary {
  const base: RefundBatchSummary = row ?? {
    batchNo,
    mode: null,
    state: null,
    errorCode: null,
    batchNum: null,
    totalAmount: null,
    successNum: null,
    items: [],
    anomalies: [],
    unanswered: null,
    resolution: null,
    submittedAt: place.recordedAt,
    updatedAt: place.recordedAt,
    version: 0,
    lastPosition: 0,
  };
  const next: RefundBatchSummary = {
    ...base,
    updatedAt: place.recordedAt,
    version: place.version,
    lastPosition: place.globalPosition,
  };
  switch (event.type) {
    case 'RefundBatchSubmitted': {
      if (base.mode !== null || base.successNum !== null) return next;
      const { mode, items, batchNum, totalAmount } = event.data;
      return {
        ...next,
        mode,
        state: base.state ?? 'submitted',
        batchNum,
        totalAmount,
        items: items.map(({ outTradeNo, tradeNo, amount, reason }) => ({
          outTradeNo,
          tradeNo,
          amount,
          reason,
          result: null,
        })),
      };
    }
    case 'RefundBatchAccepted':
      return base.state === 'submitted' || base.state === 'outcome_unknown'
        ? { ...next, state: 'accepted' }
        : next;
    case 'RefundBatchOutcomeUnknown': {
      const { code, detail, at } = event.data;
      return {
        ...next,
        state: base.state === 'submitted' ? 'outcome_unknown' : base.state,
        unanswered: { code, detail, at, resendRejection: base.unanswered?.resendRejection ?? null },
      };
    }
    case 'RefundBatchResendRejected': {
      const { code, rejectedAt } = event.data;
      const unanswered = base.unanswered ?? { code: 'UNANSWERED_CALL', detail: '', at: rejectedAt };
      return { ...next, unanswered: { ...unanswered, resendRejection: { code, at: rejectedAt } } };
    }
    case 'RefundBatchCancelled': {
      const { operator, reason, cancelledAt } = event.data;
      return {
        ...next,
        state: settled(base, 'cancelled'),
        resolution: { action: 'cancelled', operator, reason, at: cancelledAt },
      };
    }
    case 'RefundBatchExpired':
      return {
        ...next,
        state: settled(base, 'expired'),
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
        ...next,
        state: settled(base, accepted ? 'accepted' : 'rejected'),
        errorCode: accepted ? base.errorCode : 'NOT_ACCEPTED',
        resolution: {
          action: accepted ? 'marked_accepted' : 'marked_not_accepted',
          operator,
          reason,
          at: markedAt,
        },
      };
    }
    case 'RefundBatchRejected':
      return {
        ...next,
        errorCode: event.data.code,
        state: base.state === 'completed' ? 'completed' : 'rejected',
      };
    case 'RefundBatchCompleted':
      return base.successNum !== null ? next : complete(next, event.data);
    case 'AnomalyDetected': {
      const { kind, detail, notifyId, detectedAt } = event.data;
      return {
        ...next,
        anomalies: [
          ...base.anomalies,
          { kind, detail, tradeNo: null, notifyId: notifyId ?? null, detectedAt },
        ],
      };
    }
  }
}

/** A settlement never overrides a result already in: the completion is final. */
function settled(row: RefundBatchSummary, state: RefundBatchState): RefundBatchState {
  return row.state === 'completed' ? 'completed' : state;
}

/**
 * Each submitted record takes its result; results that match no record follow (docs/events.md,
 * "Refund batch rules (`decideRefundBatch`)").
 */
function complete(row: RefundBatchSummary, completion: RefundBatchCompleted['data']): RefundBatchSummary {
  type Reconciled = RefundBatchCompleted['data']['records'][number];
  const resultOf = ({ result }: Reconciled): RefundBatchRecord['result'] =>
    result === null
      ? null
      : { amount: result.amount, code: result.code, outcome: refundResultOutcome(result.code) };
  const submitted = new Set(row.items.map((item) => item.tradeNo));
  const matched = new Map<string, Reconciled>();
  const unmatched: Reconciled[] = [];
  for (const record of completion.records) {
    const matches = record.outTradeNo !== undefined && submitted.has(record.tradeNo);
    if (matches && !matched.has(record.tradeNo)) matched.set(record.tradeNo, record);
    else unmatched.push(record);
  }
  const items: RefundBatchRecord[] = [
    ...row.items.map((item) => {
      const record = matched.get(item.tradeNo);
      return { ...item, result: record === undefined ? null : resultOf(record) };
    }),
    ...unmatched.map((record) => ({
      outTradeNo: record.outTradeNo ?? null,
      tradeNo: record.tradeNo,
      amount: record.submittedAmount ?? null,
      reason: null,
      result: resultOf(record),
    })),
  ];
  return {
    ...row,
    state: 'completed',
    successNum: completion.successNum,
    items,
    anomalies: [
      ...row.anomalies,
      ...completion.anomalies.map(({ kind, detail, tradeNo }) => ({
        kind,
        detail,
        tradeNo: tradeNo ?? null,
        notifyId: completion.notifyId,
        detectedAt: completion.notifyTime,
      })),
    ],
  };
}

/** A row of `refund_batches` as the driver returns it. */
export interface RefundBatchRow {
  batch_no: string;
  mode: RefundBatchSummary['mode'];
  state: RefundBatchSummary['state'];
  error_code: string | null;
  batch_num: number | null;
  total_amount: string | number | null;
  success_num: number | null;
  items: RefundBatchRecord[];
  anomalies: RefundBatchSummary['anomalies'];
  unanswered: RefundBatchSummary['unanswered'];
  resolution: RefundBatchSummary['resolution'];
  submitted_at: Date;
  updated_at: Date;
  version: number;
  last_position: string | number;
}

/** A stored row, read without its records, as the list item it was written from. */
export function refundBatchListItemOfRow(row: Omit<RefundBatchRow, 'items'>): RefundBatchListItem {
  return {
    batchNo: row.batch_no,
    mode: row.mode,
    state: row.state,
    errorCode: row.error_code,
    batchNum: row.batch_num,
    totalAmount: row.total_amount === null ? null : Number(row.total_amount),
    successNum: row.success_num,
    anomalies: row.anomalies,
    unanswered: row.unanswered,
    resolution: row.resolution,
    submittedAt: row.submitted_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    version: row.version,
    lastPosition: Number(row.last_position),
  };
}

/** A stored row as the summary it was written from. */
export function refundBatchOfRow(row: RefundBatchRow): RefundBatchSummary {
  return { ...refundBatchListItemOfRow(row), items: row.items };
}

/**
 * The refund batches (docs/operations.md, "The refund batch projection"), one row per refund batch stream.
 * Each batch loads the rows it touches once, folds its events with `evolveRefundBatchRow` and writes them
 * back in one statement.
 *
 * Order streams use some of the same type names (`AnomalyDetected`); only refund batch streams are read.
 */
export const refundBatchProjection: Projection<Table> = {
  name: REFUND_BATCH_PROJECTION,
  handles: Object.keys(REFUND_BATCH_EVENT_SCHEMA_VERSIONS),
  tables: [REFUND_BATCH_TABLE],
  apply: applyRefundBatchEvents,
};

async function applyRefundBatchEvents(
  events: readonly RecordedEvent[],
  { session, table }: ProjectionContext<Table>,
): Promise<void> {
  const batchEvents = events.flatMap((event) => {
    const batchNo = batchNoOfStream(event.streamId);
    return batchNo === undefined ? [] : [{ batchNo, event }];
  });
  if (batchEvents.length === 0) return;

  const keys = [...new Set(batchEvents.map(({ batchNo }) => batchNo))];
  const stored = await session.query<RefundBatchRow>(
    `SELECT batch_no, mode, state, error_code, batch_num, total_amount, success_num, items, anomalies,
            unanswered, resolution, submitted_at, updated_at, version, last_position
     FROM ${table(REFUND_BATCH_TABLE)} WHERE batch_no = ANY($1::text[])`,
    [keys],
  );
  const rows = new Map(stored.map((row) => [row.batch_no, refundBatchOfRow(row)]));
  const touched = new Set<string>();
  for (const { batchNo, event } of batchEvents) {
    const batchEvent = asRefundBatchEvent(event.type, event.data);
    if (batchEvent === undefined) continue;
    const row = rows.get(batchNo);
    // A row remembers the last version it applied: an event seen twice changes nothing.
    if (row !== undefined && event.version <= row.version) continue;
    rows.set(
      batchNo,
      evolveRefundBatchRow(batchNo, row, batchEvent, {
        version: event.version,
        globalPosition: event.globalPosition,
        recordedAt: event.metadata.recordedAt,
      }),
    );
    touched.add(batchNo);
  }
  if (touched.size === 0) return;
  await upsertRows(
    session,
    table(REFUND_BATCH_TABLE),
    [...touched].map((key) => toColumns(rows.get(key)!)),
  );
}

function toColumns(row: RefundBatchSummary): Record<string, unknown> {
  return {
    batch_no: row.batchNo,
    mode: row.mode,
    state: row.state,
    error_code: row.errorCode,
    batch_num: row.batchNum,
    total_amount: row.totalAmount,
    success_num: row.successNum,
    items: row.items,
    out_trade_nos: row.items.flatMap((item) => (item.outTradeNo === null ? [] : [item.outTradeNo])),
    anomalies: row.anomalies,
    unanswered: row.unanswered,
    resolution: row.resolution,
    submitted_at: row.submittedAt,
    updated_at: row.updatedAt,
    version: row.version,
    last_position: row.lastPosition,
  };
}

/** One statement for the whole batch: the rows travel as one JSON array. */
async function upsertRows(
  session: ProjectionContext['session'],
  table: string,
  rows: Record<string, unknown>[],
): Promise<void> {
  await session.query(
    `INSERT INTO ${table} (
       batch_no, mode, state, error_code, batch_num, total_amount, success_num, items, out_trade_nos,
       anomalies, unanswered, resolution, submitted_at, updated_at, version, last_position)
     SELECT r.batch_no, r.mode, r.state, r.error_code, r.batch_num, r.total_amount, r.success_num, r.items,
            ARRAY(SELECT jsonb_array_elements_text(r.out_trade_nos)), r.anomalies,
            CASE WHEN jsonb_typeof(r.unanswered) = 'object' THEN r.unanswered END,
            CASE WHEN jsonb_typeof(r.resolution) = 'object' THEN r.resolution END,
            r.submitted_at, r.updated_at, r.version, r.last_position
     FROM jsonb_to_recordset($1::jsonb) AS r(
       batch_no text, mode text, state text, error_code text, batch_num integer, total_amount bigint,
       success_num integer, items jsonb, out_trade_nos jsonb, anomalies jsonb, unanswered jsonb,
       resolution jsonb, submitted_at timestamptz, updated_at timestamptz, version integer,
       last_position bigint)
     ON CONFLICT (batch_no) DO UPDATE SET
       mode = EXCLUDED.mode, state = EXCLUDED.state, error_code = EXCLUDED.error_code,
       batch_num = EXCLUDED.batch_num, total_amount = EXCLUDED.total_amount,
       success_num = EXCLUDED.success_num, items = EXCLUDED.items, out_trade_nos = EXCLUDED.out_trade_nos,
       anomalies = EXCLUDED.anomalies, unanswered = EXCLUDED.unanswered, resolution = EXCLUDED.resolution,
       updated_at = EXCLUDED.updated_at, version = EXCLUDED.version,
       last_position = EXCLUDED.last_position`,
    [JSON.stringify(rows)],
  );
}
