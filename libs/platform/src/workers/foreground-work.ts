import { Injectable } from '@nestjs/common';

/** Requests in flight from which on the process counts as busy. */
export const BUSY_FROM_REQUESTS = 4;

/** How long the process still counts as busy after it last had that many: the gaps of a burst. */
export const BUSY_LINGER_MS = 250;

/**
 * The requests someone is waiting on, Alipay's notifications first (docs/operations.md, "Alipay first"):
 * what they are answering counts them, and background work asks `busy()` to take less of the process
 * while they wait (the webhooks of a sale go out after its burst of notifications, not in the middle of
 * it). One per application, like the metrics.
 */
@Injectable()
export class ForegroundWork {
  private inFlight = 0;
  private busyUntil = Number.NEGATIVE_INFINITY;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Counts a request until the returned function is called (once; later calls do nothing). */
  begin(): () => void {
    this.inFlight += 1;
    this.mark();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlight -= 1;
    };
  }

  /** Whether enough requests are in flight now, or were within the last `BUSY_LINGER_MS`. */
  busy(): boolean {
    this.mark();
    return this.now() < this.busyUntil;
  }

  private mark(): void {
    if (this.inFlight >= BUSY_FROM_REQUESTS) this.busyUntil = this.now() + BUSY_LINGER_MS;
  }
}
