import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** A claim on a batch's sending, as the sender holds it between calls. */
export interface SendClaim {
  batchNo: string;
  /** Some earlier call may have reached Alipay without an answer: a `F` now releases nothing. */
  inDoubt: boolean;
  /** Why (`TIMEOUT`, `UNREACHABLE`, `BAD_REPLY`, `INTERRUPTED` for a call cut short by a crash). */
  doubtCode: string | null;
  doubtDetail: string | null;
  /** Resends so far without an answer, for the backoff. */
  failures: number;
}

interface ClaimRow {
  batch_no: string;
  in_doubt: boolean;
  doubt_code: string | null;
  doubt_detail: string | null;
  failures: number;
}

function claimOf(row: ClaimRow): SendClaim {
  return {
    batchNo: row.batch_no,
    inDoubt: row.in_doubt,
    doubtCode: row.doubt_code,
    doubtDetail: row.doubt_detail,
    failures: Number(row.failures),
  };
}

/** A claim is free once it lapsed by the database's clock, or when its holder takes it again. */
const CLAIMABLE = `(s.claimed_until IS NULL OR s.claimed_until <= now() OR s.claimed_by = $2)`;

/**
 * The nopwd sender's durable record of its calls (`refund_batch_sends`, docs/operations.md, "The resender"):
 * written before each call and after its answer, so that neither a restart nor another instance forgets
 * that a call may have reached Alipay, and the resend backoff survives both. Every expiry is the
 * database's clock.
 */
@Injectable()
export class RefundBatchSends {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Claims the batch for `claimMs` and records that a call starts, before it is made. A call of an earlier
   * claim that never recorded its end (a crash) puts the batch in doubt (`INTERRUPTED`). Resolves undefined
   * while another holder's claim runs: then no call is made.
   */
  async beginCall(batchNo: string, holder: string, claimMs: number): Promise<SendClaim | undefined> {
    const rows = await this.dataSource.query<ClaimRow[]>(
      `INSERT INTO refund_batch_sends AS s (batch_no, calls, call_started_at, claimed_by, claimed_until)
       VALUES ($1, 1, now(), $2, now() + $3 * interval '1 millisecond')
       ON CONFLICT (batch_no) DO UPDATE SET
         calls = s.calls + 1,
         in_doubt = s.in_doubt OR s.call_started_at IS NOT NULL,
         doubt_code = CASE WHEN s.call_started_at IS NOT NULL THEN 'INTERRUPTED' ELSE s.doubt_code END,
         doubt_detail = CASE WHEN s.call_started_at IS NOT NULL
                             THEN 'the ledger stopped during a call started at ' || s.call_started_at::text
                             ELSE s.doubt_detail END,
         call_started_at = now(),
         claimed_by = excluded.claimed_by,
         claimed_until = excluded.claimed_until,
         updated_at = now()
       WHERE ${CLAIMABLE}
       RETURNING batch_no, in_doubt, doubt_code, doubt_detail, failures`,
      [batchNo, holder, claimMs],
    );
    return rows.length === 0 ? undefined : claimOf(rows[0]);
  }

  /**
   * The call's end: `reached` false when it provably never left (nothing to doubt), true with the reason
   * when it may have reached Alipay unanswered, undefined when its answer was decisive and is recorded.
   */
  async endCall(
    batchNo: string,
    holder: string,
    unanswered?: { reached: boolean; code: string; detail: string },
  ): Promise<void> {
    const doubt = unanswered?.reached === true;
    await this.dataSource.query(
      `UPDATE refund_batch_sends SET
         call_started_at = NULL,
         in_doubt = in_doubt OR $3,
         doubt_code = CASE WHEN $3 THEN $4 ELSE doubt_code END,
         doubt_detail = CASE WHEN $3 THEN $5 ELSE doubt_detail END,
         updated_at = now()
       WHERE batch_no = $1 AND claimed_by = $2`,
      [batchNo, holder, doubt, unanswered?.code ?? null, unanswered?.detail ?? null],
    );
  }

  /**
   * Gives the claim back; `retryAfterMs` (a resend without an answer) counts a failure and sets when the
   * batch is due again.
   */
  async release(batchNo: string, holder: string, retryAfterMs?: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE refund_batch_sends SET
         claimed_by = NULL, claimed_until = NULL,
         failures = CASE WHEN $3::bigint IS NULL THEN failures ELSE failures + 1 END,
         next_send_at = CASE WHEN $3::bigint IS NULL THEN next_send_at
                             ELSE now() + $3::bigint * interval '1 millisecond' END,
         updated_at = now()
       WHERE batch_no = $1 AND claimed_by = $2`,
      [batchNo, holder, retryAfterMs ?? null],
    );
  }

  /**
   * Claims up to `limit` nopwd batches due for a resend at `now`: waiting for the gateway's answer (as the
   * `refund_batch_work` consumer lists them, a resend refused while in doubt no longer waiting; the sender
   * reloads each stream), submitted at least `minAgeMs` before `now`, past their backoff, and claimed by
   * nobody. Oldest first. Two instances never claim the same batch: the work rows are locked with
   * `SKIP LOCKED`, and the conflicting row's update re-checks the claim.
   */
  async claimDue(
    now: Date,
    minAgeMs: number,
    limit: number,
    holder: string,
    claimMs: number,
  ): Promise<SendClaim[]> {
    const rows = await this.dataSource.query<ClaimRow[]>(
      `WITH due AS (
         SELECT w.batch_no, w.submitted_at FROM refund_batch_work w
         LEFT JOIN refund_batch_sends s ON s.batch_no = w.batch_no
         WHERE w.awaiting_answer AND w.mode = 'nopwd'
           AND w.submitted_at <= $1::timestamptz - $3 * interval '1 millisecond'
           AND (s.next_send_at IS NULL OR s.next_send_at <= $1::timestamptz)
           AND (s.batch_no IS NULL OR ${CLAIMABLE})
         ORDER BY w.submitted_at, w.batch_no
         LIMIT $4
         FOR UPDATE OF w SKIP LOCKED)
       INSERT INTO refund_batch_sends AS s (batch_no, claimed_by, claimed_until)
       SELECT batch_no, $2, now() + $5 * interval '1 millisecond' FROM due ORDER BY submitted_at, batch_no
       ON CONFLICT (batch_no) DO UPDATE SET
         claimed_by = excluded.claimed_by, claimed_until = excluded.claimed_until, updated_at = now()
       WHERE ${CLAIMABLE}
       RETURNING batch_no, in_doubt, doubt_code, doubt_detail, failures`,
      [now.toISOString(), holder, minAgeMs, limit, claimMs],
    );
    return rows.map(claimOf);
  }
}
