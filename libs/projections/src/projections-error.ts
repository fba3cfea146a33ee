/** Every way a read-model query is refused; mapped exhaustively at each edge. */
export type ProjectionsErrorCode =
  /** A pagination cursor that this ledger did not hand out (or that was altered). */
  | 'INVALID_CURSOR'
  /** A filter outside what the query accepts; `field` names it. */
  | 'INVALID_FILTER';

/** The one error type of `@ledger/projections`' queries. */
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
