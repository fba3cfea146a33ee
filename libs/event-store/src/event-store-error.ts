/** Every way the event store refuses a request; mapped exhaustively at each edge. */
export type EventStoreErrorCode =
  | 'WRONG_EXPECTED_VERSION'
  | 'STREAM_ORDER_CONFLICT'
  | 'INVALID_APPEND'
  | 'INVALID_READ'
  | 'UNKNOWN_EVENT_TYPE'
  | 'SCHEMA_MISMATCH'
  | 'UPCASTER_MISSING'
  | 'UPCAST_FAILED';

/** What a conflict was about, for logs and for callers that want more than the message. */
export interface EventStoreErrorDetails {
  streamId?: string;
  expectedVersion?: number | 'no_stream' | 'any';
  /** The stream's version when the append was refused; 0 when the stream does not exist. */
  actualVersion?: number;
  globalPosition?: number;
}

const RETRYABLE: ReadonlySet<EventStoreErrorCode> = new Set([
  'WRONG_EXPECTED_VERSION',
  'STREAM_ORDER_CONFLICT',
]);

/**
 * The one error type of the event store. `WRONG_EXPECTED_VERSION` and `STREAM_ORDER_CONFLICT` are
 * retryable by reloading the stream, deciding again and appending in a new transaction
 * (`withAppendRetry`); the other codes are bugs in the caller or in the event catalogue and its upcasters.
 */
export class EventStoreError extends Error {
  override readonly name = 'EventStoreError';

  constructor(
    readonly code: EventStoreErrorCode,
    message: string,
    readonly details: EventStoreErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** True when reloading, deciding again and appending in a new transaction may succeed. */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

/** Narrows `error` to an `EventStoreError`, optionally of one code. */
export function isEventStoreError(error: unknown, code?: EventStoreErrorCode): error is EventStoreError {
  return error instanceof EventStoreError && (code === undefined || error.code === code);
}
