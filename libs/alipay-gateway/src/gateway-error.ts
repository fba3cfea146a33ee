/**
 * Why a call to the gateway did not give an answer the caller can act on:
 * - `UNREACHABLE`: no connection, or it broke before a complete reply (refused, reset, DNS);
 * - `TIMEOUT`: no complete reply within the call's time limit;
 * - `BAD_REPLY`: a reply that is not the service's (HTTP error status, an HTML page, malformed XML,
 *   a notify_verify body other than `true`/`false`, a reply too large);
 * - `REJECTED`: Alipay answered `is_success` F; `alipayCode` carries its error code (docs/alipay-protocol.md,
 *   "Error codes");
 * - `INVALID_REQUEST`: the request could not be built or signed (a bad parameter, a key that cannot sign);
 *   nothing was sent;
 * - `ABORTED`: the caller's signal stopped the call (shutdown).
 *
 * After `UNREACHABLE`, `TIMEOUT` or `BAD_REPLY` on a service that acts (send_goods_confirm, refund), Alipay
 * may or may not have acted: retry the same request (the same `batch_no`, docs/alipay-protocol.md,
 * "batch_no").
 */
export type GatewayErrorCode =
  'UNREACHABLE' | 'TIMEOUT' | 'BAD_REPLY' | 'REJECTED' | 'INVALID_REQUEST' | 'ABORTED';

export interface GatewayErrorDetails {
  /** The gateway service that was called. */
  readonly service: string;
  /** Whether the same request may succeed later: transport failures, and the Alipay codes said so. */
  readonly retryable: boolean;
  /** Alipay's `<error>` code, for `REJECTED`. */
  readonly alipayCode?: string;
  /** Time from the start of the call to the failure. */
  readonly latencyMs?: number;
  /** The HTTP status of a reply that came. */
  readonly httpStatus?: number;
  /** The start of the reply body, for `BAD_REPLY` (at most 200 characters). */
  readonly replyExcerpt?: string;
}

/** The one error type of `@ledger/alipay-gateway`. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly service: string;
  readonly retryable: boolean;
  readonly alipayCode?: string;
  readonly latencyMs?: number;
  readonly httpStatus?: number;
  readonly replyExcerpt?: string;

  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    details: GatewayErrorDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.service = details.service;
    this.retryable = details.retryable;
    if (details.alipayCode !== undefined) this.alipayCode = details.alipayCode;
    if (details.latencyMs !== undefined) this.latencyMs = details.latencyMs;
    if (details.httpStatus !== undefined) this.httpStatus = details.httpStatus;
    if (details.replyExcerpt !== undefined) this.replyExcerpt = details.replyExcerpt;
  }
}
