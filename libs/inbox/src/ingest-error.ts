/** Every way the ingest library refuses a request; mapped exhaustively at each edge. */
export type IngestErrorCode =
  /** A filter of `InboxQueries.list` is invalid (`field` names it). */
  | 'INVALID_FILTER'
  /** A cursor that `InboxQueries.list` did not hand out. */
  | 'INVALID_CURSOR'
  /** No inbox notification has that id. */
  | 'NOTIFICATION_NOT_FOUND'
  /** A replay selection that selects nothing sensible (no ids, an inverted time range...). */
  | 'INVALID_REPLAY_SELECTION'
  /** An `Idempotency-Key` of POST /refunds sent again with another request. */
  | 'IDEMPOTENCY_KEY_REUSED'
  /** An `Idempotency-Key` of POST /refunds whose first request is still being submitted. */
  | 'IDEMPOTENCY_KEY_IN_USE';

/** The one error type of the ingest library: a code from a fixed list, a precise message, the field at fault. */
export class IngestError extends Error {
  override readonly name = 'IngestError';

  constructor(
    readonly code: IngestErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
