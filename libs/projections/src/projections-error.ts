/** Every way a read model refuses; mapped exhaustively at each edge. */
export type ProjectionsErrorCode =
  /** A pagination cursor that this ledger did not hand out (or that was altered). */
  | 'INVALID_CURSOR'
  /** A filter outside what the query accepts; `field` names it. */
  | 'INVALID_FILTER'
  /** A stored order state of another `ORDER_STATE_VERSION`: the projection must be rebuilt first. */
  | 'STALE_ORDER_STATE';

/** The one error type of `@ledger/projections`. */
export class ProjectionsError extends Error {
  override readonly name = 'ProjectionsError';

  constructor(
    readonly code: ProjectionsErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
