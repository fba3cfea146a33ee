/** Every way the inbox refuses a request; mapped exhaustively at each edge. */
export type InboxErrorCode =
  /** A filter of `InboxQueries.list` is invalid (`field` names it). */
  | 'INVALID_FILTER'
  /** A cursor that `InboxQueries.list` did not hand out. */
  | 'INVALID_CURSOR'
  /** No inbox notification has that id. */
  | 'NOTIFICATION_NOT_FOUND';

/** The coded error of the inbox: a code from a fixed list, a precise message, the field at fault. */
export class InboxError extends Error {
  override readonly name = 'InboxError';

  constructor(
    readonly code: InboxErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
