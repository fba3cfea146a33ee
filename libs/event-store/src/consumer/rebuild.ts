import {
  advisoryLock,
  advisoryUnlock,
  type AdvisoryLockKey,
  type Database,
  type DatabaseSession,
} from '@ledger/platform';
import type { DataSource } from 'typeorm';
import type { GlobalCheckpoint } from '../event-envelope';
import type { UpcasterChain } from '../upcasting';
import { ensureCheckpoint, lockCheckpoint } from './checkpoint';
import type { ProjectionRun } from './project-batch';
import { quoteIdentifier, tableResolver, targetName, type Projection } from './projection';
import {
  foldUntilCaughtUp,
  prepareShadows,
  readHeadPosition,
  withRebuildGuard,
  type FoldCount,
  type ProjectionProgress,
} from './shadow-tables';

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
  /**
   * Called once the rebuild holds its guard and its shadows are ready: from then on `readRebuildStatus`
   * shows it running, and a second rebuild is refused. Not called when the rebuild is refused.
   */
  onStarted?: () => void;
  /** Called after each committed batch, the swap's included: events read, position reached, the head. */
  onProgress?: (progress: ProjectionProgress) => void;
}

/** A rebuild as the database shows it, to any instance: the shadows' checkpoint against the head. */
export interface RebuildStatus {
  projection: string;
  /** An instance is rebuilding now; false: shadows that a stopped or crashed rebuild left behind. */
  running: boolean;
  /** The global position the shadows' checkpoint has reached. */
  position: number;
  /** The newest event's global position. */
  headPosition: number;
  /** When the shadows' checkpoint last moved. */
  updatedAt: Date;
}

// Held by a rebuild (not by a verification, which takes the guard too) for as long as it runs, so that
// another instance can tell a running rebuild from shadows left behind.
const runningKey = (name: string): AdvisoryLockKey => ({ namespace: 'ledger.projector.rebuilding', name });

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
  return withRebuildGuard(dataSource, projection.name, async (guard) => {
    const running = runningKey(projection.name);
    await advisoryLock(guard, running);
    try {
      return await rebuildHoldingGuard(dataSource, projection, options);
    } finally {
      await advisoryUnlock(guard, running).catch(() => undefined);
    }
  });
}

async function rebuildHoldingGuard(
  database: Database,
  projection: Projection,
  { batchSize, upcasters, onStarted, onProgress }: RebuildOptions,
): Promise<RebuildOutcome> {
  const run: ProjectionRun = {
    projection,
    key: targetName(projection.name, 'rebuild'),
    table: tableResolver(projection, 'rebuild'),
    upcasters,
  };
  await ensureCheckpoint(database, projection.name);
  await database.transaction((session) => prepareShadows(session, projection, 'rebuild'));
  onStarted?.();

  const count: FoldCount = { events: 0, parked: 0 };
  // The bulk of the work, each batch its own transaction: the live projection is not held up.
  await foldUntilCaughtUp({ database }, run, batchSize, count, onProgress);

  const checkpoint = await database.transaction(async (session) => {
    await lockCheckpoint(session, projection.name);
    const last = await foldUntilCaughtUp({ session }, run, batchSize, count, onProgress);
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
  return { projection: projection.name, events: count.events, parked: count.parked, checkpoint };
}

/**
 * The rebuild of `projection` as the database holds it, from any instance: undefined when it has no
 * shadows (none ran, or the last one was swapped in). Whether one is running is read from the session lock
 * a rebuild holds (`pg_locks`), so a crashed rebuild's shadows show as not running.
 */
export async function readRebuildStatus(
  session: DatabaseSession,
  projection: string,
): Promise<RebuildStatus | undefined> {
  const key = runningKey(projection);
  const [row] = await session.query<{ position: string; updated_at: Date; running: boolean }>(
    `SELECT position, updated_at,
            EXISTS (SELECT 1 FROM pg_locks
                    WHERE locktype = 'advisory' AND granted AND objsubid = 2
                      AND classid = (hashtext($2)::bigint & 4294967295)::oid
                      AND objid = (hashtext($3)::bigint & 4294967295)::oid) AS running
     FROM projection_checkpoints WHERE projection = $1`,
    [targetName(projection, 'rebuild'), key.namespace, key.name],
  );
  if (row === undefined) return undefined;
  return {
    projection,
    running: row.running,
    position: Number(row.position),
    headPosition: await readHeadPosition(session),
    updatedAt: new Date(row.updated_at),
  };
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
    const shadow = targetName(table, 'rebuild');
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
