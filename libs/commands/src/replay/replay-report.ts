/** Which stored notifications a replay runs: all, those received in `[from, to)`, or these inbox ids. */
export type ReplaySelection = { all: true } | { from: Date; to: Date } | { ids: readonly number[] };

export interface ReplayOptions {
  /** Decide without writing: report the events that would be appended. */
  dryRun?: boolean;
  /** Called after each page of notifications: how many were selected so far, and how many in all. */
  onProgress?: (done: number, total: number) => void;
}

/** Why a selected notification was not run again. */
export type ReplaySkipReason =
  /** Not proven genuine: signature refused, `notify_verify` said no or was never answered. */
  | 'not_verified'
  /** Today's code cannot read it (it was rejected as malformed or for its notify_type). */
  | 'unreadable'
  /** A `single_trade_query` answer: reconciling asks Alipay again instead (docs/operations.md, "Reconciliation"). */
  | 'query_answer';

/** The events one order got (or would get) from the replay, in order. */
export interface ReplayedOrder {
  outTradeNo: string;
  streamId: string;
  events: { inboxId: number; type: string; data: unknown; version: number }[];
}

/** The events one refund batch got (or would get) from replayed `batch_refund_notify`s, in order. */
export interface ReplayedBatch {
  batchNo: string;
  streamId: string;
  events: { inboxId: number; type: string; data: unknown; version: number }[];
}

/**
 * What a replay did. Running stored notifications again through the deciders appends nothing for those
 * already applied (each notify_id is applied once, docs/events.md), so a second replay reports no events.
 */
export interface ReplayReport {
  dryRun: boolean;
  /** Notifications selected. */
  selected: number;
  /** Notifications run through today's code. */
  replayed: number;
  skipped: { inboxId: number; reason: ReplaySkipReason }[];
  /** Events appended (or, dry, that would be), in all. */
  events: number;
  /** Only orders that got events (from trade notifications, and from the records of refund results). */
  orders: ReplayedOrder[];
  /** Only refund batches that got events. */
  batches: ReplayedBatch[];
  durationMs: number;
}
