/**
 * A session-level advisory lock, named by two keys: `hashtext(namespace), hashtext(name)` (the two-int4
 * form, apart from every one-key lock). It belongs to the session that took it: take it on a dedicated
 * connection (a query runner, the projector's control connection), never on the pool, and it is freed with
 * that session if the process dies.
 */
export interface AdvisoryLockKey {
  /** The subsystem, e.g. `ledger.projector`. */
  namespace: string;
  /** The thing locked within it, e.g. a projection's name. */
  name: string;
}

/** The session that holds the lock: a TypeORM QueryRunner, or anything that runs SQL on one connection. */
export interface AdvisoryLockSession {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

const KEY = 'hashtext($1), hashtext($2)';

function keyParameters({ namespace, name }: AdvisoryLockKey): string[] {
  return [namespace, name];
}

/** Takes the lock unless another session holds it; resolves whether it was taken. */
export async function tryAdvisoryLock(session: AdvisoryLockSession, key: AdvisoryLockKey): Promise<boolean> {
  const rows = (await session.query(`SELECT pg_try_advisory_lock(${KEY}) AS locked`, keyParameters(key))) as {
    locked: boolean;
  }[];
  return rows[0].locked;
}

/** Waits for the lock (bounded by the session's lock_timeout, if any). */
export async function advisoryLock(session: AdvisoryLockSession, key: AdvisoryLockKey): Promise<void> {
  await session.query(`SELECT pg_advisory_lock(${KEY})`, keyParameters(key));
}

/** Gives the lock back; resolves false when this session did not hold it. */
export async function advisoryUnlock(session: AdvisoryLockSession, key: AdvisoryLockKey): Promise<boolean> {
  const rows = (await session.query(`SELECT pg_advisory_unlock(${KEY}) AS unlocked`, keyParameters(key))) as {
    unlocked: boolean;
  }[];
  return rows[0].unlocked;
}
