/** Every way the HTTP API itself refuses a request, before any lib is asked. */
export type ApiErrorCode =
  /** The request's JSON, query or path does not validate; `field` names the first offending one. */
  | 'INVALID_REQUEST'
  /** No bearer token, or not the configured `ADMIN_TOKEN` (docs/product-rules.md, "Errors"). */
  | 'UNAUTHORIZED'
  /** The resource named in the path does not exist. */
  | 'NOT_FOUND';

/** The error type of the HTTP edge, mapped by `LedgerExceptionFilter` like every lib's coded error. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
