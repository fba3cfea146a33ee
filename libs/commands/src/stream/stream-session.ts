import type { AppendResult, EventMetadata, ExpectedVersion } from '@ledger/event-store';

/** An event as a command decides it and a stream stores it: its type and its data. */
export interface StreamEvent {
  type: string;
  data: unknown;
}

/** A stream as a session reads it: its events in order; its version is their number (0: no stream). */
export interface StoredStream {
  version: number;
  events: readonly StreamEvent[];
}

/**
 * What the command step needs of storage: read a stream, append to it with the expected version. Every
 * write of the ledger goes through one; a PostgreSQL session writes, an in-memory one previews (the dry
 * run), and both run the same step.
 */
export interface StreamSession {
  read(streamId: string): Promise<StoredStream>;
  /**
   * Appends `events` if the stream is still at `expectedVersion`.
   * @throws EventStoreError `WRONG_EXPECTED_VERSION` / `STREAM_ORDER_CONFLICT` (a lost race: retryable).
   */
  append(
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: readonly StreamEvent[],
    metadata: EventMetadata,
  ): Promise<AppendResult>;
}

/** Opens sessions whose appends commit together or not at all: one per attempt of a command. */
export interface StreamSessions<S extends StreamSession = StreamSession> {
  transaction<T>(work: (session: S) => Promise<T>): Promise<T>;
}
