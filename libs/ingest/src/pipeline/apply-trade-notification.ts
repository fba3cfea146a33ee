import type { RecordTradeStatus } from '@ledger/domain';
import { withAppendRetry, type EventStore } from '@ledger/event-store';
import type { DataSource } from 'typeorm';
import type { InboxOutcomeDetail } from '../inbox/inbox-notification';
import type { InboxFinish, InboxStore } from '../inbox/inbox-store';
import { decideOnOrderStream, type OrderDecision } from '../orders/order-stream-writer';

/** How a verified trade notification was applied to its order. */
export interface AppliedNotification {
  outcome: 'applied' | 'no_new_fact';
  detail: InboxOutcomeDetail;
  /** Absent when another delivery of the same notify_id holds the key (nothing was decided). */
  decision?: OrderDecision;
}

/** Reload-decide-append races (issue 4 §2: retried on conflict); each attempt is a new transaction. */
const APPLY_ATTEMPTS = 8;

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
 * One transaction per attempt (SPEC §2, issue 4 §2): take the notify_id's de-duplication key, load the
 * order, decide, append with the expected version, and record the outcome with its evidence on the inbox
 * row. All of it commits together or not at all; no network call happens inside. A concurrent delivery
 * of the same notify_id waits on the key and then finds it taken: `no_new_fact` (duplicate).
 */
export function applyTradeNotification(
  deps: { dataSource: DataSource; store: EventStore; inbox: InboxStore },
  inboxId: number,
  command: RecordTradeStatus,
  evidence: Omit<InboxFinish, 'outcome' | 'detail'>,
): Promise<AppliedNotification> {
  return withAppendRetry(
    () =>
      deps.dataSource.transaction(async (manager) => {
        const holder = await deps.inbox.claim(manager, command.notifyId, inboxId);
        if (holder !== undefined) {
          const detail: InboxOutcomeDetail = {
            outcome: 'no_new_fact',
            reason: 'duplicate',
            duplicateOf: holder,
          };
          await deps.inbox.finish(inboxId, { ...evidence, outcome: 'no_new_fact', detail }, manager);
          return { outcome: 'no_new_fact' as const, detail };
        }
        const decision = await decideOnOrderStream(
          deps.store,
          command,
          notificationMetadata(inboxId),
          manager,
        );
        const detail = detailOf(decision);
        await deps.inbox.finish(inboxId, { ...evidence, outcome: detail.outcome, detail }, manager);
        return { outcome: detail.outcome as 'applied' | 'no_new_fact', detail, decision };
      }),
    { attempts: APPLY_ATTEMPTS },
  );
}

/**
 * A replay of a stored, verified notification (issue 4 §7): the de-duplication key is taken if free but
 * never stops the replay, because the decider itself appends nothing for a notify_id already applied.
 * The inbox row is updated only when the replay appended events.
 */
export function replayTradeNotification(
  deps: { dataSource: DataSource; store: EventStore; inbox: InboxStore },
  inboxId: number,
  command: RecordTradeStatus,
  replayedAt: string,
): Promise<OrderDecision> {
  return withAppendRetry(
    () =>
      deps.dataSource.transaction(async (manager) => {
        await deps.inbox.claim(manager, command.notifyId, inboxId);
        const decision = await decideOnOrderStream(
          deps.store,
          command,
          notificationMetadata(inboxId),
          manager,
        );
        if (decision.events.length > 0) {
          const detail = detailOf(decision, replayedAt);
          await deps.inbox.finish(inboxId, { outcome: 'applied', detail }, manager);
        }
        return decision;
      }),
    { attempts: APPLY_ATTEMPTS },
  );
}
