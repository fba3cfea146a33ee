import type { AppendRequest } from './append-request';
import { EventStoreError } from './event-store-error';

/** The channel that wakes consumers after an append; the payload is the appending transaction's id. */
export const EVENTS_NOTIFY_CHANNEL = 'ledger_events';

/**
 * One round trip per append, refused or not: `event_store_append` (migration 1732000000200) claims the
 * stream's versions, then inserts, and on refusal reports the stream's state. A single event goes as typed
 * arguments, a batch as one JSON array (docs/event-store.md, "Append cost").
 */
const APPEND_BATCH_SQL = `SELECT * FROM event_store_append($1, $2, $3::json, $4)`;
const APPEND_ONE_SQL = `SELECT * FROM event_store_append($1, $2, $3, $4, $5::json, $6::jsonb, $7)`;

/**
 * A `\u0000` escape in JSON text: not preceded by an odd run of backslashes, which would make it the
 * literal text "\u0000". PostgreSQL's `json` input keeps it, but no `text` can hold it: the batch form's
 * `json_array_elements` refuses it, and so must the single-event form, which stores the text unexamined.
 */
const NUL_ESCAPE = /(?<!\\)(?:\\\\)*\\u0000/;

/**
 * The query of one append. `notifyAtCommit` queues the NOTIFY in the transaction, delivered when the
 * caller's transaction commits; an append that is its own transaction is announced after its commit
 * instead (CommitNotifier).
 */
export function appendQuery(
  request: AppendRequest,
  notifyAtCommit: boolean,
): { sql: string; parameters: unknown[] } {
  const { claim, rows } = request;
  const expected = claim.kind === 'any' ? null : claim.kind === 'create' ? 0 : claim.from;
  const channel = notifyAtCommit ? EVENTS_NOTIFY_CHANNEL : null;
  if (rows.length === 1) {
    const [row] = rows;
    const data = JSON.stringify(row.data);
    if (data.includes('\\u0000') && NUL_ESCAPE.test(data)) {
      throw new EventStoreError(
        'INVALID_APPEND',
        `PostgreSQL refused the batch for ${request.streamId}: \\u0000 cannot be converted to text`,
        { streamId: request.streamId },
      );
    }
    return {
      sql: APPEND_ONE_SQL,
      parameters: [
        request.streamId,
        expected,
        row.type,
        row.schemaVersion,
        data,
        JSON.stringify(row.metadata),
        channel,
      ],
    };
  }
  return {
    sql: APPEND_BATCH_SQL,
    parameters: [request.streamId, expected, JSON.stringify(rows), channel],
  };
}

/** The row `event_store_append` returns; `next_version` is null when the claim was refused. */
export interface AppendRow {
  transaction_id: string;
  next_version: number | null;
  first_position: number | string | null;
  last_position: number | string | null;
  /** The stream's version: after the append, or, when refused, as read right after the refusal. */
  actual_version: number;
  /** Refused because a transaction with a larger id wrote the stream last. */
  newer_writer: boolean;
}

/**
 * Writes that commit with an append or not at all (`EventStore.appendWith`). `writes` returns named
 * data-modifying statements (`INSERT`, `UPDATE`, `DELETE`), each becoming one CTE of the append's statement;
 * `bind(value)` adds a parameter and returns its placeholder (cast it where PostgreSQL cannot infer its
 * type). Each statement must read `appended`, the row of the append when its claim succeeded
 * (`transaction_id`, `next_version`, `first_position`, `last_position`; no row when refused), or an earlier
 * statement that does: so it runs after the stream is claimed and only if it was. Statements that read
 * none of them are refused: they could lock their rows before the stream, or write beside a refused append.
 */
export type CommitWith = (
  bind: (value: unknown) => string,
) => ReadonlyArray<readonly [name: string, statement: string]>;

const WRITE_NAME = /^[a-z][a-z0-9_]*$/;
const RESERVED_NAMES = new Set(['claim', 'appended']);

/** The named parts of one `appendWith`, in order: `claim`, `appended`, then the caller's writes. */
export interface AppendWithParts {
  ctes: [name: string, body: string][];
  parameters: unknown[];
}

export function appendWithParts(request: AppendRequest, writes: CommitWith): AppendWithParts {
  const { sql: append, parameters } = appendQuery(request, false);
  const bind = (value: unknown) => {
    parameters.push(value);
    return `$${parameters.length}`;
  };
  const ctes: [string, string][] = [
    ['claim', append],
    ['appended', 'SELECT * FROM claim WHERE next_version IS NOT NULL'],
  ];
  const after = ['appended'];
  for (const [name, statement] of writes(bind)) {
    if (!WRITE_NAME.test(name) || RESERVED_NAMES.has(name) || after.includes(name)) {
      throw new EventStoreError(
        'INVALID_APPEND',
        `write name "${name}" is reserved, repeated or not an identifier`,
      );
    }
    if (!after.some((earlier) => new RegExp(`\\b${earlier}\\b`).test(statement))) {
      throw new EventStoreError(
        'INVALID_APPEND',
        `write "${name}" reads neither appended nor an earlier write: it could run before the claim or without it`,
      );
    }
    after.push(name);
    ctes.push([name, statement]);
  }
  return { ctes, parameters };
}

// MATERIALIZED: the function runs once, whoever reads its row.
const cteList = (ctes: readonly (readonly [string, string])[]) =>
  ctes.map(([name, body]) => `${name} AS ${/^claim(_\d+)?$/.test(name) ? 'MATERIALIZED ' : ''}(${body})`);

/** The statement of `appendWith`: the claim and insert, then the caller's writes, then the append's row. */
export function appendWithQuery(
  request: AppendRequest,
  writes: CommitWith,
): { sql: string; parameters: unknown[] } {
  return appendWithStatement(appendWithParts(request, writes));
}

/** One `appendWith`'s parts as its own statement. */
export function appendWithStatement({ ctes, parameters }: AppendWithParts): {
  sql: string;
  parameters: unknown[];
} {
  return { sql: `WITH ${cteList(ctes).join(',\n')}\nSELECT * FROM claim`, parameters };
}

/** The most item shapes kept; past that, the shapes and the statements start again. */
const MAX_CACHED_SHAPES = 1_024;
/**
 * The most group statements kept; past that, they start again. Sixteen notifications' commits make a text of
 * about 20 KB: as many as a connection prepares (`PreparingClient`) keep that under 5 MB.
 */
const MAX_CACHED_STATEMENTS = 256;
/** Each distinct item text (its parameter count, names and bodies) with its number. */
const itemShapes = new Map<string, number>();
/** Each group statement under its items' shape numbers, in order. */
const groupStatements = new Map<string, string>();
let nextShape = 0;

/**
 * The number of an item's shape. Two items of one shape become the same text at the same place after the
 * same items: the group's statement is built once per sequence of shapes (docs/event-store.md, "Group
 * commit"), and the connection's prepared statement finds its text without rebuilding it.
 */
function shapeOf({ ctes, parameters }: AppendWithParts): number {
  let text = String(parameters.length);
  for (const [name, body] of ctes) text += `\u0000${name}\u0000${body}`;
  let shape = itemShapes.get(text);
  if (shape === undefined) {
    if (itemShapes.size >= MAX_CACHED_SHAPES) {
      // Numbers are never reused, so no kept statement can be found under another's shapes.
      itemShapes.clear();
      groupStatements.clear();
    }
    shape = nextShape++;
    itemShapes.set(text, shape);
  }
  return shape;
}

/**
 * Several `appendWith`s in one statement, hence one transaction and one commit (docs/event-store.md, "Group
 * commit"): each item's parts under names suffixed with its place and its placeholders moved past the
 * previous items', then one row per item, `item` being its place. The items must name distinct streams, in
 * the order their claims are to lock them: every group locks in stream order, so that two groups cannot wait
 * on each other. A refused claim refuses its item alone (its writes read no row); anything that raises undoes
 * them all.
 */
export function groupedAppendWithStatement(items: readonly AppendWithParts[]): {
  sql: string;
  parameters: unknown[];
} {
  const parameters: unknown[] = [];
  const shapes: number[] = [];
  for (const parts of items) {
    for (const parameter of parts.parameters) parameters.push(parameter);
    shapes.push(shapeOf(parts));
  }
  const key = shapes.join(',');
  let sql = groupStatements.get(key);
  if (sql === undefined) {
    if (groupStatements.size >= MAX_CACHED_STATEMENTS) groupStatements.clear();
    sql = groupedSql(items);
    groupStatements.set(key, sql);
  }
  return { sql, parameters };
}

function groupedSql(items: readonly AppendWithParts[]): string {
  let offset = 0;
  const ctes: [string, string][] = [];
  const rows: string[] = [];
  items.forEach((parts, item) => {
    const names = parts.ctes.map(([name]) => name);
    const ownNames = new RegExp(`\\b(${names.join('|')})\\b`, 'g');
    for (const [name, body] of parts.ctes) {
      ctes.push([
        `${name}_${item}`,
        body
          .replace(/\$(\d+)/g, (_match, n: string) => `$${Number(n) + offset}`)
          .replace(ownNames, (own: string) => `${own}_${item}`),
      ]);
    }
    offset += parts.parameters.length;
    rows.push(`SELECT ${item} AS item, * FROM claim_${item}`);
  });
  return `WITH ${cteList(ctes).join(',\n')}\n${rows.join('\nUNION ALL ')}`;
}
