import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  asRefundBatchEvent,
  batchNoOfStream,
  REFUND_BATCH_EVENT_SCHEMA_VERSIONS,
  type RefundBatchSubmitted,
} from '@ledger/domain';
import type { Projection, ProjectionContext, RecordedEvent } from '@ledger/event-store';
import { DataSource } from 'typeorm';

/**
 * The name of the refund processes' consumer: its checkpoint and its lock (docs/operations.md, "The
 * resender").
 */
export const REFUND_BATCH_WORK = 'refund_batch_work';

type Wait = 'awaiting_answer' | 'awaiting_result' | 'awaiting_confirmation';

/**
 * What each event ends, whatever came before: every event but the submission only ends waits, so a replay
 * agrees with the first pass.
 */
function endedBy(event: RecordedEvent): readonly Wait[] {
  const batchEvent = asRefundBatchEvent(event.type, event.data);
  switch (batchEvent?.type) {
    case 'RefundBatchAccepted':
      return ['awaiting_answer', 'awaiting_confirmation'];
    // A resend refused while the outcome is unknown: no further resend (docs/operations.md, "The resender").
    case 'RefundBatchResendRejected':
      return ['awaiting_answer'];
    case 'RefundBatchOutcomeMarked':
      return batchEvent.data.accepted
        ? ['awaiting_answer']
        : ['awaiting_answer', 'awaiting_result', 'awaiting_confirmation'];
    case 'RefundBatchRejected':
    case 'RefundBatchCompleted':
    case 'RefundBatchCancelled':
    case 'RefundBatchExpired':
      return ['awaiting_answer', 'awaiting_result', 'awaiting_confirmation'];
    // Flagged once (docs/operations.md, "Refund results that do not come"): the timeout is done with it.
    case 'AnomalyDetected':
      return batchEvent.data.kind === 'refund_result_missing' ? ['awaiting_result'] : [];
    // The submission enrols (applyRefundBatchWork); an unknown outcome still waits for everything.
    case 'RefundBatchSubmitted':
    case 'RefundBatchOutcomeUnknown':
    case undefined:
      return [];
  }
}

/**
 * The refund process managers' consumer (docs/operations.md, "The resender"): a checkpointed consumer of
 * the refund batch streams, like a projection, whose rows (`refund_batch_work`) are what the resender, the
 * result timeout and the pwd expiry have to do, written in the transaction that moves its checkpoint.
 * `RefundBatchSubmitted` enrols a batch (a nopwd one waits for the gateway's answer, every one for its
 * result, a pwd one for its confirmation); each later event only ends waits. So applying the history again
 * (a first start at position 0 enrols the batches that exist; a replay) changes nothing that was settled.
 */
export const refundBatchWork: Projection = {
  name: REFUND_BATCH_WORK,
  handles: Object.keys(REFUND_BATCH_EVENT_SCHEMA_VERSIONS),
  tables: [],
  apply: applyRefundBatchWork,
};

async function applyRefundBatchWork(
  events: readonly RecordedEvent[],
  { session }: ProjectionContext,
): Promise<void> {
  const submitted: RefundBatchSubmitted['data'][] = [];
  const ended = new Map<string, Set<Wait>>();
  for (const event of events) {
    // `AnomalyDetected` is an order event too: only the batch streams'.
    const batchNo = batchNoOfStream(event.streamId);
    if (batchNo === undefined) continue;
    if (event.type === 'RefundBatchSubmitted') {
      submitted.push(event.data as RefundBatchSubmitted['data']);
      continue;
    }
    const waits = endedBy(event);
    if (waits.length === 0) continue;
    ended.set(batchNo, new Set([...(ended.get(batchNo) ?? []), ...waits]));
  }
  if (submitted.length > 0) {
    // Enrolled once: a replayed submission finds its row, whatever has ended since.
    await session.query(
      `INSERT INTO refund_batch_work
         (batch_no, mode, submitted_at, awaiting_answer, awaiting_result, awaiting_confirmation)
       SELECT b."batchNo", b.mode, b."submittedAt", b.mode = 'nopwd', true, b.mode = 'pwd'
       FROM jsonb_to_recordset($1::jsonb) AS b("batchNo" text, mode text, "submittedAt" timestamptz)
       ON CONFLICT (batch_no) DO NOTHING`,
      [JSON.stringify(submitted.map(({ batchNo, mode, submittedAt }) => ({ batchNo, mode, submittedAt })))],
    );
  }
  if (ended.size > 0) {
    const rows = [...ended].map(([batchNo, waits]) => ({
      batchNo,
      answer: waits.has('awaiting_answer'),
      result: waits.has('awaiting_result'),
      confirmation: waits.has('awaiting_confirmation'),
    }));
    await session.query(
      `UPDATE refund_batch_work w SET
         awaiting_answer = w.awaiting_answer AND NOT e.answer,
         awaiting_result = w.awaiting_result AND NOT e.result,
         awaiting_confirmation = w.awaiting_confirmation AND NOT e.confirmation,
         updated_at = now()
       FROM jsonb_to_recordset($1::jsonb)
         AS e("batchNo" text, answer boolean, result boolean, confirmation boolean)
       WHERE w.batch_no = e."batchNo"`,
      [JSON.stringify(rows)],
    );
  }
}

/** What the result timeout and the pwd expiry claim from the work list. */
export type RefundBatchCheck = 'result' | 'expiry';

const CHECKS: Record<RefundBatchCheck, { waiting: Wait; claim: 'check_after' | 'expire_after' }> = {
  result: { waiting: 'awaiting_result', claim: 'check_after' },
  expiry: { waiting: 'awaiting_confirmation', claim: 'expire_after' },
};

/**
 * The claims of the result timeout and of the pwd expiry on `refund_batch_work` (docs/operations.md,
 * "Refund results that do not come"). Several instances share them: a claim locks its rows with
 * `FOR UPDATE SKIP LOCKED` and moves them out of reach for `claimMs` by the database's clock; the command
 * it leads to ends the wait through the consumer, and a claim that led nowhere (a result racing it, a
 * command that failed) makes the batch due again when it lapses.
 */
@Injectable()
export class RefundBatchWork {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Claims up to `limit` batches still waiting (for their result, or a pwd batch for its confirmation)
   * that were submitted at least `afterMs` before `now` and are claimed by nobody, oldest first.
   */
  async claimDue(
    check: RefundBatchCheck,
    now: Date,
    afterMs: number,
    limit: number,
    claimMs: number,
  ): Promise<string[]> {
    const { waiting, claim } = CHECKS[check];
    const rows = await this.dataSource.query<{ batch_no: string }[]>(
      `WITH due AS (
         SELECT batch_no FROM refund_batch_work
         WHERE ${waiting} AND submitted_at <= $1::timestamptz - $2 * interval '1 millisecond'
           AND (${claim} IS NULL OR ${claim} <= GREATEST(now(), $1::timestamptz))
         ORDER BY submitted_at, batch_no LIMIT $3 FOR UPDATE SKIP LOCKED),
       claimed AS (
         UPDATE refund_batch_work w
         SET ${claim} = GREATEST(now(), $1::timestamptz) + $4 * interval '1 millisecond', updated_at = now()
         FROM due WHERE w.batch_no = due.batch_no
         RETURNING w.batch_no, w.submitted_at)
       SELECT batch_no FROM claimed ORDER BY submitted_at, batch_no`,
      [now.toISOString(), afterMs, limit, claimMs],
    );
    return rows.map((row) => row.batch_no);
  }

  /** Gives a claim back: the batch is due again at once (its command failed, to be tried again). */
  async release(check: RefundBatchCheck, batchNo: string): Promise<void> {
    const { claim } = CHECKS[check];
    await this.dataSource.query(
      `UPDATE refund_batch_work SET ${claim} = NULL, updated_at = now() WHERE batch_no = $1`,
      [batchNo],
    );
  }
}
