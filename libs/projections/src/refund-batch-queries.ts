import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { isValidOutTradeNo, type RefundMode } from '@ledger/domain';
import { DataSource } from 'typeorm';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './order-queries';
import { ProjectionsError } from './projections-error';
import { decodeRefundBatchCursor, encodeRefundBatchCursor } from './page-cursor';
import {
  REFUND_BATCH_TABLE,
  refundBatchListItemOfRow,
  refundBatchOfRow,
  type RefundBatchRow,
} from './refund-batch.projection';
import type { RefundBatchListItem, RefundBatchState, RefundBatchSummary } from './refund-batch-summary';

/** Filters of `RefundBatchQueries.list`; all optional, combined with AND. */
export interface RefundBatchListFilters {
  state?: RefundBatchState;
  mode?: RefundMode;
  /** Batches with a submitted record for this order. */
  outTradeNo?: string;
  /** Batches submitted at or after this instant. */
  from?: Date;
  /** Batches submitted strictly before this instant. */
  to?: Date;
  /** Page size, 1 to `MAX_PAGE_SIZE`; default `DEFAULT_PAGE_SIZE`. */
  limit?: number;
}

/** A page of batches, newest first, without their records; `nextCursor` is null on the last page. */
export interface RefundBatchPage {
  items: RefundBatchListItem[];
  nextCursor: string | null;
}

// Records as a written list of the union, so that the compiler finds a value added to it.
const STATES: Record<RefundBatchState, true> = {
  submitted: true,
  outcome_unknown: true,
  accepted: true,
  rejected: true,
  cancelled: true,
  expired: true,
  completed: true,
};
const MODES: Record<RefundMode, true> = { pwd: true, nopwd: true };

export const REFUND_BATCH_STATES = Object.keys(STATES) as RefundBatchState[];

/** The states of a batch not settled yet; the others are final. */
export type UnsettledRefundBatchState = Extract<
  RefundBatchState,
  'submitted' | 'outcome_unknown' | 'accepted'
>;

const LIST_COLUMNS = `batch_no, mode, state, error_code, batch_num, total_amount, success_num, anomalies,
  unanswered, resolution, submitted_at, updated_at, version, last_position`;

function invalid(field: string, message: string): ProjectionsError {
  return new ProjectionsError('INVALID_FILTER', `${field} ${message}`, field);
}

function checkInstant(value: Date | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw invalid(field, 'must be a valid instant');
  return value.toISOString();
}

/**
 * Reads of the refund batch projection: one batch with its records, and filtered pages (cursor pagination
 * over submission time and batch_no, newest first: stable while batches change). Reads are eventually
 * consistent; a writer that needs its own write reflected waits with
 * `ProjectionsService.waitForProjections` first.
 */
@Injectable()
export class RefundBatchQueries {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The batch's projection, or undefined when no event of its stream has been projected. */
  /**
   * How many batches are in each state not settled yet (docs/operations.md, "Metrics"): read on the state
   * index, so it costs what is open, never the years of settled batches.
   */
  async unsettledCounts(): Promise<Record<UnsettledRefundBatchState, number>> {
    const counts: Record<UnsettledRefundBatchState, number> = {
      submitted: 0,
      outcome_unknown: 0,
      accepted: 0,
    };
    const rows = await this.dataSource.query<{ state: UnsettledRefundBatchState; count: string }[]>(
      `SELECT state, count(*) AS count FROM ${REFUND_BATCH_TABLE}
       WHERE state IN ('submitted', 'outcome_unknown', 'accepted') GROUP BY state`,
    );
    for (const { state, count } of rows) counts[state] = Number(count);
    return counts;
  }

  async get(batchNo: string): Promise<RefundBatchSummary | undefined> {
    const rows = await this.dataSource.query<RefundBatchRow[]>(
      `SELECT ${LIST_COLUMNS}, items FROM ${REFUND_BATCH_TABLE} WHERE batch_no = $1`,
      [batchNo],
    );
    return rows.length === 0 ? undefined : refundBatchOfRow(rows[0]);
  }

  /** A page of batches matching `filters`, after `cursor` (from the previous page's `nextCursor`). */
  async list(filters: RefundBatchListFilters = {}, cursor?: string): Promise<RefundBatchPage> {
    const limit = filters.limit ?? DEFAULT_PAGE_SIZE;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw invalid('limit', `must be an integer from 1 to ${MAX_PAGE_SIZE}`);
    }
    const conditions: string[] = [];
    const parameters: unknown[] = [];
    const where = (sql: (placeholder: string) => string, value: unknown) => {
      parameters.push(value);
      conditions.push(sql(`$${parameters.length}`));
    };
    const { state, mode, outTradeNo } = filters;
    if (state !== undefined) {
      if (!Object.hasOwn(STATES, state))
        throw invalid('state', `must be one of ${Object.keys(STATES).join(', ')}`);
      where((p) => `state = ${p}`, state);
    }
    if (mode !== undefined) {
      if (!Object.hasOwn(MODES, mode)) throw invalid('mode', 'must be pwd or nopwd');
      where((p) => `mode = ${p}`, mode);
    }
    if (outTradeNo !== undefined) {
      if (!isValidOutTradeNo(outTradeNo)) throw invalid('outTradeNo', 'must be an out_trade_no');
      where((p) => `out_trade_nos @> ARRAY[${p}::text]`, outTradeNo);
    }
    const from = checkInstant(filters.from, 'from');
    const to = checkInstant(filters.to, 'to');
    if (from !== undefined) where((p) => `submitted_at >= ${p}::timestamptz`, from);
    if (to !== undefined) where((p) => `submitted_at < ${p}::timestamptz`, to);
    if (cursor !== undefined) {
      const after = decodeRefundBatchCursor(cursor);
      parameters.push(after.submittedAt, after.batchNo);
      const n = parameters.length;
      conditions.push(`(submitted_at, batch_no) < ($${n - 1}::timestamptz, $${n})`);
    }
    parameters.push(limit + 1);
    const rows = await this.dataSource.query<Omit<RefundBatchRow, 'items'>[]>(
      `SELECT ${LIST_COLUMNS} FROM ${REFUND_BATCH_TABLE}
       ${conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`}
       ORDER BY submitted_at DESC, batch_no DESC LIMIT $${parameters.length}`,
      parameters,
    );
    const items = rows.slice(0, limit).map(refundBatchListItemOfRow);
    const last = items.at(-1);
    return {
      items,
      nextCursor:
        rows.length > limit && last !== undefined
          ? encodeRefundBatchCursor({ submittedAt: last.submittedAt, batchNo: last.batchNo })
          : null,
    };
  }
}
