import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { EventStore, type AppendResult, type EventMetadata, type ExpectedVersion } from '@ledger/event-store';
import { type Database, type DatabaseSession, LedgerMetrics } from '@ledger/platform';
import type { StoredStream, StreamEvent, StreamSession, StreamSessions } from './stream-session';

/**
 * A stream session on the event store: in the database transaction `session` when given (its other rows
 * and the events commit together), else each append is its own transaction.
 */
export class PostgresStreamSession implements StreamSession {
  constructor(
    private readonly store: EventStore,
    readonly session?: DatabaseSession,
  ) {}

  async read(streamId: string): Promise<StoredStream> {
    const events = await this.store.readStream(streamId, 1, { session: this.session });
    return { version: events.length, events };
  }

  append(
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: readonly StreamEvent[],
    metadata: EventMetadata,
  ): Promise<AppendResult> {
    return this.store.append(
      streamId,
      expectedVersion,
      events.map(({ type, data }) => ({ type, data, metadata })),
      { session: this.session },
    );
  }
}

/** A stream session in a transaction: the caller's other rows (`session`) commit or roll back with its events. */
export class PostgresTransactionSession extends PostgresStreamSession {
  /** What the transaction appended so far, counted once it commits. */
  readonly appended: StreamEvent[] = [];

  constructor(
    store: EventStore,
    override readonly session: DatabaseSession,
  ) {
    super(store, session);
  }

  override async append(
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: readonly StreamEvent[],
    metadata: EventMetadata,
  ): Promise<AppendResult> {
    const result = await super.append(streamId, expectedVersion, events, metadata);
    this.appended.push(...events);
    return result;
  }
}

/** Stream sessions on the event store, each in a transaction of its own. */
@Injectable()
export class PostgresStreamSessions implements StreamSessions<PostgresTransactionSession> {
  constructor(
    // TypeORM's DataSource is the pool; only the platform's port of it is used here.
    @InjectDataSource() private readonly pool: Database,
    private readonly store: EventStore,
    private readonly metrics: LedgerMetrics,
  ) {}

  async transaction<T>(work: (session: PostgresTransactionSession) => Promise<T>): Promise<T> {
    let session: PostgresTransactionSession | undefined;
    const result = await this.pool.transaction((database) => {
      session = new PostgresTransactionSession(this.store, database);
      return work(session);
    });
    // The store counts appends that commit on their own; these committed with the transaction, just now.
    if (session !== undefined) this.metrics.eventsAppended(session.appended);
    return result;
  }

  /**
   * Sessions for work that appends to one stream only: no transaction around it, the append is one (a read
   * and an append, where a transaction would add two round trips).
   */
  get singleStream(): StreamSessions<PostgresStreamSession> {
    return { transaction: (work) => work(this.session()) };
  }

  /** A session outside any transaction: for reads, and for one append that is a transaction itself. */
  session(): PostgresStreamSession {
    return new PostgresStreamSession(this.store);
  }
}
