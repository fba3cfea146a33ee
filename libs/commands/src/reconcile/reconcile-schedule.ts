import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { jsonbText } from '@ledger/inbox';
import { backoffDelayMs, type BackoffPolicy } from '@ledger/platform';
import { DataSource } from 'typeorm';

/** Why an order is on the schedule. */
export type ReconcileReason = 'awaiting_payment' | 'notification' | 'on_demand';

/** An order to put on the schedule, and since when it needs an answer. */
export interface ReconcileCandidate {
  outTradeNo: string;
  reason: ReconcileReason;
  /** When the order was placed, or the notification that failed was received: the horizon counts from it. */
  causeAt: Date;
  /** The first query, at the earliest. */
  firstAt: Date;
}

/** A row claimed for one query. */
export interface ClaimedQuery {
  outTradeNo: string;
  reason: ReconcileReason;
  /** Queries so far, this one included. */
  attempts: number;
}

/** How one query ended, for its row. */
export interface QuerySettlement {
  /** `found`, `unverified`, `not_found`, or `error` (no answer). */
  answer: string;
  detail: unknown;
  inboxId?: number;
  /** Alipay says the trade is paid or closed: no more queries. */
  resolved: boolean;
  /** The query's answer appended the order's `PaymentSucceeded`. */
  paidByQuery: boolean;
  /** Pause before the next query when not resolved. */
  retryInMs: number;
}

export interface ReconcileScheduleStatus {
  open: number;
  due: number;
  resolved: number;
  expired: number;
  /** Orders whose payment the ledger learnt from a query alone: no verified notification names them. */
  paidByQueryWithoutNotification: { total: number; last24h: number };
  /** Orders whose last answer was `TRADE_IS_NOT_EXIST`, oldest first (at most 100). */
  notFound: { outTradeNo: string; attempts: number; lastAttemptAt: string; state: string }[];
}

/**
 * The pause before the `attempts`+1-th query of an order: the policy's backoff without jitter (a schedule,
 * not a failure storm: the queries of one order are minutes to hours apart).
 */
export function nextQueryDelayMs(policy: BackoffPolicy, attempts: number): number {
  return backoffDelayMs({ ...policy, jitter: false }, Math.max(1, attempts));
}

/**
 * The SQL of `reconcile_schedule` (migration 1732000000551; docs/operations.md, "Reconciliation"). Every
 * time is the database's clock, so that instances agree on what is due.
 */
@Injectable()
export class ReconcileSchedule {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Puts orders on the schedule, due at `firstAt`, until their cause plus `horizonMs`. An order already
   * there keeps its row; one whose row was settled before this cause is opened again (a notification that
   * failed after the last answer). Returns how many rows were added or opened.
   */
  async enrol(candidates: readonly ReconcileCandidate[], horizonMs: number): Promise<number> {
    if (candidates.length === 0) return 0;
    const rows = await this.dataSource.query<{ out_trade_no: string }[]>(
      `WITH candidate AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[])
           AS c(out_trade_no, reason, cause_at, first_at))
       INSERT INTO reconcile_schedule AS s (out_trade_no, reason, cause_at, horizon_at, next_at)
       SELECT out_trade_no, reason, cause_at, cause_at + $5 * interval '1 millisecond', first_at FROM candidate
       ON CONFLICT (out_trade_no) DO UPDATE
         SET state = 'open', reason = excluded.reason, cause_at = excluded.cause_at,
             horizon_at = excluded.horizon_at, next_at = excluded.next_at, settled_at = NULL
         WHERE s.state <> 'open' AND s.settled_at < excluded.cause_at
       RETURNING out_trade_no`,
      [
        candidates.map((c) => c.outTradeNo),
        candidates.map((c) => c.reason),
        candidates.map((c) => c.causeAt),
        candidates.map((c) => c.firstAt),
        horizonMs,
      ],
    );
    return rows.length;
  }

  /**
   * Claims up to `limit` due rows for one query each, for `holdMs`: rows another instance is claiming are
   * skipped (`SKIP LOCKED`), rows claimed by a query in flight are not due. A claim that is never settled
   * (the process died) lapses after `holdMs`, and the row is due again.
   */
  async claim(limit: number, holdMs: number): Promise<ClaimedQuery[]> {
    const rows = await this.dataSource.query<
      { out_trade_no: string; reason: ReconcileReason; attempts: number }[]
    >(
      // Through a CTE, so that the driver returns the rows of an UPDATE.
      `WITH claimed AS (
         UPDATE reconcile_schedule
         SET claimed_until = now() + $2 * interval '1 millisecond', attempts = attempts + 1,
             last_attempt_at = now()
         WHERE out_trade_no IN (
           SELECT out_trade_no FROM reconcile_schedule
           WHERE state = 'open' AND next_at <= now() AND (claimed_until IS NULL OR claimed_until <= now())
           ORDER BY next_at, out_trade_no LIMIT $1
           FOR UPDATE SKIP LOCKED)
         RETURNING out_trade_no, reason, attempts)
       SELECT * FROM claimed ORDER BY out_trade_no`,
      [limit, holdMs],
    );
    return rows.map((row) => ({
      outTradeNo: row.out_trade_no,
      reason: row.reason,
      attempts: Number(row.attempts),
    }));
  }

  /**
   * Writes how a query ended: resolved, or due again after `retryInMs`, or expired when that is past the
   * horizon. With `counted`, the query was not claimed (on demand) and counts as an attempt here.
   */
  async settle(outTradeNo: string, settlement: QuerySettlement, counted = false): Promise<void> {
    await this.dataSource.query(
      `UPDATE reconcile_schedule
       SET claimed_until = NULL, last_answer = $2, last_detail = $3::jsonb, last_inbox_id = $4,
           paid_by_query = paid_by_query OR $5,
           attempts = attempts + CASE WHEN $8 THEN 1 ELSE 0 END,
           last_attempt_at = CASE WHEN $8 THEN now() ELSE last_attempt_at END,
           next_at = now() + $7 * interval '1 millisecond',
           state = CASE WHEN $6 THEN 'resolved'
                        WHEN now() + $7 * interval '1 millisecond' > horizon_at THEN 'expired'
                        ELSE 'open' END,
           settled_at = CASE WHEN $6 OR now() + $7 * interval '1 millisecond' > horizon_at THEN now() END
       WHERE out_trade_no = $1`,
      [
        outTradeNo,
        settlement.answer,
        jsonbText(settlement.detail ?? null),
        settlement.inboxId ?? null,
        settlement.paidByQuery,
        settlement.resolved,
        settlement.retryInMs,
        counted,
      ],
    );
  }

  /** The schedule at a glance, and the signs that notifications do not arrive (docs/operations.md). */
  async status(): Promise<ReconcileScheduleStatus> {
    const [counts] = await this.dataSource.query<Record<string, string>[]>(
      `SELECT count(*) FILTER (WHERE state = 'open') AS open,
              count(*) FILTER (WHERE state = 'open' AND next_at <= now()) AS due,
              count(*) FILTER (WHERE state = 'resolved') AS resolved,
              count(*) FILTER (WHERE state = 'expired') AS expired,
              count(*) FILTER (WHERE paid_by_query AND NOT notified) AS silent,
              count(*) FILTER (WHERE paid_by_query AND NOT notified
                                 AND settled_at > now() - interval '24 hours') AS silent_24h
       FROM (SELECT s.*, EXISTS (
               SELECT 1 FROM inbox_notifications i
               WHERE i.out_trade_no = s.out_trade_no AND i.channel IN ('notify', 'return') AND i.verified
             ) AS notified
             FROM reconcile_schedule s) AS rows`,
    );
    const notFound = await this.dataSource.query<
      { out_trade_no: string; attempts: number; last_attempt_at: Date; state: string }[]
    >(
      `SELECT out_trade_no, attempts, last_attempt_at, state FROM reconcile_schedule
       WHERE last_answer = 'not_found' ORDER BY cause_at, out_trade_no LIMIT 100`,
    );
    return {
      open: Number(counts.open),
      due: Number(counts.due),
      resolved: Number(counts.resolved),
      expired: Number(counts.expired),
      paidByQueryWithoutNotification: { total: Number(counts.silent), last24h: Number(counts.silent_24h) },
      notFound: notFound.map((row) => ({
        outTradeNo: row.out_trade_no,
        attempts: Number(row.attempts),
        lastAttemptAt: new Date(row.last_attempt_at).toISOString(),
        state: row.state,
      })),
    };
  }
}
