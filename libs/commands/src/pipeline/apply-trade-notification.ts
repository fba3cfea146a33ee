import type { TextParam } from '@ledger/alipay-protocol';
import { orderStreamId, type RecordTradeStatus } from '@ledger/domain';
import { withAppendRetry, type EventStore } from '@ledger/event-store';
import type { LedgerLogger } from '@ledger/platform';
import type { DataSource } from 'typeorm';
import type { InboxChannel, InboxOutcomeDetail } from '../inbox/inbox-notification';
import type { InboxStore, PendingAppliedDetail } from '../inbox/inbox-store';
import {
  appendDecision,
  appendedDecision,
  decideOnOrderStream,
  expectedVersionOf,
  newEventsOf,
  foldOrderStream,
  loadAndDecide,
  type OrderDecision,
} from '../orders/order-stream-writer';
import {
  APPLY_ATTEMPTS,
  finishAsDuplicate,
  replayNotification,
  type CommandReading,
  type NotificationChannel,
  type NotificationEvidence,
} from './notification-channel';
import type { IngestResult } from './raw-notification';
import { readTradeCommand } from './trade-command';

/** How a verified trade notification was applied to its order. */
export interface AppliedTradeNotification {
  outcome: 'applied' | 'no_new_fact';
  detail: InboxOutcomeDetail;
  /** Absent when another delivery of the same notify_id holds the key (nothing was decided). */
  decision?: OrderDecision;
}

/** The inbox id as the events' causation and correlation (SPEC §3; contract: the inbox id is the causationId). */
export function notificationMetadata(inboxId: number): { causationId: string; correlationId: string } {
  return { causationId: String(inboxId), correlationId: String(inboxId) };
}

function detailOf(decision: OrderDecision, replayedAt?: string): InboxOutcomeDetail {
  if (decision.events.length === 0 || decision.transactionId === undefined) {
    return { outcome: 'no_new_fact', streamId: decision.streamId, reason: 'stale' };
  }
  return {
    outcome: 'applied',
    streamId: decision.streamId,
    transactionId: decision.transactionId,
    firstPosition: decision.firstPosition ?? decision.position ?? 0,
    lastPosition: decision.position ?? 0,
    events: decision.events.map(({ type, version }) => ({ type, version })),
    ...(replayedAt === undefined ? {} : { replayedAt }),
  };
}

/**
 * Applies a verified trade notification (SPEC §2, issue 4 §2), each attempt in as few round trips as the
 * rules allow: the order is read and decided outside any transaction; then one statement appends the
 * events with the expected version, takes the notify_id's de-duplication key and records the outcome with
 * its evidence, which commit together or not at all (a stream that moved meanwhile writes nothing and the
 * attempt starts again). Without events the key and the outcome are one statement. No network call
 * happens inside. A concurrent delivery of the same notify_id waits on the stream, then finds nothing new
 * to append and the key taken: `no_new_fact` (duplicate).
 */
export async function applyTradeNotification(
  deps: { dataSource: DataSource; store: EventStore; inbox: InboxStore },
  inboxId: number,
  command: RecordTradeStatus,
  evidence: NotificationEvidence,
): Promise<AppliedTradeNotification> {
  const { store, inbox } = deps;
  const applied = await withAppendRetry(
    async (): Promise<AppliedTradeNotification | undefined> => {
      const pending = await loadAndDecide(store, command);
      if (pending.decided.length === 0) {
        const decision = await appendDecision(store, pending, {});
        const detail = detailOf(decision);
        const claimed = await inbox.claimAndFinish(command.notifyId, inboxId, {
          ...evidence,
          outcome: 'no_new_fact',
          detail,
        });
        return claimed ? { outcome: 'no_new_fact', detail, decision } : undefined;
      }
      // The events' transaction and positions are filled in by the statement that appends them.
      const partial: PendingAppliedDetail = {
        outcome: 'applied',
        streamId: pending.streamId,
        events: pending.decided.map(({ type }, index) => ({ type, version: pending.version + index + 1 })),
      };
      const appended = await inbox.recordWithEvents(
        store,
        {
          streamId: pending.streamId,
          expectedVersion: expectedVersionOf(pending),
          events: newEventsOf(pending, notificationMetadata(inboxId)),
        },
        command.notifyId,
        inboxId,
        { ...evidence, outcome: 'applied', detail: partial },
      );
      if (appended === undefined) return undefined;
      const decision = appendedDecision(pending, appended);
      return { outcome: 'applied', detail: detailOf(decision), decision };
    },
    { attempts: APPLY_ATTEMPTS },
  );
  return applied ?? finishAsDuplicate(inbox, inboxId, command.notifyId, evidence);
}

/** A replay of a stored, verified trade notification (see `replayNotification`). */
export function replayTradeNotification(
  deps: { dataSource: DataSource; store: EventStore; inbox: InboxStore },
  inboxId: number,
  command: RecordTradeStatus,
  replayedAt: string,
): Promise<OrderDecision> {
  return replayNotification(
    deps,
    inboxId,
    command.notifyId,
    (manager) => decideOnOrderStream(deps.store, command, notificationMetadata(inboxId), manager),
    (decision) => detailOf(decision, replayedAt),
  );
}

/**
 * The trade channel of the pipeline: `trade_status_sync` notifications (`POST /alipay/notify`) and the
 * buyer's return_url, read into `RecordTradeStatus` and decided on the order's stream.
 */
export function tradeChannel(deps: {
  dataSource: DataSource;
  store: EventStore;
  inbox: InboxStore;
  logger: LedgerLogger;
}): NotificationChannel<RecordTradeStatus> {
  /** The order for the buyer's page; absent if it cannot be read now (the page then says "processing"). */
  const orderOf = async (command: RecordTradeStatus): Promise<IngestResult['order']> => {
    try {
      const recorded = await deps.store.readStream(orderStreamId(command.outTradeNo));
      return { outTradeNo: command.outTradeNo, state: foldOrderStream(recorded) };
    } catch (error) {
      deps.logger.warn(
        `order ${command.outTradeNo} could not be read: ${error instanceof Error ? error.message : String(error)}`,
        'Ingest',
      );
      return undefined;
    }
  };
  return {
    read: (params: readonly TextParam[], channel: InboxChannel): CommandReading<RecordTradeStatus> =>
      channel === 'refund_notify'
        ? {
            ok: false,
            reason: 'unexpected_notify_type',
            message: 'trade notifications are not read at the refund_notify channel',
          }
        : readTradeCommand(params, channel),
    apply: async (inboxId, command, evidence) => {
      const { outcome, detail, decision } = await applyTradeNotification(deps, inboxId, command, evidence);
      return {
        outcome,
        detail,
        ...(decision?.transactionId !== undefined && decision.position !== undefined
          ? { checkpoint: { transactionId: decision.transactionId, position: decision.position } }
          : {}),
        ...(decision === undefined
          ? {}
          : { order: { outTradeNo: command.outTradeNo, state: decision.state } }),
      };
    },
    replyOrder: (command) => (command.source === 'return' ? orderOf(command) : Promise.resolve(undefined)),
  };
}
