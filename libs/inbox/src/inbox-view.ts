import {
  decodeBytes,
  decodePairs,
  detectCharset,
  MAX_NOTIFICATION_PARAMETERS,
  parseForm,
  type Charset,
} from '@ledger/alipay-protocol';

// A stored hostile body may hold hundreds of thousands of pairs: what verification would read is all a
// view lists (docs/operations.md, "Hostile input").
const VIEWED_PAIRS = { maxPairs: MAX_NOTIFICATION_PARAMETERS };
import type {
  InboxChannel,
  InboxNotificationView,
  InboxOutcome,
  InboxOutcomeDetail,
  NotifyVerifyEvidence,
  StoredVerification,
} from './inbox-notification';

/** The columns every inbox read selects, the body cut to `bodyBytes` when given (lists). */
export function inboxColumns(bodyBytes?: number): string {
  const body =
    bodyBytes === undefined ? 'raw_body' : `substring(raw_body from 1 for ${bodyBytes}) AS raw_body`;
  return `id, channel, received_at, remote_address, method, path, headers, content_type, ${body},
    octet_length(raw_body) AS byte_length, received_bytes, body_truncated, notify_id, notify_type,
    out_trade_no, trade_no, batch_no, verification, notify_verify, verified, outcome, outcome_detail,
    processed_at`;
}

/** One inbox row as the driver returns it. */
export interface InboxRow {
  id: string | number;
  channel: InboxChannel;
  received_at: Date;
  remote_address: string | null;
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  content_type: string | null;
  raw_body: Buffer;
  byte_length: string | number;
  received_bytes: string | number;
  body_truncated: boolean;
  notify_id: string | null;
  notify_type: string | null;
  out_trade_no: string | null;
  trade_no: string | null;
  batch_no: string | null;
  verification: StoredVerification | null;
  notify_verify: NotifyVerifyEvidence | null;
  verified: boolean | null;
  outcome: InboxOutcome;
  outcome_detail: InboxOutcomeDetail | null;
  processed_at: Date | null;
}

/**
 * The charset a stored body is read in: the one verification chose (it saw the same bytes and header),
 * else the same choice made again (a row rejected before verification).
 */
export function charsetOfRow(row: InboxRow, defaultCharset: Charset): Charset {
  if (row.verification !== null) return row.verification.charset;
  return detectCharset(
    parseForm(row.raw_body, VIEWED_PAIRS).pairs,
    row.content_type ?? undefined,
    defaultCharset,
  ).charset;
}

/** A row for reading: the bytes decoded in their charset (never re-encoded), with base64 when whole. */
export function toInboxView(
  row: InboxRow,
  defaultCharset: Charset,
  options: { whole: boolean },
): InboxNotificationView {
  const charset = charsetOfRow(row, defaultCharset);
  const byteLength = Number(row.byte_length);
  return {
    id: Number(row.id),
    channel: row.channel,
    receivedAt: row.received_at.toISOString(),
    remoteAddress: row.remote_address,
    method: row.method,
    path: row.path,
    headers: row.headers,
    contentType: row.content_type,
    body: {
      byteLength,
      receivedBytes: Number(row.received_bytes),
      truncated: row.body_truncated,
      charset,
      text: decodeBytes(row.raw_body, charset),
      // A query answer is XML, not a form.
      params:
        row.channel === 'query' ? [] : decodePairs(parseForm(row.raw_body, VIEWED_PAIRS).pairs, charset),
      shortened: row.raw_body.length < byteLength,
      ...(options.whole ? { base64: row.raw_body.toString('base64') } : {}),
    },
    notifyId: row.notify_id,
    notifyType: row.notify_type,
    outTradeNo: row.out_trade_no,
    tradeNo: row.trade_no,
    batchNo: row.batch_no,
    verified: row.verified,
    verification: row.verification,
    notifyVerify: row.notify_verify,
    outcome: row.outcome,
    outcomeDetail: row.outcome_detail,
    processedAt: row.processed_at === null ? null : row.processed_at.toISOString(),
  };
}
