import type { OrderState } from '@ledger/domain';
import type { GlobalCheckpoint } from '@ledger/event-store';
import type { InboxChannel, InboxOutcome, InboxOutcomeDetail } from './inbox-notification';

/**
 * The most a notification body (or return_url query) may weigh; a larger one is refused with 413 before it
 * is buffered, and only its first 64 KiB are kept (docs/operations.md, "Bounded storage").
 */
export const MAX_NOTIFICATION_BYTES = 1024 * 1024;

/** A notification exactly as it reached the HTTP edge, before anything interpreted it. */
export interface RawNotification {
  /** `notify` and `refund_notify`: a POST body; `return`: the buyer's GET with its query as the body. */
  channel: InboxChannel;
  receivedAt: Date;
  remoteAddress?: string;
  method: string;
  /** The path without the query string. */
  path: string;
  /** Header names in lower case; repeated headers keep every value in order. */
  headers: Record<string, string | string[]>;
  contentType?: string;
  /** The body bytes (POST), or the raw query string's bytes without `?` (GET return_url). */
  body: Buffer;
  /** Bytes that arrived: more than `body.length` when the body was cut at `MAX_NOTIFICATION_BYTES`. */
  receivedBytes: number;
  /** The Content-Length the sender declared, when it declared one. */
  declaredBytes?: number;
  /** The body is not all there: refused at the cap, or unread because its declared size is over it. */
  truncated: boolean;
  /**
   * The identifiers the row is filed under, when the body is not a form to read them from (a `query` row's
   * XML): the order and trade asked about.
   */
  identifiers?: { out_trade_no?: string; trade_no?: string };
}

/**
 * Asks Alipay's `notify_verify` whether it sent `notifyId` (docs/alipay-protocol.md, "notify_verify").
 * Resolves with the answer (`genuine` only for the body `true`); rejects when the gateway cannot be asked
 * (timeout, refused, 5xx), which makes the notification `failed` and answered `fail` so that Alipay retries.
 */
export type NotifyIdCheck = (notifyId: string) => Promise<{ genuine: boolean; body: string }>;

/** Injection token of the `NotifyIdCheck` the application wires to the gateway client. */
export const NOTIFY_ID_CHECK = Symbol('NOTIFY_ID_CHECK');

/**
 * What the notify edge answers Alipay (docs/alipay-protocol.md, "Reply and retries"): exactly `success`, or
 * anything else to be retried.
 */
export type NotificationReply = 'success' | 'fail';

/** The end of one notification's processing. */
export interface IngestResult {
  /** Absent only when the inbox itself could not store the notification (the database is down). */
  inboxId?: number;
  outcome: Exclude<InboxOutcome, 'received'>;
  /** `success` only once the notification's row, key and events have committed. */
  reply: NotificationReply;
  detail: InboxOutcomeDetail;
  /** Present when events were appended: wait for the projections to pass it before replying. */
  checkpoint?: GlobalCheckpoint;
  /** The order the notification is about, when it was genuine and named one (the buyer's return page). */
  order?: { outTradeNo: string; state: OrderState };
}
