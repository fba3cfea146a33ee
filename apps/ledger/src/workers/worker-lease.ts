import type { PoolClient } from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';

// Apart from the projector's locks (`ledger.projector`, projection) and the migration runner's one-key lock.
const LOCK = `hashtext('ledger.worker'), hashtext($1)`;

/**
 * One instance at a time runs a worker: the holder of a session-level advisory lock on its own connection.
 * When the holder's process dies, PostgreSQL ends its session and frees the lock, and another instance takes
 * over. (The embedded database needs none: one process at a time opens its data directory.)
 */
export class WorkerLease {
  private runner?: QueryRunner;
  private lost = false;
  private detach: () => void = () => undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly name: string,
  ) {}

  /** Whether this instance holds the lease now; tries to take it when it does not. */
  async acquire(): Promise<boolean> {
    if (this.runner !== undefined && !this.lost) return true;
    await this.release();
    const runner = this.dataSource.createQueryRunner();
    try {
      const client = (await runner.connect()) as PoolClient;
      const [{ locked }] = (await runner.query(`SELECT pg_try_advisory_lock(${LOCK}) AS locked`, [
        this.name,
      ])) as { locked: boolean }[];
      if (!locked) {
        await runner.release();
        return false;
      }
      this.lost = false;
      const end = () => {
        this.lost = true;
      };
      client.on('error', end);
      client.on('end', end);
      this.detach = () => {
        client.off('error', end);
        client.off('end', end);
      };
      this.runner = runner;
      return true;
    } catch (error) {
      await runner.release().catch(() => undefined);
      throw error;
    }
  }

  /** Gives the lease back (at once, for another instance) and the connection to the pool. */
  async release(): Promise<void> {
    const runner = this.runner;
    this.runner = undefined;
    if (runner === undefined) return;
    this.detach();
    try {
      if (!this.lost) await runner.query(`SELECT pg_advisory_unlock(${LOCK})`, [this.name]);
    } finally {
      await runner.release().catch(() => undefined);
    }
  }
}
