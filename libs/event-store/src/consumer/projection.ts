import type { DatabaseSession } from '@ledger/platform';
import type { RecordedEvent } from '../event-envelope';
import { ProjectorError } from './projector-error';

/** What `apply` is handed with each batch. */
export interface ProjectionContext<Table extends string = string> {
  /** The batch's transaction: the projection's rows commit with the checkpoint, or not at all. */
  session: DatabaseSession;
  /**
   * The quoted SQL identifier to write `table` to: the live table, or its shadow while the projection is
   * being rebuilt or verified. Projections never spell their own table names in SQL, so one `apply` serves
   * all of them.
   */
  readonly table: (table: Table) => string;
}

/**
 * A read model fed by the checkpointed projector. `apply` receives events in global
 * order, several at a time: load the affected rows once, evolve them in memory, write them back in bulk.
 * It runs inside the transaction that moves the checkpoint, so each event is applied exactly once.
 */
export interface Projection<Table extends string = string> {
  /** Unique; names the checkpoint, the advisory lock and the parked events. `[a-z][a-z0-9_]*`. */
  name: string;
  /** Event types it applies; the others are skipped (the checkpoint still moves past them). All if absent. */
  handles?: readonly string[];
  /** The tables it owns and writes through `context.table(...)`; a rebuild builds shadows of exactly these. */
  tables: readonly Table[];
  /**
   * No reader waits on it (no read-your-writes): while its process is busy with requests someone waits on
   * (`ProjectorOptions.busy`), it takes at most one batch every `backgroundIntervalMs`, and catches up after.
   */
  background?: boolean;
  /**
   * Applies `events` (at least one, in global order, each stream in version order). Throwing rolls the
   * batch back; the projector then applies its events one at a time and parks the streams of those that
   * still fail.
   */
  apply(events: readonly RecordedEvent[], context: ProjectionContext<Table>): Promise<void>;
}

/** Appended to a projection's name for its rebuild's checkpoint and parked events, and to table names. */
export const REBUILD_SUFFIX = '__rebuild';

/** The same for a verification's fresh fold, which is compared with the live tables and then dropped. */
export const VERIFY_SUFFIX = '__verify';

/** The tables a run of a projection writes: the live ones, a rebuild's shadows or a verification's. */
export type ProjectionTarget = 'live' | 'rebuild' | 'verify';

const SUFFIXES: Readonly<Record<ProjectionTarget, string>> = {
  live: '',
  rebuild: REBUILD_SUFFIX,
  verify: VERIFY_SUFFIX,
};

/** The name of `table` (or of a projection's checkpoint) for `target`. */
export function targetName(name: string, target: ProjectionTarget): string {
  return `${name}${SUFFIXES[target]}`;
}

const NAME = /^[a-z][a-z0-9_]*$/;
// PostgreSQL truncates identifiers at 63 bytes; the shadows need room for their suffix.
const MAX_TABLE_NAME_LENGTH = 63 - Math.max(REBUILD_SUFFIX.length, VERIFY_SUFFIX.length);
const reservedSuffix = (name: string) => name.endsWith(REBUILD_SUFFIX) || name.endsWith(VERIFY_SUFFIX);

/** Quotes an SQL identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Refuses a projection that could not be checkpointed, locked or rebuilt safely, before it runs. */
export function checkProjection(projection: Projection): void {
  const refuse = (problem: string) =>
    new ProjectorError('INVALID_PROJECTION', `projection ${JSON.stringify(projection.name)} ${problem}`, {
      projection: projection.name,
    });
  if (!NAME.test(projection.name) || reservedSuffix(projection.name)) {
    throw refuse(`must be named [a-z][a-z0-9_]* and not end with ${REBUILD_SUFFIX} or ${VERIFY_SUFFIX}`);
  }
  if (projection.handles !== undefined && projection.handles.length === 0) {
    throw refuse('handles no event type; leave `handles` out to receive every type');
  }
  for (const table of projection.tables) {
    if (!NAME.test(table) || table.length > MAX_TABLE_NAME_LENGTH || reservedSuffix(table)) {
      throw refuse(
        `owns table ${JSON.stringify(table)}: table names are [a-z][a-z0-9_]*, at most ` +
          `${MAX_TABLE_NAME_LENGTH} characters, and do not end with ${REBUILD_SUFFIX} or ${VERIFY_SUFFIX}`,
      );
    }
  }
  if (new Set(projection.tables).size !== projection.tables.length) {
    throw refuse('lists a table twice');
  }
}

/** Resolves the projection's tables to the live ones or to their shadows of a rebuild or a verification. */
export function tableResolver<Table extends string>(
  projection: Projection<Table>,
  target: ProjectionTarget,
): (table: Table) => string {
  const owned = new Set<string>(projection.tables);
  return (table) => {
    if (!owned.has(table)) {
      throw new ProjectorError(
        'INVALID_PROJECTION',
        `projection ${projection.name} wrote to ${JSON.stringify(table)}, which is not in its tables`,
        { projection: projection.name },
      );
    }
    return quoteIdentifier(targetName(table, target));
  };
}
