/**
 * The timed pauses of a loop, which one call cuts short (it stops, or the connection its work depended on
 * is gone): nobody waits out a backoff or a lock retry after that.
 */
export class Pauses {
  private readonly sleepers = new Set<() => void>();
  private cut = false;

  /** Resolves after `ms`, or at once when the pauses are cut (now or later). */
  sleep(ms: number): Promise<void> {
    if (this.cut) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  /** Ends the pauses running now; with `forGood`, every later one resolves at once too (stopping). */
  cutShort(forGood = false): void {
    if (forGood) this.cut = true;
    this.sleepers.forEach((wake) => wake());
  }
}
