import type {
  Charset,
  CharsetSource,
  ProtocolError,
  QueryVerification,
  SignType,
  TextParam,
  VerificationExplanation,
  VerificationReason,
  VerificationSource,
} from '@ledger/alipay-protocol';

/**
 * Where a notification came in: `notify` (POST notify_url), `return` (the buyer's GET return_url, its raw
 * query string as the body) or `refund_notify` (POST of a batch refund result, docs/operations.md,
 * "What happens to a notification"); `query`: the XML answer of the ledger's own `single_trade_query`
 * (docs/operations.md, "Reconciliation"); `import`: read back from a PHP integration's log
 * (docs/operations.md, "Importing a PHP integration's history").
 */
export type InboxChannel = 'notify' | 'return' | 'refund_notify' | 'query' | 'import';

export const INBOX_CHANNELS: readonly InboxChannel[] = [
  'notify',
  'return',
  'refund_notify',
  'query',
  'import',
];

/**
 * How the processing of one notification ended. `received`: stored, not finished yet (or interrupted by a
 * crash until the recovery marks it `failed`); `rejected`: not genuine or not usable (answered `fail`);
 * `applied`: events appended; `no_new_fact`: genuine, nothing new (a duplicate, a stale status);
 * `failed`: could not be finished (gateway unreachable, database error; answered `fail` so Alipay retries).
 */
export type InboxOutcome = 'received' | 'rejected' | 'applied' | 'no_new_fact' | 'failed';

export const INBOX_OUTCOMES: readonly InboxOutcome[] = [
  'received',
  'rejected',
  'applied',
  'no_new_fact',
  'failed',
];

/**
 * The answer of `notify_verify` for the notification's `notify_id` (docs/alipay-protocol.md,
 * "notify_verify"), kept as evidence.
 */
export type NotifyVerifyEvidence =
  | {
      /** `true`: Alipay confirmed the notify_id; `false`: it did not (its body is in `body`). */
      answer: boolean;
      /** The gateway's reply body, trimmed (`true`, `false`, `invalid`...). */
      body: string;
      latencyMs: number;
      checkedAt: string;
    }
  | {
      /** The gateway could not be asked: the notification was answered `fail` so that Alipay retries. */
      answer: null;
      error: { code: string; message: string };
      latencyMs: number;
      checkedAt: string;
    }
  | {
      /** Not asked: `ALIPAY_VERIFY_NOTIFY_ID=false`, or the notify_id was already processed (it dies once
       * answered `success`, so asking again would wrongly say `false`), or `imported`: read from an old log,
       * its notify_id long dead. */
      answer: null;
      skipped: 'disabled' | 'already_processed' | 'imported';
      checkedAt: string;
    };

/** Why a notification was rejected (answered `fail`, nothing appended). */
export type RejectionReason =
  /** More than the 1 MiB the edge accepts: refused unread, or once the cap was reached; 64 KiB kept at most. */
  | 'body_too_large'
  /** The signature did not verify; `verification.outcome` says why. */
  | 'signature'
  /** `notify_verify` did not answer `true`: Alipay does not know this notify_id. */
  | 'notify_verify'
  /** Signed, but its parameters do not parse (`errors`). */
  | 'malformed'
  /** A `notify_type` this channel does not handle (e.g. a batch refund result sent to notify_url). */
  | 'unexpected_notify_type'
  /** An `out_trade_no` that no order stream can have (docs/events.md, "Streams"). */
  | 'invalid_out_trade_no'
  /**
   * A query answered `TRADE_IS_NOT_EXIST`: unsigned, it proves nothing and closes nothing
   * (docs/operations.md, "Reconciliation").
   */
  | 'trade_not_found'
  /** A query's verified trade names another order than the one asked about. */
  | 'unexpected_trade';

/** Why processing could not be finished (answered `fail`: Alipay retries with the same notify_id). */
export type FailureReason =
  /** `notify_verify` could not be asked (timeout, connection refused, 5xx). */
  | 'notify_verify_unavailable'
  /** The database refused or lost the transaction. */
  | 'database'
  /** The process stopped while the notification was being processed; found by the recovery sweep. */
  | 'interrupted'
  /** Anything else that was thrown. */
  | 'internal';

/** An event a notification appended, as recorded on its inbox row. */
export interface AppendedEventRef {
  type: string;
  /** Its version in the stream. */
  version: number;
}

/** What `outcome_detail` holds, by outcome. */
export type InboxOutcomeDetail =
  | {
      outcome: 'rejected';
      reason: RejectionReason;
      message: string;
      /** `malformed`: every problem, each naming its parameter (the first 20 when not verified). */
      errors?: readonly ProtocolError[];
      /** How many problems there were, when `errors` lists only the first ones. */
      errorCount?: number;
      /** `body_too_large`: the Content-Length the sender declared, when it declared one. */
      declaredBytes?: number;
    }
  | {
      outcome: 'applied';
      streamId: string;
      transactionId: string;
      /** Global positions of the first and last appended events. */
      firstPosition: number;
      lastPosition: number;
      events: readonly AppendedEventRef[];
      /** Set when a replay, not the delivery itself, appended the events. */
      replayedAt?: string;
    }
  | {
      outcome: 'no_new_fact';
      streamId?: string;
      /** `duplicate`: the notify_id was processed before (by `duplicateOf`); `stale`: the order knew it all. */
      reason: 'duplicate' | 'stale';
      duplicateOf?: number;
    }
  | {
      outcome: 'failed';
      reason: FailureReason;
      message: string;
    };

type EndedOutcome = Exclude<InboxOutcome, 'received'>;
type NoNewFactReason = Extract<InboxOutcomeDetail, { outcome: 'no_new_fact' }>['reason'];

// Written as records of the unions, so that the compiler finds a reason added to one of them.
const NO_NEW_FACT_REASONS: Record<NoNewFactReason, true> = { duplicate: true, stale: true };
const REJECTION_REASONS: Record<RejectionReason, true> = {
  body_too_large: true,
  signature: true,
  notify_verify: true,
  malformed: true,
  unexpected_notify_type: true,
  invalid_out_trade_no: true,
  trade_not_found: true,
  unexpected_trade: true,
};
const FAILURE_REASONS: Record<FailureReason, true> = {
  notify_verify_unavailable: true,
  database: true,
  interrupted: true,
  internal: true,
};

/**
 * Every way a notification's processing can end, as its row records it: the outcome, and the reason its
 * detail gives (none for `applied`). What counts the endings (the metrics) starts each at zero.
 */
export const INBOX_ENDINGS: readonly { outcome: EndedOutcome; reason: string }[] = [
  { outcome: 'applied', reason: '' },
  ...Object.keys(NO_NEW_FACT_REASONS).map((reason) => ({ outcome: 'no_new_fact' as const, reason })),
  ...Object.keys(REJECTION_REASONS).map((reason) => ({ outcome: 'rejected' as const, reason })),
  ...Object.keys(FAILURE_REASONS).map((reason) => ({ outcome: 'failed' as const, reason })),
];

/**
 * What is kept of an unverified notification's explanation when its JSON is larger than the store keeps
 * (docs/operations.md, "Bounded storage"): its outcome, summary and sizes.
 */
export interface CutVerificationExplanation {
  readonly source: VerificationSource;
  readonly byteLength: number;
  readonly charset: Charset;
  readonly charsetSource: CharsetSource;
  readonly configuredSignType: SignType;
  readonly outcome: VerificationReason;
  readonly summary: string;
  readonly cut: {
    /** The size of the whole explanation's JSON. */
    readonly explanationBytes: number;
    readonly limitBytes: number;
    readonly parameters: number;
    readonly formIssues: number;
    readonly duplicateNames: number;
    /** The first hints, shortened. */
    readonly hints: readonly string[];
  };
}

/**
 * A verification explanation as the inbox keeps it: whole, or cut for an unverified notification; for a
 * `query` row, the check of the answer's signature (bounded by the protocol).
 */
export type StoredVerification = VerificationExplanation | CutVerificationExplanation | QueryVerification;

/** One stored notification as the admin API shows it: the raw bytes decoded for reading, and the evidence. */
export interface InboxNotificationView {
  /** The inbox id: the `causationId` of every event the notification caused. */
  id: number;
  channel: InboxChannel;
  /** ISO 8601, UTC. */
  receivedAt: string;
  remoteAddress: string | null;
  method: string;
  path: string;
  /** Header names in lower case; a header sent more than once has every value, in order. */
  headers: Record<string, string | string[]>;
  contentType: string | null;
  body: {
    /** Bytes kept (at most the 1 MiB the edge accepts; at most 64 KiB of a refused body). */
    byteLength: number;
    /** Bytes that arrived; more than `byteLength` when the body was cut. */
    receivedBytes: number;
    truncated: boolean;
    /** The charset the text and parameters are read in: verification's choice, else the configured one. */
    charset: Charset;
    /** The raw bytes as text (never re-encoded; invalid bytes show as U+FFFD). */
    text: string;
    /** The parameters once percent-decoded, in received order; at most the 200 verification reads. */
    params: readonly TextParam[];
    /** `text` and `params` come from the first 4 KiB only (lists): `InboxQueries.get` reads all of it. */
    shortened: boolean;
    /** The exact bytes, base64 (only from `InboxQueries.get`). */
    base64?: string;
  };
  notifyId: string | null;
  notifyType: string | null;
  outTradeNo: string | null;
  tradeNo: string | null;
  batchNo: string | null;
  /** `true`: signature and notify_verify passed; `false`: either refused it; `null`: not (yet) known. */
  verified: boolean | null;
  /** The protocol's explanation of the signature check (which key matched, what was signed...); its gist
   * only (`cut`) for an unverified notification whose explanation was large. */
  verification: StoredVerification | null;
  notifyVerify: NotifyVerifyEvidence | null;
  outcome: InboxOutcome;
  outcomeDetail: InboxOutcomeDetail | null;
  processedAt: string | null;
}

/** Filters of `InboxQueries.list`; all optional, combined with AND. */
export interface InboxFilters {
  outTradeNo?: string;
  tradeNo?: string;
  notifyId?: string;
  batchNo?: string;
  channel?: InboxChannel;
  outcome?: InboxOutcome;
  verified?: boolean;
  /** Received at or after. */
  receivedFrom?: Date;
  /** Received strictly before. */
  receivedTo?: Date;
}

export interface InboxPageRequest {
  /** From a previous page's `nextCursor`. */
  cursor?: string;
  /** 1 to `MAX_INBOX_PAGE_SIZE`; default `DEFAULT_INBOX_PAGE_SIZE`. */
  limit?: number;
}

/** Newest first. `nextCursor` is null on the last page. */
export interface InboxPage {
  items: InboxNotificationView[];
  nextCursor: string | null;
}

export const DEFAULT_INBOX_PAGE_SIZE = 20;
export const MAX_INBOX_PAGE_SIZE = 100;
