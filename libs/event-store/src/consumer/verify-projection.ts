import type { Database, DatabaseSession } from '@ledger/platform';
import type { DataSource } from 'typeorm';
import type { GlobalCheckpoint } from '../event-envelope';
import type { UpcasterChain } from '../upcasting';
import { ensureCheckpoint, readCheckpoint } from './checkpoint';
import type { ProjectionRun } from './project-batch';
import { quoteIdentifier, tableResolver, targetName, type Projection } from './projection';
import {
  dropShadows,
  foldUntilCaughtUp,
  prepareShadows,
  withRebuildGuard,
  type FoldCount,
  type ProjectionProgress,
} from './shadow-tables';

/** One row on which a live table and the fresh fold disagree. */
export interface RowDifference {
  /** The row's primary key, column by column. */
  key: Record<string, unknown>;
  /** `missing`: the fold has the row and the live table not; `extra`: the reverse; `different`: both do. */
  kind: 'missing' | 'extra' | 'different';
  /** For `different`: each column whose values differ, both values (long ones cut). */
  columns: { column: string; live: unknown; fresh: unknown }[];
}

/** One table of a projection against its fresh fold. */
export interface TableVerification {
  table: string;
  /** Rows of the live table. */
  rows: number;
  missing: number;
  extra: number;
  different: number;
  /** The first differences in key order, at most `MAX_DIFFERENCE_SAMPLES`. */
  samples: RowDifference[];
}

/** A projection against a fresh fold of the event store up to the same checkpoint. */
export interface ProjectionVerification {
  projection: string;
  /** Where both stood when compared: the live checkpoint. */
  checkpoint: GlobalCheckpoint;
  /** Events the fold read. */
  events: number;
  tables: TableVerification[];
  /** Parked events: the live projection's and the fold's, and the positions only one of them parked. */
  parked: { live: number; fresh: number; onlyLive: number[]; onlyFresh: number[] };
  /** No row and no parked event differs. */
  equal: boolean;
}

export interface VerifyOptions {
  batchSize: number;
  upcasters: UpcasterChain;
  onProgress?: (progress: ProjectionProgress) => void;
}

/** Differences listed per table; the counts cover them all. */
export const MAX_DIFFERENCE_SAMPLES = 20;
/** A value longer than this (as JSON) is shown cut: a folded order state is large. */
const MAX_SHOWN_VALUE = 300;

/**
 * Checks that the live projection is what its events make of it: folds them anew from the origin into
 * shadows (`<table>__verify`) up to the live checkpoint, compares every row, and drops the shadows. The
 * live projection is never written, nor held up: the last batches and the comparison run in one
 * repeatable-read transaction, whose snapshot holds the live rows and their checkpoint as they committed
 * together. Takes the rebuild guard: a rebuild's swap cannot replace the tables being compared.
 */
export async function verifyProjection(
  dataSource: DataSource,
  projection: Projection,
  options: VerifyOptions,
): Promise<ProjectionVerification> {
  return withRebuildGuard(dataSource, projection.name, async () => {
    try {
      return await verifyHoldingGuard(dataSource, projection, options);
    } finally {
      await dataSource.transaction((session) => dropShadows(session, projection, 'verify'));
    }
  });
}

async function verifyHoldingGuard(
  database: Database,
  projection: Projection,
  { batchSize, upcasters, onProgress }: VerifyOptions,
): Promise<ProjectionVerification> {
  await ensureCheckpoint(database, projection.name);
  await database.transaction((session) => prepareShadows(session, projection, 'verify'));
  const run = (until: GlobalCheckpoint): ProjectionRun => ({
    projection,
    key: targetName(projection.name, 'verify'),
    table: tableResolver(projection, 'verify'),
    upcasters,
    until,
  });
  const count: FoldCount = { events: 0, parked: 0 };
  // Most of the fold, batch by batch, up to where the live projection stood when it began.
  await foldUntilCaughtUp(
    { database },
    run(await readCheckpoint(database, projection.name)),
    batchSize,
    count,
    onProgress,
  );
  return database.transaction(async (session) => {
    await session.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    const checkpoint = await readCheckpoint(session, projection.name);
    await foldUntilCaughtUp({ session }, run(checkpoint), batchSize, count, onProgress);
    const tables: TableVerification[] = [];
    for (const table of projection.tables) tables.push(await compareTable(session, table));
    const parked = await compareParked(session, projection.name);
    const equal =
      tables.every((t) => t.missing + t.extra + t.different === 0) &&
      parked.onlyLive.length + parked.onlyFresh.length === 0;
    return { projection: projection.name, checkpoint, events: count.events, tables, parked, equal };
  });
}

async function primaryKeyOf(session: DatabaseSession, table: string): Promise<string[]> {
  const rows = await session.query<{ column: string }>(
    `SELECT a.attname AS column
     FROM pg_index x JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = ANY(x.indkey)
     WHERE x.indrelid = to_regclass($1) AND x.indisprimary
     ORDER BY array_position(x.indkey::int2[], a.attnum)`,
    [quoteIdentifier(table)],
  );
  return rows.map((row) => row.column);
}

interface DifferenceRow {
  live: Record<string, unknown> | null;
  fresh: Record<string, unknown> | null;
  missing: string;
  extra: string;
  different: string;
  rows: string;
}

/**
 * Rows of the live table and of the fold compared as whole JSON values (`EXCEPT ALL` both ways), then
 * paired by primary key: a key on both sides is a row that differs, on one side a row missing or extra.
 */
async function compareTable(session: DatabaseSession, table: string): Promise<TableVerification> {
  const key = await primaryKeyOf(session, table);
  // Without a primary key a row is its own key: it can only be missing or extra.
  const keyOf = (alias: string) =>
    key.length === 0
      ? `${alias}.row`
      : `jsonb_build_array(${key.map((c, i) => `${alias}.row -> $${i + 1}::text`).join(', ')})`;
  const live = quoteIdentifier(table);
  const fresh = quoteIdentifier(targetName(table, 'verify'));
  const rows = await session.query<DifferenceRow>(
    `WITH only_live AS (SELECT to_jsonb(t) AS row FROM ${live} t EXCEPT ALL SELECT to_jsonb(f) FROM ${fresh} f),
          only_fresh AS (SELECT to_jsonb(f) AS row FROM ${fresh} f EXCEPT ALL SELECT to_jsonb(t) FROM ${live} t),
          paired AS (
            SELECT COALESCE(l.key, f.key) AS key, l.row AS live, f.row AS fresh
            FROM (SELECT ${keyOf('o')} AS key, o.row FROM only_live o) l
            FULL JOIN (SELECT ${keyOf('o')} AS key, o.row FROM only_fresh o) f ON l.key = f.key)
     SELECT live, fresh,
            count(*) FILTER (WHERE live IS NULL) OVER () AS missing,
            count(*) FILTER (WHERE fresh IS NULL) OVER () AS extra,
            count(*) FILTER (WHERE live IS NOT NULL AND fresh IS NOT NULL) OVER () AS different,
            (SELECT count(*) FROM ${live}) AS rows
     FROM paired ORDER BY key LIMIT ${MAX_DIFFERENCE_SAMPLES}`,
    key,
  );
  const [first] = rows;
  const liveRows =
    first === undefined
      ? Number((await session.query<{ rows: string }>(`SELECT count(*) AS rows FROM ${live}`))[0].rows)
      : Number(first.rows);
  return {
    table,
    rows: liveRows,
    missing: Number(first?.missing ?? 0),
    extra: Number(first?.extra ?? 0),
    different: Number(first?.different ?? 0),
    samples: rows.map((row) => difference(row, key)),
  };
}

function shown(value: unknown): unknown {
  const text = JSON.stringify(value) ?? 'null';
  return text.length <= MAX_SHOWN_VALUE ? value : `${text.slice(0, MAX_SHOWN_VALUE - 1)}…`;
}

function difference(row: DifferenceRow, key: string[]): RowDifference {
  const side = (row.live ?? row.fresh)!;
  const keyValues = Object.fromEntries(
    (key.length === 0 ? Object.keys(side) : key).map((column) => [column, shown(side[column])]),
  );
  if (row.live === null) return { key: keyValues, kind: 'missing', columns: [] };
  if (row.fresh === null) return { key: keyValues, kind: 'extra', columns: [] };
  const { live, fresh } = row;
  const columns = [...new Set([...Object.keys(live), ...Object.keys(fresh)])]
    .filter((column) => JSON.stringify(live[column]) !== JSON.stringify(fresh[column]))
    .map((column) => ({ column, live: shown(live[column]), fresh: shown(fresh[column]) }));
  return { key: keyValues, kind: 'different', columns };
}

async function compareParked(
  session: DatabaseSession,
  projection: string,
): Promise<ProjectionVerification['parked']> {
  const rows = await session.query<{ projection: string; global_position: string }>(
    `SELECT projection, global_position FROM parked_events WHERE projection = ANY($1::text[])
     ORDER BY global_position`,
    [[projection, targetName(projection, 'verify')]],
  );
  const live = new Set(rows.filter((r) => r.projection === projection).map((r) => Number(r.global_position)));
  const fresh = new Set(
    rows.filter((r) => r.projection !== projection).map((r) => Number(r.global_position)),
  );
  return {
    live: live.size,
    fresh: fresh.size,
    onlyLive: [...live].filter((p) => !fresh.has(p)).slice(0, MAX_DIFFERENCE_SAMPLES),
    onlyFresh: [...fresh].filter((p) => !live.has(p)).slice(0, MAX_DIFFERENCE_SAMPLES),
  };
}
