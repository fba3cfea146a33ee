/**
 * A level-triggered wake-up for one consumer loop: a hint that arrives while the loop is busy is kept, so
 * the next wait returns at once instead of sleeping through it.
 */
export class WakeSignal {
  private pending = false;
  private wake?: () => void;

  notify(): void {
    this.pending = true;
    this.wake?.();
  }

  /** Resolves on the next hint (or at once if one is pending), or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.pending = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
