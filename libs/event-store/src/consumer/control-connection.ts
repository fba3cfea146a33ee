import type { Notification, PoolClient } from 'pg';
import {
  advisoryUnlock,
  tryAdvisoryLock,
  type AdvisoryLockKey,
  type DatabaseSession,
} from '@ledger/platform';
import type { DataSource, QueryRunner } from 'typeorm';

const projectionLock = (projection: string): AdvisoryLockKey => ({
  namespace: 'ledger.projector',
  name: projection,
});

/**
 * The projector's own session: it holds one advisory lock per projection this instance runs, LISTENs for
 * the append hint, and runs the consumers' batches. When it dies (process gone, connection killed) PostgreSQL ends the session
 * and frees the locks, so another instance takes over; this instance learns it through `lost`.
 */
export class ControlConnection {
  /** Resolves when the session is gone: every lock taken through it is lost. */
  readonly lost: Promise<void>;
  private readonly held = new Set<string>();
  private detach: () => void = () => undefined;
  private closed = false;
  private isAlive = true;
  /** The tail of the transactions queued on this session: they run one at a time. */
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly runner: QueryRunner,
    client: PoolClient,
    channels: readonly string[],
    onHint: (channel: string, payload: string | undefined) => void,
  ) {
    const hint = (notification: Notification) => {
      if (channels.includes(notification.channel)) onHint(notification.channel, notification.payload);
    };
    client.on('notification', hint);
    this.lost = new Promise<void>((resolve) => {
      const end = () => {
        this.isAlive = false;
        resolve();
      };
      client.on('error', end);
      client.on('end', end);
      this.detach = () => {
        client.off('notification', hint);
        client.off('error', end);
        client.off('end', end);
      };
    });
  }

  /**
   * Opens the session and LISTENs on `channels`; `onHint` runs for each notification on them. (The
   * embedded database's server passes notifications to every connection, so this works there too.)
   */
  static async open(
    dataSource: DataSource,
    channels: readonly string[],
    onHint: (channel: string, payload: string | undefined) => void,
  ): Promise<ControlConnection> {
    const runner = dataSource.createQueryRunner();
    try {
      const client = (await runner.connect()) as PoolClient;
      const connection = new ControlConnection(runner, client, channels, onHint);
      for (const channel of channels) await runner.query(`LISTEN ${channel}`);
      return connection;
    } catch (error) {
      await runner.release();
      throw error;
    }
  }

  get alive(): boolean {
    return this.isAlive && !this.closed;
  }

  /**
   * Runs `work` in a transaction on this session, after those queued before it. The consumers' batches run
   * here rather than on the pool: a burst of requests holding every pooled connection cannot starve the
   * projections (and the read-your-writes waits behind them), and a batch commits only on the session
   * that holds the projection's lock.
   */
  async transaction<T>(work: (session: DatabaseSession) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      if (!this.alive) throw new Error('the projector lost its control connection');
      await this.runner.startTransaction();
      try {
        const result = await work(this.runner.manager);
        await this.runner.commitTransaction();
        return result;
      } catch (error) {
        if (this.runner.isTransactionActive) await this.runner.rollbackTransaction().catch(() => undefined);
        throw error;
      }
    });
  }

  /** Takes the projection's lock unless another session holds it. */
  async tryLock(projection: string): Promise<boolean> {
    const locked = await this.exclusive(() => tryAdvisoryLock(this.runner, projectionLock(projection)));
    if (locked) this.held.add(projection);
    return locked;
  }

  /** Gives the projection's lock back, so that another instance may take over at once. */
  async unlock(projection: string): Promise<void> {
    if (!this.held.delete(projection) || !this.alive) return;
    await this.exclusive(() => advisoryUnlock(this.runner, projectionLock(projection)));
  }

  /** Runs `work` after what was queued before it, so that nothing lands inside another's transaction. */
  private async exclusive<T>(work: () => Promise<T>): Promise<T> {
    const previous = this.queue;
    let done: () => void = () => undefined;
    this.queue = new Promise<void>((resolve) => (done = resolve));
    await previous;
    try {
      return await work();
    } finally {
      done();
    }
  }

  /** Releases every lock and the session. Safe on a lost connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.isAlive) {
        for (const projection of [...this.held]) await this.unlock(projection);
        await this.runner.query('UNLISTEN *');
      }
    } finally {
      this.closed = true;
      this.held.clear();
      this.detach();
      await this.runner.release();
    }
  }
}
