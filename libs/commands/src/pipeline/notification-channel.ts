import type { ProtocolError, TextParam } from '@ledger/alipay-protocol';
import { withAppendRetry, type GlobalCheckpoint } from '@ledger/event-store';
import type { DataSource, EntityManager } from 'typeorm';
import type { InboxChannel, InboxOutcomeDetail, RejectionReason } from '../inbox/inbox-notification';
import type { InboxFinish, InboxStore } from '../inbox/inbox-store';
import type { IngestResult } from './raw-notification';

/** What a verified notification's parameters amount to: the channel's command, or why they cannot be one. */
export type CommandReading<C> =
  | { ok: true; command: C }
  | { ok: false; reason: RejectionReason; message: string; errors?: readonly ProtocolError[] };

/** The evidence gathered before applying: the signature check and the `notify_verify` answer. */
export type NotificationEvidence = Omit<InboxFinish, 'outcome' | 'detail'>;

/** How a verified notification was applied; `checkpoint` when events were appended. */
export interface AppliedNotification {
  outcome: 'applied' | 'no_new_fact';
  detail: InboxOutcomeDetail;
  checkpoint?: GlobalCheckpoint;
  /** The order the notification reached, when the channel knows it (the buyer's return page). */
  order?: IngestResult['order'];
}

/**
 * What differs between the kinds of notification (trade_status_sync, batch_refund_notify): reading the
 * verified parameters into a command, and applying it. The pipeline does the rest the same way for all:
 * inbox first, signature, de-duplication by notify_id, `notify_verify`, evidence, the reply.
 */
export interface NotificationChannel<C extends { notifyId: string }> {
  read(params: readonly TextParam[], channel: InboxChannel): CommandReading<C>;
  /**
   * Applies the command and, in the same transaction, takes the notify_id's de-duplication key and records
   * the outcome with `evidence`; a concurrent delivery holding the key makes it a `duplicate`.
   */
  apply(inboxId: number, command: C, evidence: NotificationEvidence): Promise<AppliedNotification>;
  /** The order for the reply when `apply` did not give it (a duplicate, a stale return_url); optional. */
  replyOrder?(command: C): Promise<IngestResult['order']>;
}

/** Another delivery of the same notify_id took the key first: this attempt's transaction rolls back. */
export class KeyTaken extends Error {}

/** Records a delivery whose notify_id another row holds as a duplicate of that row. */
export async function finishAsDuplicate(
  inbox: InboxStore,
  inboxId: number,
  notifyId: string,
  evidence: NotificationEvidence,
): Promise<AppliedNotification> {
  const holder = await inbox.processedBy(notifyId);
  const detail: InboxOutcomeDetail = {
    outcome: 'no_new_fact',
    reason: 'duplicate',
    ...(holder === undefined ? {} : { duplicateOf: holder }),
  };
  await inbox.finish(inboxId, { ...evidence, outcome: 'no_new_fact', detail });
  return { outcome: 'no_new_fact', detail };
}

/** Lost races for a stream are decided again this many times, each attempt in a new transaction. */
export const APPLY_ATTEMPTS = 8;

/**
 * A replay of a stored, verified notification (issue 4 §7) through today's deciders, whatever its channel:
 * `decide` appends what is new in the replay's transaction; the notify_id's key is then taken if free but
 * never stops the replay, because the deciders append nothing for a notification already applied. The
 * inbox row is updated only when the replay appended events.
 */
export function replayNotification<D extends { events: readonly unknown[] }>(
  deps: { dataSource: DataSource; inbox: InboxStore },
  inboxId: number,
  notifyId: string,
  decide: (manager: EntityManager) => Promise<D>,
  detailOf: (decision: D) => InboxOutcomeDetail,
): Promise<D> {
  return withAppendRetry(
    () =>
      deps.dataSource.transaction(async (manager) => {
        // Streams before keys, as every writer of both takes them.
        const decision = await decide(manager);
        await deps.inbox.claim(manager, notifyId, inboxId);
        if (decision.events.length > 0) {
          await deps.inbox.finish(inboxId, { outcome: 'applied', detail: detailOf(decision) }, manager);
        }
        return decision;
      }),
    { attempts: APPLY_ATTEMPTS },
  );
}
