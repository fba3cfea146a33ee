import { EVENTS_NOTIFY_CHANNEL } from './append-statement';
import type { PreparedStatements } from './prepared-statements';

/**
 * The hint, in a transaction of its own that does not wait for its commit to be flushed: what it announces
 * is already durable, and a hint lost in a crash only delays consumers until their next poll.
 */
export const NOTIFY_SQL = `SELECT pg_notify($1, $2), set_config('synchronous_commit', 'off', true)`;

/**
 * Sends the consumers' wake-up hint after appends that committed on their own. NOTIFY inside a transaction
 * takes a database-wide lock held until its commit is flushed, which makes every notifying commit wait
 * for the previous one: measured, that halved single-event append throughput (docs/event-store.md,
 * "Wake-up notifications"). Here at most one NOTIFY is in flight; appends committed meanwhile are covered
 * by one more, sent when it returns.
 */
export class CommitNotifier {
  private inFlight = false;
  private pendingPayload: string | undefined;

  constructor(
    private readonly statements: PreparedStatements,
    private readonly isOpen: () => boolean,
  ) {}

  /** Notifies that `transactionId` committed; coalesces with notifications already on their way. */
  committed(transactionId: string): void {
    this.pendingPayload = transactionId;
    if (this.inFlight) return;
    this.inFlight = true;
    void this.sendPending();
  }

  private async sendPending(): Promise<void> {
    try {
      while (this.pendingPayload !== undefined && this.isOpen()) {
        const payload = this.pendingPayload;
        this.pendingPayload = undefined;
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
