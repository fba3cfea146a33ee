import type { RecordTradeStatus } from '@ledger/domain';
import { withAppendRetry, type EventStore } from '@ledger/event-store';
import type { DataSource } from 'typeorm';
import type { InboxOutcomeDetail } from '../inbox/inbox-notification';
import type { InboxFinish, InboxStore } from '../inbox/inbox-store';
import {
  appendDecision,
  decideOnOrderStream,
  loadAndDecide,
  type OrderDecision,
} from '../orders/order-stream-writer';

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

/** Another delivery of the same notify_id took the key first: this attempt's transaction rolls back. */
class KeyTaken extends Error {}

/**
 * Applies a verified trade notification (SPEC §2, issue 4 §2), each attempt in as few round trips as the
 * rules allow: the order is read and decided outside any transaction; then, when there are events, one
 * transaction appends them with the expected version (a stream that moved meanwhile makes the attempt
 * start again) and, in one statement, takes the notify_id's de-duplication key and records the outcome
 * with its evidence; they commit together or not at all. Without events the key and the outcome are one
 * statement. No network call happens inside. A concurrent delivery of the same notify_id waits on the
 * key (or on the stream) and ends as `no_new_fact` (duplicate).
 */
export async function applyTradeNotification(
  deps: { dataSource: DataSource; store: EventStore; inbox: InboxStore },
  inboxId: number,
  command: RecordTradeStatus,
  evidence: Omit<InboxFinish, 'outcome' | 'detail'>,
): Promise<AppliedNotification> {
  const { dataSource, store, inbox } = deps;
  const applied = await withAppendRetry(
    async (): Promise<AppliedNotification | undefined> => {
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
      try {
        return await dataSource.transaction(async (manager) => {
          const decision = await appendDecision(store, pending, notificationMetadata(inboxId), manager);
          const detail = detailOf(decision);
          const finish = { ...evidence, outcome: 'applied' as const, detail };
          if (!(await inbox.claimAndFinish(command.notifyId, inboxId, finish, manager))) throw new KeyTaken();
          return { outcome: 'applied' as const, detail, decision };
        });
      } catch (error) {
        if (error instanceof KeyTaken) return undefined;
        throw error;
      }
    },
    { attempts: APPLY_ATTEMPTS },
  );
  if (applied !== undefined) return applied;

  const holder = await inbox.processedBy(command.notifyId);
  const detail: InboxOutcomeDetail = {
    outcome: 'no_new_fact',
    reason: 'duplicate',
    ...(holder === undefined ? {} : { duplicateOf: holder }),
  };
  await inbox.finish(inboxId, { ...evidence, outcome: 'no_new_fact', detail });
  return { outcome: 'no_new_fact', detail };
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
