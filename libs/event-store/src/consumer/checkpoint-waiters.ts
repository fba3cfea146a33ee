import type { DatabaseSession } from '@ledger/platform';
import type { GlobalCheckpoint } from '../event-envelope';
import { compareCheckpoints, readCheckpoint } from './checkpoint';
import { ProjectorError } from './projector-error';

interface Waiter {
  goal: GlobalCheckpoint;
  settled: boolean;
  settle(error?: ProjectorError): void;
}

/**
 * Read-your-writes waits. Many callers may wait at once (one per request): they share one poll of each
 * awaited checkpoint, for consumers running in another process, and are told at once by this process's
 * consumers after each commit. Those that passed are checked for parked events in one query.
 */
export class CheckpointWaiters {
  private readonly waiting = new Map<string, Set<Waiter>>();
  private poll?: NodeJS.Timeout;
  private polling = false;

  constructor(
    private readonly database: DatabaseSession,
    private readonly pollMs: number,
    private readonly onError: (message: string) => void,
  ) {}

  /** Resolves once `projection`'s checkpoint has reached `goal`; see Projector.waitFor. */
  wait(projection: string, goal: GlobalCheckpoint, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiters = this.waiting.get(projection) ?? new Set<Waiter>();
      this.waiting.set(projection, waiters);
      const waiter: Waiter = {
        goal,
        settled: false,
        settle: (error) => {
          if (waiter.settled) return;
          waiter.settled = true;
          clearTimeout(timer);
          waiters.delete(waiter);
          if (error === undefined) resolve();
          else reject(error);
        },
      };
      const timer = setTimeout(
        () =>
          waiter.settle(
            new ProjectorError(
              'WAIT_TIMEOUT',
              `projection ${projection} did not reach ${goal.transactionId}/${goal.position} within ${timeoutMs} ms`,
              { projection },
            ),
          ),
        timeoutMs,
      );
      waiters.add(waiter);
      this.poll ??= setInterval(() => void this.pollCheckpoints(), this.pollMs);
      void this.readAndRelease(projection);
    });
  }

  /** A checkpoint committed by this process's consumer, or read by the poll. */
  progress(projection: string, checkpoint: GlobalCheckpoint): void {
    const waiters = this.waiting.get(projection);
    if (waiters === undefined) return;
    const passed = [...waiters].filter((waiter) => compareCheckpoints(checkpoint, waiter.goal) >= 0);
    // Out of the set now, so a later progress does not check them twice; settled when the query answers.
    passed.forEach((waiter) => waiters.delete(waiter));
    if (passed.length > 0) void this.release(projection, passed);
  }

  /** Settles every pending wait with `error`. */
  cancelAll(error: (projection: string) => ProjectorError): void {
    for (const [projection, waiters] of this.waiting) {
      [...waiters].forEach((waiter) => waiter.settle(error(projection)));
    }
  }

  private async readAndRelease(projection: string): Promise<void> {
    try {
      this.progress(projection, await readCheckpoint(this.database, projection));
    } catch (error) {
      this.onError(`waitFor could not read the checkpoint of ${projection}: ${String(error)}`);
    }
  }

  private async pollCheckpoints(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const [projection, waiters] of this.waiting) {
        if (waiters.size === 0) this.waiting.delete(projection);
        else await this.readAndRelease(projection);
      }
    } finally {
      this.polling = false;
      if (this.waiting.size === 0 && this.poll !== undefined) {
        clearInterval(this.poll);
        this.poll = undefined;
      }
    }
  }

  /** Settles waiters whose goal the checkpoint passed: with EVENT_PARKED if their transaction parked. */
  private async release(projection: string, passed: Waiter[]): Promise<void> {
    let parked: { transaction_id: string; global_position: string }[];
    try {
      parked = await this.database.query(
        `SELECT transaction_id::text AS transaction_id, global_position FROM parked_events
         WHERE projection = $1 AND transaction_id = ANY($2::xid8[]) ORDER BY global_position`,
        [projection, [...new Set(passed.map((waiter) => waiter.goal.transactionId))]],
      );
    } catch (error) {
      this.onError(`waitFor could not read the parked events of ${projection}: ${String(error)}`);
      // Back in the set: the next poll tries again, unless the timeout comes first.
      passed
        .filter((waiter) => !waiter.settled)
        .forEach((waiter) => this.waiting.get(projection)?.add(waiter));
      return;
    }
    for (const waiter of passed) {
      const parkedPositions = parked
        .filter((row) => row.transaction_id === waiter.goal.transactionId)
        .map((row) => Number(row.global_position))
        .filter((position) => position <= waiter.goal.position);
      waiter.settle(
        parkedPositions.length === 0
          ? undefined
          : new ProjectorError(
              'EVENT_PARKED',
              `projection ${projection} parked events ${parkedPositions.join(', ')} of transaction ` +
                waiter.goal.transactionId,
              { projection, parkedPositions },
            ),
      );
    }
  }
}
