import { randomBytes, randomInt } from 'node:crypto';
import {
  formatBeijingCompactDate,
  type Charset,
  type RefundDetail,
  type RefundResult,
  type RefundService,
  type SignType,
  type TextParam,
} from '@ledger/alipay-protocol';
import type { Trade } from '../trades/trade';

// The sandbox's whole state, in memory (docs/sandbox.md says why that is enough): trades, refund batches,
// the notifications sent with every delivery attempt, and the notify_ids `notify_verify` answers for.

export interface RefundBatch {
  readonly partner: string;
  readonly batchNo: string;
  readonly service: RefundService;
  readonly charset: Charset;
  readonly signType: SignType;
  readonly refundDate: Date;
  readonly records: readonly RefundDetail[];
  readonly notifyUrl?: string;
  /** pwd batches wait for the merchant's confirmation on the sandbox's page. */
  readonly state: 'awaiting_confirmation' | 'processed' | 'cancelled';
  readonly receivedAt: Date;
  readonly processedAt?: Date;
  readonly results?: readonly RefundResult[];
  readonly successNum?: number;
}

export type NotificationKind = 'trade_status_sync' | 'batch_refund_notify';

/**
 * `held`: kept back by the reordering chaos; `scheduled`: waiting for its next attempt; `acknowledged`: the
 * merchant answered `success`; `abandoned`: the retry schedule ran out.
 */
export type NotificationState = 'held' | 'scheduled' | 'acknowledged' | 'abandoned';

/** One POST of a notification to the merchant and what came back. */
export interface DeliveryAttempt {
  readonly at: Date;
  /** 0 for the first delivery, then one per retry of the schedule. */
  readonly round: number;
  /** 1, or up to `duplicates` when the chaos sends copies. */
  readonly copy: number;
  readonly httpStatus?: number;
  /** The reply body (its first 500 characters). */
  readonly reply?: string;
  /** Why no reply came (refused connection, timeout). */
  readonly error?: string;
  readonly acknowledged: boolean;
}

/** A notification the sandbox sends, with its delivery history. Mutable: the notifier keeps it current. */
export interface SandboxNotification {
  readonly id: string;
  readonly notifyId: string;
  readonly kind: NotificationKind;
  readonly partner: string;
  readonly url: string;
  readonly charset: Charset;
  readonly signType: SignType;
  /** The parameters without notify_time (set at each attempt), sign and sign_type. */
  readonly params: readonly TextParam[];
  readonly tradeNo?: string;
  readonly outTradeNo?: string;
  readonly batchNo?: string;
  readonly tradeStatus?: string;
  readonly refundStatus?: string;
  /** What the chaos did to it: `stale`, `finished-after-refund`, `duplicated`, `reordered`, `delayed`. */
  readonly tags: string[];
  readonly createdAt: Date;
  state: NotificationState;
  /** The round of the next attempt. */
  round: number;
  nextAttemptAt?: Date;
  /** Delivery order among notifications due at the same time. */
  seq: number;
  readonly attempts: DeliveryAttempt[];
  acknowledgedAt?: Date;
}

interface NotifyIdEntry {
  readonly partner: string;
  /**
   * A return_url's id lives about a minute (docs/alipay-protocol.md, "notify_verify"); a notification's until
   * `success`.
   */
  readonly expiresAt?: Date;
  dead: boolean;
}

export interface TradeFilter {
  readonly partner?: string;
  readonly outTradeNo?: string;
}

export interface NotificationFilter {
  readonly tradeNo?: string;
  readonly outTradeNo?: string;
  readonly batchNo?: string;
  readonly state?: NotificationState;
}

const orderKey = (partner: string, outTradeNo: string) => `${partner}\u0000${outTradeNo}`;

/** In-memory state of one sandbox instance. */
export class SandboxStore {
  private readonly trades = new Map<string, Trade>();
  private readonly tradeNoByOrder = new Map<string, string>();
  private readonly batches = new Map<string, RefundBatch>();
  private readonly notifications = new Map<string, SandboxNotification>();
  private readonly notifyIds = new Map<string, NotifyIdEntry>();
  private notificationCount = 0;

  /**
   * A fresh 28-digit trade_no shaped like Alipay's (`2014040311001004370000361525`): the Beijing date, then
   * random digits, so that a restarted sandbox does not hand out numbers a ledger has already seen.
   */
  newTradeNo(now: Date): string {
    for (;;) {
      const random = Array.from({ length: 12 }, () => randomInt(10)).join('');
      const tradeNo = `${formatBeijingCompactDate(now)}21001004${random}`;
      if (!this.trades.has(tradeNo)) return tradeNo;
    }
  }

  /** A notify_id shaped like a notification's (`86742cf72c3edb4f2818e67799d873cmva`). */
  newNotifyId(): string {
    return `${randomBytes(15).toString('hex')}mva`;
  }

  /**
   * A return_url notify_id as Alipay signs it: base64 characters with `/`, `+` and `=` percent-encoded once
   * (`RqPnCoPT3K9%2Fvwbh…`); the query then encodes it again (docs/alipay-protocol.md, "Decoding pitfalls").
   */
  newReturnNotifyId(): string {
    for (;;) {
      const raw = randomBytes(54).toString('base64');
      // Every id carries an escape, so that a merchant that decodes it twice is found out at once.
      if (/[/+]/.test(raw))
        return raw.replace(/[/+=]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    }
  }

  addTrade(trade: Trade): void {
    this.trades.set(trade.tradeNo, trade);
    this.tradeNoByOrder.set(orderKey(trade.partner, trade.terms.outTradeNo), trade.tradeNo);
  }

  /** Replaces a trade by a later version of itself. */
  saveTrade(trade: Trade): void {
    this.trades.set(trade.tradeNo, trade);
  }

  trade(tradeNo: string): Trade | undefined {
    return this.trades.get(tradeNo);
  }

  tradeByOrder(partner: string, outTradeNo: string): Trade | undefined {
    const tradeNo = this.tradeNoByOrder.get(orderKey(partner, outTradeNo));
    return tradeNo === undefined ? undefined : this.trades.get(tradeNo);
  }

  listTrades(filter: TradeFilter = {}): Trade[] {
    return [...this.trades.values()].filter(
      (trade) =>
        (filter.partner === undefined || trade.partner === filter.partner) &&
        (filter.outTradeNo === undefined || trade.terms.outTradeNo === filter.outTradeNo),
    );
  }

  saveBatch(batch: RefundBatch): void {
    this.batches.set(orderKey(batch.partner, batch.batchNo), batch);
  }

  batch(partner: string, batchNo: string): RefundBatch | undefined {
    return this.batches.get(orderKey(partner, batchNo));
  }

  listBatches(partner?: string): RefundBatch[] {
    return [...this.batches.values()].filter((batch) => partner === undefined || batch.partner === partner);
  }

  /** Registers a notification (its id is assigned here) and makes its notify_id valid. */
  addNotification(
    notification: Omit<SandboxNotification, 'id' | 'seq' | 'attempts' | 'round' | 'state'> & {
      state: NotificationState;
    },
  ): SandboxNotification {
    this.notificationCount += 1;
    const stored: SandboxNotification = {
      ...notification,
      id: `N${String(this.notificationCount).padStart(6, '0')}`,
      seq: this.notificationCount,
      round: 0,
      attempts: [],
    };
    this.notifications.set(stored.id, stored);
    this.notifyIds.set(stored.notifyId, { partner: stored.partner, dead: false });
    return stored;
  }

  notification(id: string): SandboxNotification | undefined {
    return this.notifications.get(id);
  }

  listNotifications(filter: NotificationFilter = {}): SandboxNotification[] {
    return [...this.notifications.values()].filter(
      (n) =>
        (filter.tradeNo === undefined || n.tradeNo === filter.tradeNo) &&
        (filter.outTradeNo === undefined || n.outTradeNo === filter.outTradeNo) &&
        (filter.batchNo === undefined || n.batchNo === filter.batchNo) &&
        (filter.state === undefined || n.state === filter.state),
    );
  }

  /** The trade_status_sync notifications of a trade, oldest first. */
  tradeNotifications(tradeNo: string): SandboxNotification[] {
    return this.listNotifications({ tradeNo }).filter((n) => n.kind === 'trade_status_sync');
  }

  registerReturnNotifyId(notifyId: string, partner: string, expiresAt: Date): void {
    this.notifyIds.set(canonicalNotifyId(notifyId), { partner, expiresAt, dead: false });
  }

  /** After `success`, Alipay answers `false` for the notify_id (docs/alipay-protocol.md, "notify_verify"). */
  killNotifyId(notifyId: string): void {
    const entry = this.notifyIds.get(notifyId);
    if (entry !== undefined) entry.dead = true;
  }

  /** `notify_verify`: whether the id is one this sandbox sent to this partner, and still alive. */
  isNotifyIdValid(partner: string, notifyId: string, now: Date): boolean {
    const entry = this.notifyIds.get(notifyId) ?? this.notifyIds.get(canonicalNotifyId(notifyId));
    if (entry === undefined || entry.dead || entry.partner !== partner) return false;
    return entry.expiresAt === undefined || now.getTime() <= entry.expiresAt.getTime();
  }
}

/**
 * A return_url notify_id in one spelling whatever the merchant did with it: the official demos pass the
 * once-decoded value (`%2F` kept), others decode it again (`/`), or turn a `+` into a space
 * (docs/alipay-protocol.md, "notify_verify"). Which one Alipay expects is not confirmed
 * (docs/alipay-protocol.md, "Open questions", 3), so the sandbox accepts all of them.
 */
export function canonicalNotifyId(notifyId: string): string {
  let id = notifyId.replace(/ /g, '+');
  while (/%[0-9A-Fa-f]{2}/.test(id)) {
    id = id.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
  return id;
}
