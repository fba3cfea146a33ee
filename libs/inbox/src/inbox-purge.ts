import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';

/** Rows deleted per transaction: short transactions, so the purge never holds locks for long. */
export const PURGE_BATCH_SIZE = 1_000;

export interface PurgeRequest {
  /** Rows received more than this many days ago (by the database's clock) go. */
  olderThanDays: number;
  /** Who asked, recorded with every batch. */
  operator: string;
  /** Count what would go and delete nothing. */
  dryRun: boolean;
  batchSize?: number;
}

/** What a purge deleted (or, dry, would delete). */
export interface PurgeReport {
  /** Groups the audit rows of one purge (`inbox_purges.run_id`); absent for a dry run. */
  runId?: string;
  dryRun: boolean;
  olderThanDays: number;
  receivedBefore: Date;
  rows: number;
  /** Body and evidence bytes of the rows (raw body, headers, verification, notify_verify, outcome). */
  bytes: number;
  firstId: number | null;
  lastId: number | null;
  /** Transactions that deleted rows. */
  batches: number;
}

// Exactly the rows the inbox trigger lets a purging transaction delete (migration 1732000000009), older
// than the cutoff. The trigger checks again, so a mistake here is refused, never a lost notification.
const PURGEABLE = `
  i.received_at < $1 AND i.verified IS NOT TRUE AND i.outcome IN ('rejected', 'failed')
  AND NOT EXISTS (SELECT 1 FROM processed_notifications p WHERE p.inbox_id = i.id)`;

const ROW_BYTES = `octet_length(i.raw_body) + octet_length(i.headers::text)
  + coalesce(octet_length(i.verification::text), 0) + coalesce(octet_length(i.notify_verify::text), 0)
  + coalesce(octet_length(i.outcome_detail::text), 0)`;

interface Totals {
  rows: string | number;
  bytes: string | number | null;
  first_id: string | number | null;
  last_id: string | number | null;
}

const numberOrNull = (value: string | number | null) => (value === null ? null : Number(value));

/**
 * Deletes the unverified notifications older than the retention period (docs/operations.md, "Bounded
 * storage"): rejected or failed, never verified, holding no de-duplication key, the cause of no event.
 * Verified notifications and events are never deleted. Each batch is one transaction that says it is
 * purging, deletes, and writes its audit row in `inbox_purges`.
 */
export class InboxPurge {
  constructor(private readonly dataSource: DataSource) {}

  async purge(request: PurgeRequest): Promise<PurgeReport> {
    const { olderThanDays, operator, dryRun } = request;
    const batchSize = request.batchSize ?? PURGE_BATCH_SIZE;
    if (!Number.isSafeInteger(olderThanDays) || olderThanDays < 1) {
      throw new RangeError('olderThanDays must be a whole number of days, at least 1');
    }
    const [{ cutoff }] = await this.dataSource.query<{ cutoff: Date }[]>(
      `SELECT now() - make_interval(days => $1::int) AS cutoff`,
      [olderThanDays],
    );
    const receivedBefore = new Date(cutoff);
    if (dryRun) return this.count(olderThanDays, receivedBefore);

    const runId = randomUUID();
    const report: PurgeReport = {
      runId,
      dryRun,
      olderThanDays,
      receivedBefore,
      rows: 0,
      bytes: 0,
      firstId: null,
      lastId: null,
      batches: 0,
    };
    let after = 0;
    for (;;) {
      const batch = await this.purgeBatch(
        { runId, olderThanDays, receivedBefore, operator },
        after,
        batchSize,
      );
      if (batch === undefined) break;
      report.rows += batch.rows;
      report.bytes += batch.bytes;
      report.firstId ??= batch.firstId;
      report.lastId = batch.lastId;
      report.batches += 1;
      after = batch.lastId;
      if (batch.rows < batchSize) break;
    }
    return report;
  }

  private async count(olderThanDays: number, receivedBefore: Date): Promise<PurgeReport> {
    const [totals] = await this.dataSource.query<Totals[]>(
      `SELECT count(*) AS rows, sum(${ROW_BYTES}) AS bytes, min(i.id) AS first_id, max(i.id) AS last_id
       FROM inbox_notifications i WHERE ${PURGEABLE}`,
      [receivedBefore],
    );
    return {
      dryRun: true,
      olderThanDays,
      receivedBefore,
      rows: Number(totals.rows),
      bytes: Number(totals.bytes ?? 0),
      firstId: numberOrNull(totals.first_id),
      lastId: numberOrNull(totals.last_id),
      batches: 0,
    };
  }

  /** One transaction: up to `batchSize` rows after id `after`, deleted and audited; undefined when none. */
  private async purgeBatch(
    run: { runId: string; olderThanDays: number; receivedBefore: Date; operator: string },
    after: number,
    batchSize: number,
  ): Promise<{ rows: number; bytes: number; firstId: number; lastId: number } | undefined> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SET LOCAL ledger.inbox_purge = 'on'`);
      const [audit] = await manager.query<Totals[]>(
        `WITH doomed AS (
           SELECT i.id, ${ROW_BYTES} AS bytes FROM inbox_notifications i
           WHERE ${PURGEABLE} AND i.id > $2
           ORDER BY i.id LIMIT $3 FOR UPDATE),
         deleted AS (
           DELETE FROM inbox_notifications i USING doomed WHERE i.id = doomed.id
           RETURNING i.id, doomed.bytes)
         INSERT INTO inbox_purges (run_id, older_than_days, received_before, rows_purged, bytes_purged,
           first_id, last_id, operator)
         SELECT $4, $5, $1, count(*), coalesce(sum(bytes), 0), min(id), max(id), $6 FROM deleted
         HAVING count(*) > 0
         RETURNING rows_purged AS rows, bytes_purged AS bytes, first_id, last_id`,
        [run.receivedBefore, after, batchSize, run.runId, run.olderThanDays, run.operator],
      );
      if (audit === undefined) return undefined;
      return {
        rows: Number(audit.rows),
        bytes: Number(audit.bytes),
        firstId: Number(audit.first_id),
        lastId: Number(audit.last_id),
      };
    });
  }
}
