import { setTimeout as sleep } from 'node:timers/promises';
import { EVENTS_NOTIFY_CHANNEL } from './append-statement';
import type { DatabaseSession } from '@ledger/platform';

/**
 * The hint. Its transaction writes nothing before its commit record, so PostgreSQL does not wait for that
 * record to be flushed: no `synchronous_commit` to lower (measured: lowering it per transaction only added
 * the cost of the setting).
 */
const NOTIFY_SQL = `SELECT pg_notify($1, $2)`;

/**
 * The least time between two hints. Each is a transaction; without a floor a busy store sent one for every
 * second or third append (docs/event-store.md, "Append cost"), and a consumer woken a few milliseconds
 * later reads the same events in one batch instead of several.
 */
export const NOTIFY_MIN_GAP_MS = 5;

/**
 * Sends the consumers' wake-up hint after appends that committed on their own. NOTIFY inside a transaction
 * takes a database-wide lock held until its commit is flushed, which makes every notifying commit wait
 * for the previous one: measured, that halved single-event append throughput (docs/event-store.md,
 * "Wake-up notifications"). Here at most one NOTIFY is in flight; appends committed meanwhile are covered
 * by one more, sent when it returns, and no sooner than NOTIFY_MIN_GAP_MS after the previous one.
 */
export class CommitNotifier {
  private inFlight = false;
  private pendingPayload: string | undefined;
  /** When the last hint was sent (performance.now()). */
  private lastSentAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly statements: DatabaseSession,
    private readonly isOpen: () => boolean,
  ) {}

  /** Notifies that `transactionId` committed; coalesces with notifications already on their way. */
  committed(transactionId: string): void {
    this.pendingPayload = transactionId;
    if (this.inFlight) return;
    this.inFlight = true;
    void this.sendPending();
  }

  private gapLeft(): number {
    return this.lastSentAt + NOTIFY_MIN_GAP_MS - performance.now();
  }

  private async sendPending(): Promise<void> {
    try {
      while (this.pendingPayload !== undefined && this.isOpen()) {
        // Timers may fire a little early by this clock: wait again until the gap has passed.
        for (let wait = this.gapLeft(); wait > 0; wait = this.gapLeft()) {
          await sleep(wait);
          if (!this.isOpen()) return;
        }
        const payload = this.pendingPayload;
        this.pendingPayload = undefined;
        this.lastSentAt = performance.now();
        try {
          await this.statements.query(NOTIFY_SQL, [EVENTS_NOTIFY_CHANNEL, payload]);
        } catch {
          // A lost hint only delays consumers until their next poll; the append itself has committed.
          return;
        }
      }
    } finally {
      this.inFlight = false;
    }
  }
}
