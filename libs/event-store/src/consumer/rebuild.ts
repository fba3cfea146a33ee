import {
  advisoryUnlock,
  tryAdvisoryLock,
  type AdvisoryLockKey,
  type Database,
  type DatabaseSession,
} from '@ledger/platform';
import type { DataSource } from 'typeorm';
import type { GlobalCheckpoint } from '../event-envelope';
import type { UpcasterChain } from '../upcasting';
import { ensureCheckpoint, lockCheckpoint } from './checkpoint';
import { projectNextBatch, type BatchOutcome, type ProjectionRun } from './project-batch';
import { quoteIdentifier, REBUILD_SUFFIX, tableResolver, type Projection } from './projection';
import { ProjectorError } from './projector-error';

/** What a rebuild did. */
export interface RebuildOutcome {
  projection: string;
  /** Events read from the origin to the swap. */
  events: number;
  /** Events the rebuilt projection parked; they replaced the live projection's parked events. */
  parked: number;
  /** The live checkpoint after the swap. */
  checkpoint: GlobalCheckpoint;
}

export interface RebuildOptions {
  batchSize: number;
  upcasters: UpcasterChain;
  /** Called after each committed batch of the catch-up, for progress logs. */
  onBatch?: (outcome: BatchOutcome) => void;
}

// The embedded database is one backend: its advisory locks never conflict, so this process is the guard.
const rebuildsInThisProcess = new Set<string>();

/**
 * Rebuilds `projection` from the origin into shadow tables (`<table>__rebuild`, created LIKE the live ones)
 * while the live projection keeps serving and projecting, then swaps them in (build anew,
 * then swap). The swap is one transaction: it locks the live checkpoint (the live consumer waits on it),
 * projects the last events into the shadows, replaces the live tables, carries the shadows' checkpoint and
 * parked events over. Until that commits the live tables are untouched, so a crash at any point leaves
 * the live projection as it was; the next rebuild starts again from the origin.
 *
 * It takes TypeORM's `DataSource` rather than the `Database` port for one thing: the guard against a
 * second rebuild is a session lock held across all those transactions, so it needs a connection of its own.
 */
export async function rebuildProjection(
  dataSource: DataSource,
  projection: Projection,
  options: RebuildOptions,
): Promise<RebuildOutcome> {
  const { name } = projection;
  if (rebuildsInThisProcess.has(name)) throw rebuildInProgress(name);
  rebuildsInThisProcess.add(name);
  const guard = dataSource.createQueryRunner();
  try {
    const lock: AdvisoryLockKey = { namespace: 'ledger.projector.rebuild', name };
    if (!(await tryAdvisoryLock(guard, lock))) throw rebuildInProgress(name);
    try {
      return await rebuildHoldingGuard(dataSource, projection, options);
    } finally {
      // A failed unlock must not hide the rebuild's own outcome; a broken session frees the lock anyway.
      await advisoryUnlock(guard, lock).catch(() => undefined);
    }
  } finally {
    rebuildsInThisProcess.delete(name);
    await guard.release();
  }
}

function rebuildInProgress(name: string): ProjectorError {
  return new ProjectorError('REBUILD_IN_PROGRESS', `projection ${name} is already being rebuilt`, {
    projection: name,
  });
}

async function rebuildHoldingGuard(
  database: Database,
  projection: Projection,
  { batchSize, upcasters, onBatch }: RebuildOptions,
): Promise<RebuildOutcome> {
  const run: ProjectionRun = {
    projection,
    key: `${projection.name}${REBUILD_SUFFIX}`,
    table: tableResolver(projection, 'shadow'),
    upcasters,
  };
  await ensureCheckpoint(database, projection.name);
  await database.transaction((session) => prepareShadow(session, projection, run.key));

  let events = 0;
  let parked = 0;
  const count = (outcome: BatchOutcome) => {
    events += outcome.read;
    parked += outcome.parked;
    onBatch?.(outcome);
    return outcome;
  };
  // The bulk of the work, each batch its own transaction: the live projection is not held up.
  let outcome: BatchOutcome;
  do outcome = count(await database.transaction((session) => projectNextBatch(session, run, batchSize)));
  while (outcome.read === batchSize);

  const checkpoint = await database.transaction(async (session) => {
    await lockCheckpoint(session, projection.name);
    let last: BatchOutcome;
    do last = count(await projectNextBatch(session, run, batchSize));
    while (last.read === batchSize);
    await swapTables(session, projection);
    await session.query(
      `UPDATE projection_checkpoints AS live
       SET transaction_id = shadow.transaction_id, position = shadow.position, updated_at = now()
       FROM projection_checkpoints AS shadow
       WHERE live.projection = $1 AND shadow.projection = $2`,
      [projection.name, run.key],
    );
    await session.query(`DELETE FROM projection_checkpoints WHERE projection = $1`, [run.key]);
    await session.query(`DELETE FROM parked_events WHERE projection = $1`, [projection.name]);
    await session.query(`UPDATE parked_events SET projection = $1 WHERE projection = $2`, [
      projection.name,
      run.key,
    ]);
    return last.checkpoint;
  });
  return { projection: projection.name, events, parked, checkpoint };
}

/** Fresh, empty shadows of the live tables and a shadow checkpoint at the origin. */
async function prepareShadow(session: DatabaseSession, projection: Projection, key: string): Promise<void> {
  for (const table of projection.tables) {
    const shadow = quoteIdentifier(`${table}${REBUILD_SUFFIX}`);
    await session.query(`DROP TABLE IF EXISTS ${shadow}`);
    await session.query(`CREATE TABLE ${shadow} (LIKE ${quoteIdentifier(table)} INCLUDING ALL)`);
  }
  await session.query(
    `INSERT INTO projection_checkpoints (projection) VALUES ($1)
     ON CONFLICT (projection) DO UPDATE SET transaction_id = '0', position = 0, updated_at = now()`,
    [key],
  );
  await session.query(`DELETE FROM parked_events WHERE projection = $1`, [key]);
}

interface IndexRow {
  name: string;
  definition: string;
}

// "CREATE [UNIQUE] INDEX <name> ON [ONLY] <schema.table> USING ..." without the two names.
const indexShape = (definition: string) =>
  definition.replace(/^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?\S+ /, 'CREATE $1INDEX ON ');

async function indexesOf(session: DatabaseSession, table: string): Promise<IndexRow[]> {
  return await session.query<IndexRow>(
    `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
     WHERE x.indrelid = to_regclass($1) ORDER BY i.relname`,
    [quoteIdentifier(table)],
  );
}

/**
 * Replaces each live table by its shadow and gives the shadow's indexes (and the constraints they back)
 * the live names, so that later migrations find the names they created. A view or foreign key depending
 * on a live table makes the DROP fail and the whole swap roll back: projections own their tables alone.
 */
async function swapTables(session: DatabaseSession, projection: Projection): Promise<void> {
  for (const table of projection.tables) {
    const shadow = `${table}${REBUILD_SUFFIX}`;
    const liveIndexes = await indexesOf(session, table);
    const shadowIndexes = await indexesOf(session, shadow);
    await session.query(`DROP TABLE ${quoteIdentifier(table)}`);
    await session.query(`ALTER TABLE ${quoteIdentifier(shadow)} RENAME TO ${quoteIdentifier(table)}`);
    const unclaimed = [...shadowIndexes];
    for (const live of liveIndexes) {
      const match = unclaimed.findIndex(
        (index) => indexShape(index.definition) === indexShape(live.definition),
      );
      if (match === -1) continue;
      const [index] = unclaimed.splice(match, 1);
      if (index.name !== live.name) {
        await session.query(
          `ALTER INDEX ${quoteIdentifier(index.name)} RENAME TO ${quoteIdentifier(live.name)}`,
        );
      }
    }
  }
}
