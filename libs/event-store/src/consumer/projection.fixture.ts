import type { DatabaseSession } from '@ledger/platform';
import type { QueryRunner } from 'typeorm';
import type { RecordedEvent } from '../event-envelope';
import type { Projection } from './projection';

/**
 * A projection for the consumer tests: one row per stream, batch-applied the way real projections are
 * (load the rows, evolve them in memory, write them back in one statement). It records order violations
 * instead of hiding them: `out_of_order` counts versions that did not follow the last one applied, and
 * `events` equals the stream's version only if every event was applied exactly once.
 */
export interface SummaryRow {
  stream_id: string;
  events: number;
  last_version: number;
  last_position: string;
  out_of_order: number;
  types: string[];
}

export async function createSummaryTable(session: DatabaseSession, table = 'stream_summary'): Promise<void> {
  await session.query(`
    CREATE TABLE ${table} (
      stream_id     text PRIMARY KEY,
      events        integer NOT NULL,
      last_version  integer NOT NULL,
      last_position bigint NOT NULL,
      out_of_order  integer NOT NULL DEFAULT 0,
      types         text[] NOT NULL
    )`);
  await session.query(`CREATE INDEX ${table}_by_position ON ${table} (last_position)`);
}

export interface SummaryOptions {
  name: string;
  table?: string;
  handles?: readonly string[];
  /** Makes `apply` throw for the events it returns true for: a poison event. */
  failOn?: (event: RecordedEvent, rebuilding: boolean) => boolean;
  /** Runs after the rows are written, before the checkpoint moves: where a crash hurts most. */
  afterWrite?: (
    events: readonly RecordedEvent[],
    session: DatabaseSession,
    rebuilding: boolean,
  ) => Promise<void>;
}

export function summaryProjection(options: SummaryOptions): Projection {
  const table = options.table ?? 'stream_summary';
  return {
    name: options.name,
    handles: options.handles,
    tables: [table],
    async apply(events, context) {
      const target = context.table(table);
      const rebuilding = target !== `"${table}"`;
      const poison = events.find((event) => options.failOn?.(event, rebuilding));
      if (poison !== undefined) throw new Error(`cannot apply ${poison.type} at ${poison.globalPosition}`);
      const { session } = context;
      const streamIds = [...new Set(events.map((event) => event.streamId))];
      const current = await session.query<SummaryRow>(
        `SELECT * FROM ${target} WHERE stream_id = ANY($1::text[])`,
        [streamIds],
      );
      const rows = new Map(current.map((row) => [row.stream_id, { ...row }]));
      for (const event of events) {
        const row = rows.get(event.streamId) ?? {
          stream_id: event.streamId,
          events: 0,
          last_version: 0,
          last_position: '0',
          out_of_order: 0,
          types: [],
        };
        if (event.version !== row.last_version + 1) row.out_of_order++;
        row.events++;
        row.last_version = event.version;
        row.last_position = String(event.globalPosition);
        row.types = [...row.types, event.type];
        rows.set(event.streamId, row);
      }
      const all = [...rows.values()];
      await session.query(
        `INSERT INTO ${target} (stream_id, events, last_version, last_position, out_of_order, types)
         SELECT u.stream_id, u.events, u.last_version, u.last_position, u.out_of_order,
                ARRAY(SELECT jsonb_array_elements_text(u.types))
         FROM unnest($1::text[], $2::int[], $3::int[], $4::bigint[], $5::int[], $6::jsonb[])
              AS u(stream_id, events, last_version, last_position, out_of_order, types)
         ON CONFLICT (stream_id) DO UPDATE SET events = excluded.events, last_version = excluded.last_version,
           last_position = excluded.last_position, out_of_order = excluded.out_of_order, types = excluded.types`,
        [
          all.map((row) => row.stream_id),
          all.map((row) => row.events),
          all.map((row) => row.last_version),
          all.map((row) => row.last_position),
          all.map((row) => row.out_of_order),
          all.map((row) => JSON.stringify(row.types)),
        ],
      );
      await options.afterWrite?.(events, session, rebuilding);
    },
  };
}

/** The table as plain rows in stream order, for comparisons. */
export async function summaryRows(session: DatabaseSession, table = 'stream_summary'): Promise<SummaryRow[]> {
  return session.query<SummaryRow>(
    `SELECT stream_id, events, last_version, last_position::text AS last_position, out_of_order, types
     FROM ${table} ORDER BY stream_id`,
  );
}

/**
 * Cuts the transaction's connection as a crash would: the server (or the embedded front) sees the socket
 * close and rolls the open transaction back; the next statement on it fails. The port has no socket to
 * cut, so this reaches under it: the sessions the consumers hand to projections are TypeORM's, each bound
 * to the query runner of its connection.
 */
export async function cutConnection(session: DatabaseSession): Promise<void> {
  const { queryRunner } = session as { queryRunner?: QueryRunner };
  if (queryRunner === undefined) throw new Error('cutConnection needs a session bound to one connection');
  const client = (await queryRunner.connect()) as { connection: { stream: { destroy(): void } } };
  client.connection.stream.destroy();
}

/**
 * A projection that journals every event it applies, in the order applied (`seq`): what the ordering and
 * exactly-once tests inspect.
 */
export async function createJournalTable(session: DatabaseSession, table: string): Promise<void> {
  await session.query(`
    CREATE TABLE ${table} (
      seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      global_position bigint NOT NULL,
      transaction_id  xid8 NOT NULL,
      stream_id       text NOT NULL,
      version         integer NOT NULL
    )`);
}

export function journalProjection(options: {
  name: string;
  table: string;
  handles: readonly string[];
}): Projection {
  return {
    name: options.name,
    handles: options.handles,
    tables: [options.table],
    async apply(events, { session, table }) {
      await session.query(
        `INSERT INTO ${table(options.table)} (global_position, transaction_id, stream_id, version)
         SELECT u.global_position, u.transaction_id::xid8, u.stream_id, u.version
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[]) WITH ORDINALITY
              AS u(global_position, transaction_id, stream_id, version, ordinality)
         ORDER BY u.ordinality`,
        [
          events.map((event) => event.globalPosition),
          events.map((event) => event.transactionId),
          events.map((event) => event.streamId),
          events.map((event) => event.version),
        ],
      );
    },
  };
}

export interface JournalRow {
  global_position: string;
  transaction_id: string;
  stream_id: string;
  version: number;
}

export async function journalRows(session: DatabaseSession, table: string): Promise<JournalRow[]> {
  return session.query<JournalRow>(
    `SELECT global_position::text AS global_position, transaction_id::text AS transaction_id, stream_id, version
     FROM ${table} ORDER BY seq`,
  );
}
