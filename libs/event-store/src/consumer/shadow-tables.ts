import {
  advisoryUnlock,
  tryAdvisoryLock,
  type AdvisoryLockKey,
  type Database,
  type DatabaseSession,
} from '@ledger/platform';
import type { DataSource, QueryRunner } from 'typeorm';
import { projectNextBatch, type BatchOutcome, type ProjectionRun } from './project-batch';
import { quoteIdentifier, targetName, type Projection, type ProjectionTarget } from './projection';
import { ProjectorError } from './projector-error';

// What a rebuild and a verification share: a projection's tables folded anew from the origin into shadows,
// beside the live ones, under a checkpoint of their own (docs/event-store.md, "Rebuild").

/** How far a fold into shadows has got: what a rebuild's or a verification's callback receives per batch. */
export interface ProjectionProgress {
  projection: string;
  /** Events read from the origin so far. */
  events: number;
  /** The global position the shadows' checkpoint has reached. */
  position: number;
  /** The newest event's global position after the batch: the goal, which moves on with new appends. */
  headPosition: number;
}

// The embedded database is one backend: its advisory locks never conflict, so this process is the guard.
const guardedInThisProcess = new Set<string>();

const guardKey = (name: string): AdvisoryLockKey => ({ namespace: 'ledger.projector.rebuild', name });

/**
 * Runs `work` while holding the projection's rebuild guard, a session lock on a connection of its own
 * (`work` may take more locks on it): one rebuild or verification of a projection at a time, across
 * instances. A second one is refused with `REBUILD_IN_PROGRESS`.
 */
export async function withRebuildGuard<T>(
  dataSource: DataSource,
  name: string,
  work: (guard: QueryRunner) => Promise<T>,
): Promise<T> {
  if (guardedInThisProcess.has(name)) throw rebuildInProgress(name);
  guardedInThisProcess.add(name);
  const guard = dataSource.createQueryRunner();
  try {
    const lock = guardKey(name);
    if (!(await tryAdvisoryLock(guard, lock))) throw rebuildInProgress(name);
    try {
      return await work(guard);
    } finally {
      // A failed unlock must not hide the work's own outcome; a broken session frees the lock anyway.
      await advisoryUnlock(guard, lock).catch(() => undefined);
    }
  } finally {
    guardedInThisProcess.delete(name);
    await guard.release();
  }
}

function rebuildInProgress(name: string): ProjectorError {
  return new ProjectorError(
    'REBUILD_IN_PROGRESS',
    `projection ${name} is already being rebuilt or verified`,
    { projection: name },
  );
}

/** Fresh, empty shadows of the live tables (`LIKE ... INCLUDING ALL`) and their checkpoint at the origin. */
export async function prepareShadows(
  session: DatabaseSession,
  projection: Projection,
  target: Exclude<ProjectionTarget, 'live'>,
): Promise<void> {
  for (const table of projection.tables) {
    const shadow = quoteIdentifier(targetName(table, target));
    await session.query(`DROP TABLE IF EXISTS ${shadow}`);
    await session.query(`CREATE TABLE ${shadow} (LIKE ${quoteIdentifier(table)} INCLUDING ALL)`);
  }
  const key = targetName(projection.name, target);
  await session.query(
    `INSERT INTO projection_checkpoints (projection) VALUES ($1)
     ON CONFLICT (projection) DO UPDATE SET transaction_id = '0', position = 0, updated_at = now()`,
    [key],
  );
  await session.query(`DELETE FROM parked_events WHERE projection = $1`, [key]);
}

/** Drops the shadows, their checkpoint and their parked events. */
export async function dropShadows(
  session: DatabaseSession,
  projection: Projection,
  target: Exclude<ProjectionTarget, 'live'>,
): Promise<void> {
  for (const table of projection.tables) {
    await session.query(`DROP TABLE IF EXISTS ${quoteIdentifier(targetName(table, target))}`);
  }
  const key = targetName(projection.name, target);
  await session.query(`DELETE FROM projection_checkpoints WHERE projection = $1`, [key]);
  await session.query(`DELETE FROM parked_events WHERE projection = $1`, [key]);
}

/** The newest event's global position; 0 for an empty store. One read of the primary key's end. */
export async function readHeadPosition(session: DatabaseSession): Promise<number> {
  const [head] = await session.query<{ position: string }>(
    `SELECT global_position AS position FROM events ORDER BY global_position DESC LIMIT 1`,
  );
  return head === undefined ? 0 : Number(head.position);
}

/** What folding batches did, in all. */
export interface FoldCount {
  events: number;
  parked: number;
}

/**
 * Folds batch after batch of `run`, each in a transaction of `database` (or on `session`, inside the
 * caller's transaction), until a batch comes back short: caught up, or at `run.until`. Calls `onProgress`
 * after each batch and adds to `count`.
 */
export async function foldUntilCaughtUp(
  on: { database: Database } | { session: DatabaseSession },
  run: ProjectionRun,
  batchSize: number,
  count: FoldCount,
  onProgress?: (progress: ProjectionProgress) => void,
): Promise<BatchOutcome> {
  // The head is read on the batch's own session: on the embedded database a second connection would wait
  // for the caller's open transaction.
  const batch = async (session: DatabaseSession) => ({
    outcome: await projectNextBatch(session, run, batchSize),
    headPosition: onProgress === undefined ? 0 : await readHeadPosition(session),
  });
  let outcome: BatchOutcome;
  do {
    const done = 'database' in on ? await on.database.transaction(batch) : await batch(on.session);
    outcome = done.outcome;
    count.events += outcome.read;
    count.parked += outcome.parked;
    onProgress?.({
      projection: run.projection.name,
      events: count.events,
      position: outcome.checkpoint.position,
      headPosition: done.headPosition,
    });
  } while (outcome.read === batchSize);
  return outcome;
}
