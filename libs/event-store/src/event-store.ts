import { StatementBatcher, type DatabaseSession, type LedgerMetrics } from '@ledger/platform';
import type { DataSource } from 'typeorm';
import { checkStreamId, toAppendRequest, type AppendRequest } from './append-request';
import {
  appendQuery,
  appendWithParts,
  appendWithStatement,
  groupedAppendWithStatement,
  type AppendRow,
  type AppendWithParts,
  type CommitWith,
} from './append-statement';
import { CommitNotifier } from './commit-notifier';
import type { ExpectedVersion, GlobalCheckpoint, NewEvent, RecordedEvent } from './event-envelope';
import type { EventSchemas } from './event-schemas';
import { EventStoreError } from './event-store-error';

/** What `append` wrote. */
export interface AppendResult {
  streamId: string;
  /** The stream's version after the append: the expected version of the next one. */
  nextExpectedVersion: number;
  firstPosition: number;
  lastPosition: number;
  /** The writing transaction's id (xid8 as text), the first half of the events' global checkpoint. */
  transactionId: string;
}

/** Run inside the caller's transaction: its other rows and the events commit or roll back together. */
export interface InTransaction {
  session?: DatabaseSession;
}

export interface ReadStreamOptions extends InTransaction {
  /** At most this many events, from `fromVersion` on. */
  maxCount?: number;
}

/** One append that is its own transaction (`appendWith`, `append` without a session) in a group commit. */
interface GroupedAppend {
  streamId: string;
  parts: AppendWithParts;
}

/** How one append of a group ended: its claim's row, or what its statement raised. */
type GroupedOutcome = { row: AppendRow } | { error: unknown };

/** The most appends one statement commits, and the most such statements at once. */
const MAX_GROUP_COMMIT = 16;
const GROUP_COMMITS_IN_FLIGHT = 4;

/** The largest page `readAll` returns in one call. */
export const MAX_READ_ALL_LIMIT = 100_000;

// No recorded_at: metadata.recordedAt holds the same instant, written by event_store_append, which spares a
// replay the driver's timestamp parsing on every row.
const COLUMNS = `global_position, transaction_id::text AS transaction_id, stream_id, version, type, schema_version,
  data, metadata`;

interface EventRowFromDb {
  global_position: number | string;
  transaction_id: string;
  stream_id: string;
  version: number;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: RecordedEvent['metadata'];
}

interface DriverError {
  code?: unknown;
  constraint?: unknown;
}

function isPositiveInteger(value: unknown, max = Number.MAX_SAFE_INTEGER): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= max;
}

/**
 * The PostgreSQL event store (docs/event-store.md): append with optimistic concurrency claimed in SQL,
 * reads by stream and by global position. `schemas` stamps every appended event with its type's current
 * schema version and upcasts older stored versions at read time. The same SQL runs on PostgreSQL and on
 * the embedded PGlite.
 */
export class EventStore {
  private readonly notifier: CommitNotifier;
  /** Concurrent `appendWith`s, committed together (docs/event-store.md, "Group commit"). */
  private readonly groupCommits = new StatementBatcher(
    (appends: readonly GroupedAppend[]) => this.commitGroup(appends),
    { maxBatch: MAX_GROUP_COMMIT, maxInFlight: GROUP_COMMITS_IN_FLIGHT },
  );
  /** Whole-stream reads outside a transaction, concurrent ones answered by one statement. */
  private readonly streamReads = new StatementBatcher(
    (streamIds: readonly string[]) => this.readWholeStreams(streamIds),
    { maxBatch: 64, maxInFlight: 2 },
  );

  /**
   * `metrics` counts the events of every append that commits on its own; those appended in a caller's
   * transaction are the caller's to count once it commits.
   */
  constructor(
    private readonly dataSource: DataSource,
    private readonly schemas: EventSchemas,
    private readonly metrics?: Pick<LedgerMetrics, 'eventsAppended'>,
  ) {
    // The pool prepares what each connection runs repeatedly (docs/operations.md, "Prepared statements").
    this.notifier = new CommitNotifier(dataSource, () => dataSource.isInitialized);
  }

  /**
   * Appends `events` to `streamId` atomically if the stream is at `expectedVersion` (`no_stream` or 0: it
   * must not exist; `any`: no check). The version is claimed in `streams` before any global position is
   * taken, so a refused append leaves no trace. With `options.session` it runs in the caller's
   * transaction and commits with it; otherwise the single statement is its own transaction.
   *
   * @throws EventStoreError `WRONG_EXPECTED_VERSION` (names the stream, expected and actual version),
   *   `STREAM_ORDER_CONFLICT` (an older transaction tried to write after a newer one; retry in a new
   *   transaction), `INVALID_APPEND` (empty batch, bad stream id, bad version or event, data that
   *   PostgreSQL refuses), `UNKNOWN_EVENT_TYPE` (a type the catalogue does not list).
   */
  async append(
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: readonly NewEvent[],
    options: InTransaction = {},
  ): Promise<AppendResult> {
    // Alone, the append is its own transaction: it joins the group commit of concurrent ones.
    if (options.session === undefined) return this.appendWith(streamId, expectedVersion, events, () => []);
    const request = toAppendRequest(streamId, expectedVersion, events, this.schemas);
    // A session's NOTIFY goes out when its transaction commits.
    const { sql, parameters } = appendQuery(request, true);
    let row: AppendRow;
    try {
      [row] = await options.session.query<AppendRow>(sql, parameters);
    } catch (error) {
      throw this.translateFailure(error, request, expectedVersion);
    }
    if (row.next_version === null || row.first_position === null || row.last_position === null) {
      throw this.refusal(request, expectedVersion, row);
    }
    return {
      streamId,
      nextExpectedVersion: row.next_version,
      firstPosition: Number(row.first_position),
      lastPosition: Number(row.last_position),
      transactionId: row.transaction_id,
    };
  }

  /**
   * An append and the caller's writes that must commit with it (a de-duplication key, an inbox outcome), in
   * one statement, hence one round trip and no explicit transaction (docs/event-store.md, "Writes that
   * commit with an append"). The writes run only if the claim succeeded, after it, so that streams are
   * locked before whatever they lock; a write that fails undoes the append with it, and its error is
   * rethrown as the driver raised it.
   *
   * @throws EventStoreError as `append` does: a refused claim is `WRONG_EXPECTED_VERSION` or
   *   `STREAM_ORDER_CONFLICT` (retryable; then nothing was written).
   */
  async appendWith(
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: readonly NewEvent[],
    writes: CommitWith,
  ): Promise<AppendResult> {
    const request = toAppendRequest(streamId, expectedVersion, events, this.schemas);
    // No NOTIFY inside: commits that notify queue on one lock; the hint goes out after the commit instead.
    const outcome = await this.groupCommits.submit({ streamId, parts: appendWithParts(request, writes) });
    if ('error' in outcome) throw this.translateFailure(outcome.error, request, expectedVersion);
    const { row } = outcome;
    if (row.next_version === null || row.first_position === null || row.last_position === null) {
      throw this.refusal(request, expectedVersion, row);
    }
    this.notifier.committed(row.transaction_id);
    this.metrics?.eventsAppended(events);
    return {
      streamId,
      nextExpectedVersion: row.next_version,
      firstPosition: Number(row.first_position),
      lastPosition: Number(row.last_position),
      transactionId: row.transaction_id,
    };
  }

  /**
   * Commits concurrent `appendWith`s (docs/event-store.md, "Group commit"): those of distinct streams in
   * one statement, claiming in stream order; a second one of a stream already in the group goes in the next
   * statement, after the first committed. A refused claim refuses its own item only. When the statement
   * raises (a key taken by a racing duplicate, data PostgreSQL refuses), nothing of it was written, and each
   * of its items runs alone, as it would have without company, to get its own outcome.
   */
  private async commitGroup(appends: readonly GroupedAppend[]): Promise<GroupedOutcome[]> {
    const outcomes = new Array<GroupedOutcome>(appends.length);
    let pending = appends.map((append, index) => ({ append, index }));
    while (pending.length > 0) {
      const streams = new Set<string>();
      const group: typeof pending = [];
      const later: typeof pending = [];
      for (const entry of pending) {
        if (streams.has(entry.append.streamId)) later.push(entry);
        else {
          streams.add(entry.append.streamId);
          group.push(entry);
        }
      }
      group.sort((a, b) => (a.append.streamId < b.append.streamId ? -1 : 1));
      const rows =
        group.length > 1 ? await this.tryGroup(group.map(({ append }) => append.parts)) : undefined;
      if (rows !== undefined) {
        for (const row of rows) outcomes[group[row.item].index] = { row };
      } else {
        await Promise.all(
          group.map(async ({ append, index }) => {
            const { sql, parameters } = appendWithStatement(append.parts);
            try {
              const [row] = await this.dataSource.query<AppendRow[]>(sql, parameters);
              outcomes[index] = { row };
            } catch (error) {
              outcomes[index] = { error };
            }
          }),
        );
      }
      pending = later;
    }
    return outcomes;
  }

  /** The group in one statement; undefined when it raised, having written nothing. */
  private async tryGroup(
    group: readonly AppendWithParts[],
  ): Promise<(AppendRow & { item: number })[] | undefined> {
    const { sql, parameters } = groupedAppendWithStatement(group);
    try {
      return await this.dataSource.query<(AppendRow & { item: number })[]>(sql, parameters);
    } catch {
      return undefined;
    }
  }

  /** The events of `streamId` from `fromVersion` (1-based) on, in stream order, upcast. */
  async readStream(
    streamId: string,
    fromVersion = 1,
    options: ReadStreamOptions = {},
  ): Promise<RecordedEvent[]> {
    checkStreamId(streamId, 'INVALID_READ');
    if (!isPositiveInteger(fromVersion)) {
      throw new EventStoreError('INVALID_READ', `fromVersion ${String(fromVersion)} is not an integer >= 1`);
    }
    if (options.maxCount !== undefined && !isPositiveInteger(options.maxCount)) {
      throw new EventStoreError(
        'INVALID_READ',
        `maxCount ${String(options.maxCount)} is not an integer >= 1`,
      );
    }
    if (options.session === undefined && fromVersion === 1 && options.maxCount === undefined) {
      return this.streamReads.submit(streamId);
    }
    const rows = await this.on(options.session).query<EventRowFromDb>(
      `SELECT ${COLUMNS} FROM events WHERE stream_id = $1 AND version >= $2 ORDER BY version
       ${options.maxCount === undefined ? '' : 'LIMIT $3'}`,
      options.maxCount === undefined ? [streamId, fromVersion] : [streamId, fromVersion, options.maxCount],
    );
    return rows.map((row) => this.toRecordedEvent(row));
  }

  /**
   * Several whole streams in one statement, by stream id (an unknown stream is an empty list), in the
   * caller's transaction when given (docs/event-store.md, "Reading").
   */
  async readStreams(
    streamIds: readonly string[],
    options: InTransaction = {},
  ): Promise<Map<string, RecordedEvent[]>> {
    for (const streamId of streamIds) checkStreamId(streamId, 'INVALID_READ');
    const rows = await this.on(options.session).query<EventRowFromDb>(
      `SELECT ${COLUMNS} FROM events WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, version`,
      [[...new Set(streamIds)]],
    );
    const byStream = new Map<string, RecordedEvent[]>(streamIds.map((streamId) => [streamId, []]));
    for (const row of rows) byStream.get(row.stream_id)?.push(this.toRecordedEvent(row));
    return byStream;
  }

  /** Whole streams for `readStream`'s batches, in the order asked; each caller gets its own array. */
  private async readWholeStreams(streamIds: readonly string[]): Promise<RecordedEvent[][]> {
    const byStream = await this.readStreams(streamIds);
    return streamIds.map((streamId) => byStream.get(streamId)!.slice());
  }

  /**
   * Up to `limit` events after `from`, for audits and exports.
   *
   * With a position (a number) the order is the global position's, which is handed out at insert but
   * visible only at commit: a later read may find an event *below* a position already passed. Consumers
   * must therefore use the consumer API, which reads in (transaction id, position) order.
   *
   * With a `GlobalCheckpoint` the order is (transaction id, position), and only events of transactions
   * below the oldest one still running are returned, so nothing can later appear before what was read;
   * a stuck transaction holds the read back rather than being skipped.
   */
  async readAll(
    from: GlobalCheckpoint | number,
    limit: number,
    options: InTransaction = {},
  ): Promise<RecordedEvent[]> {
    if (!isPositiveInteger(limit, MAX_READ_ALL_LIMIT)) {
      throw new EventStoreError(
        'INVALID_READ',
        `limit ${String(limit)} is not an integer from 1 to ${MAX_READ_ALL_LIMIT}`,
      );
    }
    const runner = this.on(options.session);
    let rows: EventRowFromDb[];
    if (typeof from === 'number') {
      if (!Number.isSafeInteger(from) || from < 0) {
        throw new EventStoreError('INVALID_READ', `position ${from} is not an integer >= 0`);
      }
      rows = await runner.query<EventRowFromDb>(
        `SELECT ${COLUMNS} FROM events WHERE global_position > $1 ORDER BY global_position LIMIT $2`,
        [from, limit],
      );
    } else {
      if (
        !/^\d{1,20}$/.test(from.transactionId) ||
        !Number.isSafeInteger(from.position) ||
        from.position < 0
      ) {
        throw new EventStoreError(
          'INVALID_READ',
          `checkpoint ${JSON.stringify(from)} is not a valid checkpoint`,
        );
      }
      rows = await runner.query<EventRowFromDb>(
        `SELECT ${COLUMNS} FROM events
         WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
           AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
         ORDER BY events.transaction_id, events.global_position LIMIT $3`,
        [from.transactionId, from.position, limit],
      );
    }
    return rows.map((row) => this.toRecordedEvent(row));
  }

  /** The stream's current version: the number of its events, 0 when it does not exist. */
  async streamVersion(streamId: string, options: InTransaction = {}): Promise<number> {
    checkStreamId(streamId, 'INVALID_READ');
    const rows = await this.on(options.session).query<{ version: number }>(
      `SELECT version FROM streams WHERE stream_id = $1`,
      [streamId],
    );
    return rows.length === 0 ? 0 : Number(rows[0].version);
  }

  private on(session: DatabaseSession | undefined): DatabaseSession {
    return session ?? this.dataSource;
  }

  private toRecordedEvent(row: EventRowFromDb): RecordedEvent {
    const globalPosition = Number(row.global_position);
    const { schemaVersion, data } = this.schemas.upcast({
      type: row.type,
      schemaVersion: row.schema_version,
      data: row.data,
      globalPosition,
    });
    return {
      globalPosition,
      transactionId: row.transaction_id,
      streamId: row.stream_id,
      version: row.version,
      type: row.type,
      schemaVersion,
      data,
      metadata: row.metadata,
      recordedAt: new Date(row.metadata.recordedAt),
    };
  }

  /** The claim was refused: either the version moved, or a newer transaction wrote the stream last. */
  private refusal(request: AppendRequest, expectedVersion: ExpectedVersion, row: AppendRow): EventStoreError {
    const actualVersion = row.actual_version;
    const versionMatches =
      request.claim.kind === 'any' ||
      (request.claim.kind === 'advance' ? actualVersion === request.claim.from : actualVersion === 0);
    if (versionMatches && row.newer_writer) {
      return new EventStoreError(
        'STREAM_ORDER_CONFLICT',
        `stream ${request.streamId} was last written by a transaction newer than this one; ` +
          'retry the append in a new transaction',
        { streamId: request.streamId, expectedVersion, actualVersion },
      );
    }
    return this.wrongExpectedVersion(request.streamId, expectedVersion, actualVersion);
  }

  /** `actualVersion` undefined: another writer took the same version and the stream was not re-read. */
  private wrongExpectedVersion(
    streamId: string,
    expectedVersion: ExpectedVersion,
    actualVersion: number | undefined,
    cause?: unknown,
  ): EventStoreError {
    const expected =
      expectedVersion === 0 || expectedVersion === 'no_stream'
        ? 'expected not to exist'
        : `expected at version ${String(expectedVersion)}`;
    const actual =
      actualVersion === undefined
        ? 'another writer took the same version'
        : actualVersion === 0
          ? 'it does not exist'
          : `it is at version ${actualVersion}`;
    return new EventStoreError(
      'WRONG_EXPECTED_VERSION',
      `stream ${streamId} was ${expected} but ${actual}`,
      { streamId, expectedVersion, actualVersion },
      cause === undefined ? undefined : { cause },
    );
  }

  private translateFailure(
    error: unknown,
    request: AppendRequest,
    expectedVersion: ExpectedVersion,
  ): unknown {
    const driverError = error as DriverError;
    // The UNIQUE (stream_id, version) backstop: only reachable if `streams` and `events` ever disagreed.
    if (driverError.code === '23505' && driverError.constraint === 'events_stream_version_unique') {
      return this.wrongExpectedVersion(request.streamId, expectedVersion, undefined, error);
    }
    // Class 22, data exception: e.g. a \u0000, which PostgreSQL's text cannot hold.
    if (typeof driverError.code === 'string' && driverError.code.startsWith('22')) {
      return new EventStoreError(
        'INVALID_APPEND',
        `PostgreSQL refused the batch for ${request.streamId}: ${(error as Error).message}`,
        { streamId: request.streamId },
        { cause: error },
      );
    }
    return error;
  }
}
