import type { LoggerService } from '@nestjs/common';
import { formatBeijingTime, type SigningKey, type SignType } from '@ledger/alipay-protocol';
import type {
  DeliveryAttempt,
  NotificationState,
  SandboxNotification,
  SandboxStore,
} from '../store/sandbox-store';
import type { ChaosControl } from './chaos-control';
import type { DeliveryReply, Transport } from './http-transport';
import { notificationContentType, signAndEncode } from './notification-params';

// Delivery as Alipay's notifier does it (docs/alipay-protocol.md, "Reply and retries"): the first attempt at
// once, then the retry schedule until the merchant answers exactly `success`; the notify_id is the same on
// every attempt and dies with `success`. The chaos switches act here: copies of a first delivery, a delay,
// and holding notifications to send them newest first.

/** A notification to send, as the trade or batch logic builds it. */
export type NotificationDraft = Omit<
  SandboxNotification,
  'id' | 'seq' | 'attempts' | 'round' | 'state' | 'createdAt' | 'nextAttemptAt' | 'acknowledgedAt'
>;

export interface NotifierDependencies {
  readonly store: SandboxStore;
  readonly chaos: ChaosControl;
  readonly clock: () => Date;
  /** Milliseconds of Alipay time between attempts. */
  readonly retrySchedule: readonly number[];
  readonly timeScale: number;
  readonly transport: Transport;
  readonly keyFor: (partner: string, signType: SignType) => SigningKey;
  readonly deliveryTimeoutMs: number;
  /** Deliver on timers; off in unit tests, which call `deliverDue` themselves. */
  readonly autoDeliver: boolean;
  readonly logger?: LoggerService;
}

/**
 * Exactly `success` (a trailing newline, as the Java demo's println sends, is tolerated:
 * docs/alipay-protocol.md, "Reply and retries").
 */
export function isSuccessReply(reply: DeliveryReply): boolean {
  return 'status' in reply && /^success(?:\r?\n)?$/.test(reply.body);
}

/** An attempt made by a run of the notifier, with the notification it belongs to. */
export interface MadeAttempt extends DeliveryAttempt {
  readonly notificationId: string;
  readonly notifyId: string;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Sends notifications and keeps their delivery history in the store. */
export class Notifier {
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly stopping = new AbortController();

  constructor(private readonly deps: NotifierDependencies) {}

  /**
   * Registers a notification and schedules its first delivery: now, or after the chaos delay, or held by the
   * reordering chaos until enough others are waiting; with `dropNotifications`, never.
   */
  enqueue(draft: NotificationDraft): SandboxNotification {
    const { chaos, store, clock } = this.deps;
    if (chaos.settings.dropNotifications === true) {
      return store.addNotification({
        ...draft,
        tags: [...draft.tags, 'dropped'],
        createdAt: clock(),
        state: 'abandoned',
      });
    }
    const window = chaos.settings.reorderWindow ?? 0;
    const delayMs = chaos.settings.delayMs ?? 0;
    const now = clock();
    const held = window > 1;
    const tags = [...draft.tags, ...(held ? ['held'] : []), ...(delayMs > 0 ? ['delayed'] : [])];
    const notification = store.addNotification({
      ...draft,
      tags,
      createdAt: now,
      state: held ? 'held' : 'scheduled',
      ...(held ? {} : { nextAttemptAt: new Date(now.getTime() + delayMs) }),
    });
    if (held && store.listNotifications({ state: 'held' }).length >= window) this.releaseHeld();
    this.arm();
    return notification;
  }

  /** Releases held notifications, newest first (the reordering chaos). */
  releaseHeld(): void {
    const now = this.deps.clock().getTime();
    const delayMs = this.deps.chaos.settings.delayMs ?? 0;
    for (const notification of this.deps.store.listNotifications({ state: 'held' })) {
      notification.state = 'scheduled';
      notification.nextAttemptAt = new Date(now + delayMs);
      // Among notifications due at the same instant the lower seq goes first: the newest now does.
      notification.seq = -Math.abs(notification.seq);
    }
    this.arm();
  }

  /** Delivers every notification that is due (one run at a time); resolves with the attempts made. */
  deliverDue(): Promise<MadeAttempt[]> {
    const run = this.chain.then(() => this.runDue());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Delivers what is due now; with `all`, first makes every pending notification due (held ones released,
   * retries brought forward), as if the schedule had run its course up to the next attempt of each.
   */
  async flush(options: { all?: boolean } = {}): Promise<MadeAttempt[]> {
    if (options.all === true) {
      this.releaseHeld();
      const now = this.deps.clock().getTime();
      for (const notification of this.deps.store.listNotifications({ state: 'scheduled' })) {
        if ((notification.nextAttemptAt?.getTime() ?? now) > now) notification.nextAttemptAt = new Date(now);
      }
    }
    return this.deliverDue();
  }

  /** Stops the timers, cuts the deliveries in progress short and waits for them to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.chain;
  }

  private async runDue(): Promise<MadeAttempt[]> {
    const attempts: MadeAttempt[] = [];
    try {
      while (!this.stopped) {
        const now = this.deps.clock().getTime();
        const due = this.deps.store
          .listNotifications({ state: 'scheduled' })
          .filter((n) => (n.nextAttemptAt?.getTime() ?? Infinity) <= now)
          .sort((a, b) => a.nextAttemptAt!.getTime() - b.nextAttemptAt!.getTime() || a.seq - b.seq);
        if (due.length === 0) break;
        for (const notification of due) {
          if (this.stopped) break;
          if (notification.state !== 'scheduled') continue;
          const { id: notificationId, notifyId } = notification;
          for (const made of await this.attempt(notification))
            attempts.push({ ...made, notificationId, notifyId });
        }
      }
    } finally {
      this.arm();
    }
    return attempts;
  }

  private async attempt(notification: SandboxNotification): Promise<DeliveryAttempt[]> {
    const { clock, chaos, transport, retrySchedule, timeScale, store } = this.deps;
    const round = notification.round;
    const at = clock();
    // docs/alipay-protocol.md, "notify_id" (inferred): each attempt is signed anew with its own notify_time;
    // the notify_id stays.
    const form = signAndEncode(
      [{ name: 'notify_time', value: formatBeijingTime(at) }, ...notification.params],
      notification.charset,
      this.deps.keyFor(notification.partner, notification.signType),
    );
    if (!form.ok) {
      this.deps.logger?.error(
        `notification ${notification.id} cannot be signed: ${form.errors.map((e) => e.message).join('; ')}`,
        'Notifier',
      );
      this.settle(notification, 'abandoned');
      return [];
    }
    const copies = round === 0 ? Math.max(1, chaos.settings.duplicates ?? 1) : 1;
    if (copies > 1 && !notification.tags.includes('duplicated')) notification.tags.push('duplicated');
    const delivery = {
      url: notification.url,
      body: Buffer.from(form.value.text, 'latin1'),
      contentType: notificationContentType(notification.charset),
      timeoutMs: this.deps.deliveryTimeoutMs,
      signal: this.stopping.signal,
    };
    // Copies go out together: the race of two deliveries a few hundred ms apart (docs/alipay-protocol.md,
    // "Order of arrival").
    const replies = await Promise.all(Array.from({ length: copies }, () => transport(delivery)));
    const made = replies.map((reply, index) => attemptOf(at, round, index + 1, reply));
    notification.attempts.push(...made);
    const acknowledged = made.some((a) => a.acknowledged);
    this.deps.logger?.log(
      `${notification.id} ${notification.kind} ${notification.tradeStatus ?? notification.batchNo ?? ''} → ` +
        `${notification.url} round ${round}: ${made.map((a) => a.error ?? JSON.stringify(a.reply)).join(', ')}`,
      'Notifier',
    );
    if (acknowledged) {
      notification.acknowledgedAt = clock();
      this.settle(notification, 'acknowledged');
      store.killNotifyId(notification.notifyId);
    } else if (round < retrySchedule.length) {
      notification.round = round + 1;
      notification.nextAttemptAt = new Date(at.getTime() + retrySchedule[round] / timeScale);
    } else {
      this.settle(notification, 'abandoned');
    }
    return made;
  }

  private settle(notification: SandboxNotification, state: Exclude<NotificationState, 'held' | 'scheduled'>) {
    notification.state = state;
    notification.nextAttemptAt = undefined;
  }

  private arm(): void {
    if (!this.deps.autoDeliver || this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.deps.store
      .listNotifications({ state: 'scheduled' })
      .reduce((earliest, n) => Math.min(earliest, n.nextAttemptAt?.getTime() ?? Infinity), Infinity);
    if (next === Infinity) return;
    const wait = Math.min(Math.max(0, next - this.deps.clock().getTime()), MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.deliverDue();
    }, wait);
    this.timer.unref();
  }
}

function attemptOf(at: Date, round: number, copy: number, reply: DeliveryReply): DeliveryAttempt {
  return 'status' in reply
    ? {
        at,
        round,
        copy,
        httpStatus: reply.status,
        reply: reply.body.slice(0, 500),
        acknowledged: isSuccessReply(reply),
      }
    : { at, round, copy, error: reply.error, acknowledged: false };
}
