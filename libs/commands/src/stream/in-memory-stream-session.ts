import { EventStoreError, type AppendResult, type ExpectedVersion } from '@ledger/event-store';
import type { StoredStream, StreamEvent, StreamSession, StreamSessions } from './stream-session';

/** Where an in-memory session's appends say they landed: no transaction of the event store wrote them. */
export const IN_MEMORY_TRANSACTION = 'in-memory';

/**
 * A session over reads that keeps its appends in memory: the dry run of a replay decides each notification
 * after the earlier ones of the same run, exactly as the real run would, and writes nothing. Streams are
 * read from `reader` once, then seen with what was appended here. A transaction's appends are kept only if
 * its work succeeds and no stream it read moved meanwhile (a lost race), as a database would.
 */
export class InMemoryStreamSession implements StreamSession, StreamSessions<InMemoryStreamSession> {
  private readonly streams = new Map<string, StreamEvent[]>();
  /** The version each stream had when it was first read from `reader`: checked when a transaction ends. */
  private readonly readVersions = new Map<string, number>();
  private position = 0;

  constructor(private readonly reader: (streamId: string) => Promise<StoredStream>) {}

  async read(streamId: string): Promise<StoredStream> {
    let events = this.streams.get(streamId);
    if (events === undefined) {
      events = [...(await this.reader(streamId)).events];
      this.streams.set(streamId, events);
      this.readVersions.set(streamId, events.length);
    }
    return { version: events.length, events: [...events] };
  }

  async append(
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: readonly StreamEvent[],
  ): Promise<AppendResult> {
    const { version } = await this.read(streamId);
    const expected = expectedVersion === 'no_stream' ? 0 : expectedVersion;
    if (expected !== 'any' && expected !== version) {
      throw new EventStoreError(
        'WRONG_EXPECTED_VERSION',
        `stream ${streamId} is at version ${version}, not ${expected}`,
        { streamId, expectedVersion, actualVersion: version },
      );
    }
    this.streams.get(streamId)!.push(...events.map(({ type, data }) => ({ type, data })));
    const firstPosition = this.position + 1;
    this.position += events.length;
    return {
      streamId,
      nextExpectedVersion: version + events.length,
      firstPosition,
      lastPosition: this.position,
      transactionId: IN_MEMORY_TRANSACTION,
    };
  }

  async transaction<T>(work: (session: InMemoryStreamSession) => Promise<T>): Promise<T> {
    const staged = new InMemoryStreamSession((streamId) => this.read(streamId));
    staged.position = this.position;
    const result = await work(staged);
    // Another writer appended to a stream this work read: the work lost the race, and keeps nothing.
    for (const [streamId, readVersion] of staged.readVersions) {
      const { version } = await this.read(streamId);
      if (version !== readVersion) {
        throw new EventStoreError(
          'WRONG_EXPECTED_VERSION',
          `stream ${streamId} moved from version ${readVersion} to ${version} during the transaction`,
          { streamId, expectedVersion: readVersion, actualVersion: version },
        );
      }
    }
    for (const [streamId, events] of staged.streams) this.streams.set(streamId, events);
    this.position = staged.position;
    return result;
  }
}
