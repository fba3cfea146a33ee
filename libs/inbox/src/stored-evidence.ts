import type { VerificationExplanation } from '@ledger/alipay-protocol';
import type {
  CutVerificationExplanation,
  InboxOutcomeDetail,
  NotifyVerifyEvidence,
  StoredVerification,
} from './inbox-notification';

// What the inbox keeps of a notification that is not Alipay's is evidence, not an archive: bounded so that
// a hostile sender cannot fill the database (docs/operations.md, "Bounded storage"). A verified
// notification is kept as it came.

/** The most of a refused (too large) body kept as evidence. */
export const REFUSED_BODY_EVIDENCE_BYTES = 64 * 1024;
/** Header lines kept; Node itself refuses requests with more than 2,000. */
export const MAX_STORED_HEADERS = 100;
/**
 * Bytes of header names and values kept, as much as Node accepts by default for a whole request head
 * (Node reads header text as Latin-1: a character is a byte).
 */
export const MAX_STORED_HEADER_BYTES = 16 * 1024;
/** One header value at most; longer ones are cut with an ellipsis. */
export const MAX_STORED_HEADER_VALUE = 2048;
/** An unverified notification's verification explanation, as JSON, at most; beyond, only its gist is kept. */
export const MAX_STORED_EXPLANATION_BYTES = 8 * 1024;
/** Messages of an unverified notification's outcome and evidence. */
export const MAX_STORED_MESSAGE = 1024;
/** Problems listed in an unverified notification's outcome (`errors`). */
export const MAX_STORED_ERRORS = 20;

/** Not a valid header name (parentheses are not token characters), so no request can send it. */
export const HEADERS_CUT_KEY = '(cut)';

const ELLIPSIS = '…';

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}${ELLIPSIS}`;
}

/** A message of an unverified notification's outcome as stored (and logged). */
export function storedMessage(text: string): string {
  return cut(text, MAX_STORED_MESSAGE);
}

/** The body bytes to store: a refused (truncated or oversized) body keeps only its first bytes. */
export function storedBody(
  body: Buffer,
  truncated: boolean,
  maxBytes: number,
): { body: Buffer; truncated: boolean } {
  if (!truncated && body.length <= maxBytes) return { body, truncated };
  return { body: body.subarray(0, REFUSED_BODY_EVIDENCE_BYTES), truncated: true };
}

/**
 * The headers to store: at most `MAX_STORED_HEADERS` lines and `MAX_STORED_HEADER_BYTES`, in received
 * order; when some were left out, `HEADERS_CUT_KEY` says how many of how many were kept.
 */
export function storedHeaders(headers: Record<string, string | string[]>): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {};
  let lines = 0;
  let totalLines = 0;
  let bytes = 0;
  let totalBytes = 0;
  let shortened = false;
  for (const [name, value] of Object.entries(headers)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      totalLines += 1;
      totalBytes += name.length + item.length;
      const text = cut(item, MAX_STORED_HEADER_VALUE);
      const size = name.length + text.length;
      if (lines >= MAX_STORED_HEADERS || bytes + size > MAX_STORED_HEADER_BYTES) continue;
      shortened ||= text !== item;
      lines += 1;
      bytes += size;
      const seen = kept[name];
      kept[name] = seen === undefined ? text : Array.isArray(seen) ? [...seen, text] : [seen, text];
    }
  }
  if (lines < totalLines || shortened) {
    kept[HEADERS_CUT_KEY] =
      `kept ${lines} of ${totalLines} header lines, ${bytes} of ${totalBytes} characters` +
      (shortened ? `; values over ${MAX_STORED_HEADER_VALUE} characters cut` : '');
  }
  return kept;
}

/** An explanation as stored: whole when its JSON fits `MAX_STORED_EXPLANATION_BYTES`, else its gist. */
export function storedVerification(explanation: VerificationExplanation): StoredVerification {
  const explanationBytes = Buffer.byteLength(JSON.stringify(explanation), 'utf8');
  if (explanationBytes <= MAX_STORED_EXPLANATION_BYTES) return explanation;
  const gist: CutVerificationExplanation = {
    source: explanation.source,
    byteLength: explanation.byteLength,
    charset: explanation.charset,
    charsetSource: explanation.charsetSource,
    configuredSignType: explanation.configuredSignType,
    outcome: explanation.outcome,
    summary: cut(explanation.summary, MAX_STORED_MESSAGE),
    cut: {
      explanationBytes,
      limitBytes: MAX_STORED_EXPLANATION_BYTES,
      parameters: explanation.parameterNames.length,
      formIssues: explanation.formIssues.length,
      duplicateNames: explanation.duplicateNames.length,
      hints: explanation.hints.slice(0, 5).map((hint) => cut(hint, 256)),
    },
  };
  return gist;
}

/** An outcome as stored for an unverified notification: messages and problem lists bounded. */
export function storedDetail(detail: InboxOutcomeDetail): InboxOutcomeDetail {
  if (detail.outcome === 'failed') return { ...detail, message: cut(detail.message, MAX_STORED_MESSAGE) };
  if (detail.outcome !== 'rejected') return detail;
  const { errors, ...rest } = detail;
  const bounded = { ...rest, message: cut(detail.message, MAX_STORED_MESSAGE) };
  if (errors === undefined) return bounded;
  return {
    ...bounded,
    errors: errors.slice(0, MAX_STORED_ERRORS).map((error) => ({
      ...error,
      ...(error.field === undefined ? {} : { field: cut(error.field, 256) }),
      message: cut(error.message, 256),
    })),
    ...(errors.length > MAX_STORED_ERRORS ? { errorCount: errors.length } : {}),
  };
}

/** `notify_verify` evidence as stored for an unverified notification: the error message bounded. */
export function storedNotifyVerify(evidence: NotifyVerifyEvidence): NotifyVerifyEvidence {
  if (!('error' in evidence)) return evidence;
  return {
    ...evidence,
    error: { code: cut(evidence.error.code, 64), message: cut(evidence.error.message, MAX_STORED_MESSAGE) },
  };
}
