import { GatewayError, type GatewayAcceptance } from '@ledger/alipay-gateway';
import type { AcceptRefundBatch, RejectRefundBatch } from '@ledger/domain';

/**
 * What one `refund_fastpay_by_platform_nopwd` call tells about the batch (docs/alipay-protocol.md, "batch_no"
 * and "nopwd answer"):
 * - `accept`: `T`, `P` (accepted, result pending), or `DUPLICATE_BATCH_NO`: every batch_no comes from the
 *   ledger's own sequence, so Alipay knows it only because an earlier call of ours (one that timed out, or
 *   a resend) got through;
 * - `reject`: `F` with a code that says the batch itself was refused; nothing was refunded;
 * - `retry`: nothing is known (no reply, a timeout, a reply that is not the gateway's, an `F` Alipay calls
 *   transient, a request that could not be signed): the same batch_no is sent again later. `reached` says
 *   whether the call may have reached Alipay: then the batch's outcome is unknown, and a later `F` releases
 *   nothing (docs/product-rules.md, "Refund batches whose outcome is unknown");
 * - `stop`: the ledger is shutting down; the resender sends it after the restart.
 */
export type NopwdAttemptOutcome =
  | { kind: 'accept'; reply: AcceptRefundBatch['reply'] }
  | { kind: 'reject'; code: string }
  | { kind: 'retry'; code: string; message: string; reached: boolean }
  | { kind: 'stop' };

/**
 * Connection failures that prove the request never left: nothing reached Alipay. A reset, a refused
 * keep-alive reuse or anything else may have come after the request was written.
 */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function neverSent(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === 'string' && NEVER_SENT.has(code)) return true;
    current = cause;
  }
  return false;
}

/** `F` without an `<error>`: the batch was refused, the reason unsaid. */
export const UNSPECIFIED_REJECTION = 'UNSPECIFIED';

/** Reads one call's result; anything but a GatewayError is a defect and is thrown again. */
export function nopwdAttemptOutcome(
  result: { acceptance: GatewayAcceptance } | { error: unknown },
): NopwdAttemptOutcome {
  if ('acceptance' in result) {
    return { kind: 'accept', reply: result.acceptance.status === 'pending' ? 'P' : 'T' };
  }
  const { error } = result;
  if (!(error instanceof GatewayError)) throw error;
  switch (error.code) {
    case 'REJECTED':
      if (error.alipayCode === 'DUPLICATE_BATCH_NO') return { kind: 'accept', reply: 'DUPLICATE_BATCH_NO' };
      // Alipay answered: the batch was not taken this time, and nothing is in doubt.
      if (error.retryable)
        return {
          kind: 'retry',
          code: error.alipayCode ?? error.code,
          message: error.message,
          reached: false,
        };
      return { kind: 'reject', code: error.alipayCode ?? UNSPECIFIED_REJECTION };
    case 'ABORTED':
      return { kind: 'stop' };
    case 'INVALID_REQUEST':
      return { kind: 'retry', code: error.code, message: error.message, reached: false };
    case 'UNREACHABLE':
      return { kind: 'retry', code: error.code, message: error.message, reached: !neverSent(error) };
    case 'TIMEOUT':
    case 'BAD_REPLY':
      return { kind: 'retry', code: error.code, message: error.message, reached: true };
    default:
      return error.code satisfies never;
  }
}

/**
 * The batch command an outcome records, if any. `afterUnansweredCall`: an earlier call may have reached
 * Alipay unanswered, so a rejection is a resend's and releases nothing.
 */
export function nopwdCommand(
  batchNo: string,
  outcome: NopwdAttemptOutcome,
  at: Date,
  afterUnansweredCall = false,
): AcceptRefundBatch | RejectRefundBatch | undefined {
  switch (outcome.kind) {
    case 'accept':
      return { type: 'AcceptRefundBatch', batchNo, reply: outcome.reply, acceptedAt: at.toISOString() };
    case 'reject':
      return {
        type: 'RejectRefundBatch',
        batchNo,
        code: outcome.code,
        rejectedAt: at.toISOString(),
        ...(afterUnansweredCall ? { afterUnansweredCall } : {}),
      };
    case 'retry':
    case 'stop':
      return undefined;
  }
}
