/** How a `StatementBatcher` groups its calls. */
export interface BatchingOptions {
  /** The most calls one statement answers. */
  maxBatch: number;
  /** The most statements of this batcher running at once; calls made meanwhile wait for the next one. */
  maxInFlight: number;
}

/**
 * Concurrent calls of one read answered by one statement (docs/operations.md, "Throughput"): every round
 * trip costs the ledger's process a socket write and a reply to parse, which under load cost more than the
 * statement itself. Nothing waits on purpose: a call made while a slot is free is sent once the current
 * turn of the event loop has queued its neighbours (`setImmediate`); calls made while `maxInFlight`
 * statements are running wait for the first to finish, and go together. Alone, a call costs what it did.
 *
 * For reads whose every answer is valid for a caller from the moment it asked (each statement starts after
 * each of its calls was made, so it sees every commit that preceded them), and for writes whose `run` gives
 * each item its own outcome (the event store's group commit). `run` answers the
 * items in their order; when it throws, every call of that statement fails with its error.
 */
export class StatementBatcher<I, O> {
  private queued: { item: I; resolve: (value: O) => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly run: (items: readonly I[]) => Promise<readonly O[]>,
    private readonly options: BatchingOptions,
  ) {
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1)
      throw new RangeError(`maxBatch must be an integer >= 1, got ${options.maxBatch}`);
    if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1)
      throw new RangeError(`maxInFlight must be an integer >= 1, got ${options.maxInFlight}`);
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queued.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight || this.queued.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.queued.length > 0) {
      const batch = this.queued.splice(0, this.options.maxBatch);
      this.inFlight++;
      void this.send(batch);
    }
  }

  private async send(batch: typeof this.queued): Promise<void> {
    try {
      const answers = await this.run(batch.map((call) => call.item));
      if (answers.length !== batch.length)
        throw new Error(`a batched statement answered ${answers.length} of ${batch.length} calls`);
      batch.forEach((call, i) => call.resolve(answers[i]));
    } catch (error) {
      for (const call of batch) call.reject(error);
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }
}
