import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';

/** The rows of `worker_leases`; every expiry is computed by the database's clock, never this process's. */
export class LeaseTable {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Takes the lease for a new tenure when it is free (expired, or left by this holder): the token grows.
   * Resolves with the tenure's token, or undefined while another holder's lease runs.
   */
  async take(worker: string, holder: string, ttlMs: number): Promise<number | undefined> {
    const rows = await this.dataSource.query<{ token: string }[]>(
      `INSERT INTO worker_leases AS lease (worker, holder, token, expires_at)
       VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
       ON CONFLICT (worker) DO UPDATE
         SET holder = excluded.holder, token = lease.token + 1, expires_at = excluded.expires_at
         WHERE lease.expires_at <= now() OR lease.holder = excluded.holder
       RETURNING token`,
      [worker, holder, ttlMs],
    );
    return rows.length === 0 ? undefined : Number(rows[0].token);
  }

  /** Extends the tenure `token` while it has not expired; false when it has (taken over, or about to be). */
  async renew(worker: string, holder: string, token: number, ttlMs: number): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `UPDATE worker_leases SET expires_at = now() + $4 * interval '1 millisecond'
       WHERE worker = $1 AND holder = $2 AND token = $3 AND expires_at > now()
       RETURNING token`,
      [worker, holder, token, ttlMs],
    );
    return rows.length > 0;
  }

  /** Ends the tenure at once, for another instance; the row stays, so that the next token is larger. */
  async give(worker: string, holder: string, token: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE worker_leases SET expires_at = now() WHERE worker = $1 AND holder = $2 AND token = $3`,
      [worker, holder, token],
    );
  }
}

export interface LeaseTiming {
  /** How long a tenure lasts without renewal, by the database's clock. */
  ttlMs: number;
  /**
   * Taken off the local validity: covers the drift between this process's clock and the database's. The
   * lease is renewed every ttl/3, so a renewal may fail twice before the local validity lapses.
   */
  marginMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = { ttlMs: 30_000, marginMs: 5_000 };

/** A monotonic clock in milliseconds; `performance.now` unless a test drives it. */
export type MonotonicClock = () => number;

/**
 * One instance at a time runs a worker: the holder of its row in `worker_leases` (docs/operations.md,
 * "Liveness under faults"). No connection is pinned. The holder believes it holds the lease only until the
 * local time at which its last successful renewal was SENT, plus the ttl, minus the margin; the database
 * lets another instance take it only after `expires_at`, which it set later than that send. So an instance
 * paused longer than its validity (SIGSTOP, a long GC, a frozen VM) finds on resuming that its tenure has
 * lapsed before it acts again, and a lapsed tenure never comes back: the next one is taken anew, with a
 * larger fencing token.
 */
export class WorkerLease {
  readonly holder = randomUUID();
  private tenure?: { token: number; validUntil: number; lapsed: AbortController };
  private renewer?: NodeJS.Timeout;
  /** Fires the tenure's signal when its validity runs out, even if no renewal or check comes first. */
  private expiry?: NodeJS.Timeout;

  constructor(
    private readonly table: Pick<LeaseTable, 'take' | 'renew' | 'give'>,
    private readonly worker: string,
    private readonly timing: LeaseTiming = DEFAULT_LEASE_TIMING,
    private readonly clock: MonotonicClock = () => performance.now(),
  ) {}

  /** Whether the current tenure is still valid by the local clock; false once it has lapsed. */
  holding(): boolean {
    const { tenure } = this;
    if (tenure === undefined || tenure.lapsed.signal.aborted) return false;
    if (this.clock() < tenure.validUntil) return true;
    this.lapse();
    return false;
  }

  /** The fencing token of the current tenure, if one is valid. */
  get token(): number | undefined {
    return this.holding() ? this.tenure?.token : undefined;
  }

  /** Aborts when the current tenure lapses (or is given back): for the calls made under it. */
  get signal(): AbortSignal {
    return this.tenure?.lapsed.signal ?? AbortSignal.abort();
  }

  /** Holds the lease: keeps a valid tenure, or tries to take a new one. Resolves whether it is held. */
  async acquire(): Promise<boolean> {
    if (this.holding()) return true;
    const sent = this.clock();
    const token = await this.table.take(this.worker, this.holder, this.timing.ttlMs);
    if (token === undefined) return false;
    const tenure = { token, validUntil: this.validUntil(sent), lapsed: new AbortController() };
    this.tenure = tenure;
    this.scheduleRenewal(tenure);
    this.scheduleExpiry(tenure);
    // The answer may come back after the validity it grants (a pause during the round trip).
    return this.holding();
  }

  /** Renews the tenure now: what the timer does every ttl/3. Resolves whether it is still held. */
  async renew(): Promise<boolean> {
    const tenure = this.tenure;
    if (tenure === undefined || !this.holding()) return false;
    const sent = this.clock();
    let renewed: boolean;
    try {
      renewed = await this.table.renew(this.worker, this.holder, tenure.token, this.timing.ttlMs);
    } catch {
      // The database is away: the tenure runs on until its validity lapses, and the timer tries again.
      return this.holding();
    }
    if (tenure !== this.tenure || tenure.lapsed.signal.aborted) return false;
    if (!renewed) {
      this.lapse();
      return false;
    }
    tenure.validUntil = Math.max(tenure.validUntil, this.validUntil(sent));
    this.scheduleExpiry(tenure);
    return this.holding();
  }

  /** Gives the lease back for another instance at once; safe when not held or the database is away. */
  async release(): Promise<void> {
    const tenure = this.tenure;
    const valid = this.holding();
    this.lapse();
    if (tenure !== undefined && valid) {
      await this.table.give(this.worker, this.holder, tenure.token).catch(() => undefined);
    }
  }

  private validUntil(sent: number): number {
    return sent + this.timing.ttlMs - this.timing.marginMs;
  }

  private scheduleRenewal(tenure: NonNullable<WorkerLease['tenure']>): void {
    clearTimeout(this.renewer);
    this.renewer = setTimeout(() => {
      void this.renew().then((held) => {
        if (held && this.tenure === tenure) this.scheduleRenewal(tenure);
      });
    }, this.timing.ttlMs / 3);
    this.renewer.unref();
  }

  private scheduleExpiry(tenure: NonNullable<WorkerLease['tenure']>): void {
    clearTimeout(this.expiry);
    this.expiry = setTimeout(() => this.holding(), Math.max(0, tenure.validUntil - this.clock()));
    this.expiry.unref();
  }

  private lapse(): void {
    clearTimeout(this.renewer);
    clearTimeout(this.expiry);
    this.renewer = undefined;
    this.expiry = undefined;
    this.tenure?.lapsed.abort(new Error(`the lease of ${this.worker} lapsed`));
  }
}
