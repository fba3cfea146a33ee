/**
 * The event store's vocabulary. The store knows envelopes, never order rules.
 */

/** `no_stream`: the stream must not exist yet; `any`: no check; a number: the stream's current version. */
export type ExpectedVersion = number | 'no_stream' | 'any';

/** Causation and correlation travel with every event. */
export interface EventMetadata {
  /** What caused this event: an inbox id, a command id, another event's id. */
  causationId?: string;
  /** Groups everything that one external input set in motion. */
  correlationId?: string;
  [key: string]: unknown;
}

/** An event as a writer hands it to `append`. */
export interface NewEvent<Type extends string = string, Data = unknown> {
  type: Type;
  /** At its type's current schema version: the store stamps that version from its catalogue. */
  data: Data;
  metadata?: EventMetadata;
}

/**
 * Where a consumer stands in the global order: the committing transaction's id (xid8, as text) and the
 * global position within it. Compared as the pair (transactionId, position), never by position alone
 * (docs/event-store.md explains why).
 */
export interface GlobalCheckpoint {
  transactionId: string;
  position: number;
}

export const ORIGIN: GlobalCheckpoint = { transactionId: '0', position: 0 };

/** An event as it was stored, after upcasting to its current schema version. */
export interface RecordedEvent<Type extends string = string, Data = unknown> {
  globalPosition: number;
  transactionId: string;
  streamId: string;
  /** 1-based position within the stream. */
  version: number;
  type: Type;
  schemaVersion: number;
  data: Data;
  metadata: EventMetadata & { recordedAt: string };
  recordedAt: Date;
}
