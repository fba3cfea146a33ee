import type { ProtocolError, TextParam } from '@ledger/alipay-protocol';
import type { GlobalCheckpoint } from '@ledger/event-store';
import type {
  InboxChannel,
  InboxEntry,
  InboxFinish,
  InboxOutcomeDetail,
  InboxStore,
  IngestResult,
  RejectionReason,
} from '@ledger/inbox';
import type { StreamDecision } from '../stream/command-step';
import type { StreamEvent } from '../stream/stream-session';

/** Why a notification's processing ended as it did, for the metrics: its detail's reason; none when applied. */
export function reasonOf(detail: InboxOutcomeDetail): string {
  return 'reason' in detail ? detail.reason : '';
}

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
 * signature, de-duplication by notify_id, `notify_verify`, evidence, the one commit, the reply.
 */
export interface NotificationChannel<C extends { notifyId: string }> {
  read(params: readonly TextParam[], channel: InboxChannel): CommandReading<C>;
  /**
   * Applies the command and, in the same commit, takes the notify_id's de-duplication key and writes the
   * entry's inbox row with its outcome and `evidence`; a concurrent delivery holding the key makes it a
   * `duplicate`.
   */
  apply(entry: InboxEntry, command: C, evidence: NotificationEvidence): Promise<AppliedNotification>;
  /** The order for the reply when `apply` did not give it (a duplicate, a stale return_url); optional. */
  replyOrder?(command: C): Promise<IngestResult['order']>;
}

/** Another delivery of the same notify_id took the key first: this attempt's transaction rolls back. */
export class KeyTaken extends Error {}

/** Records a delivery whose notify_id another row holds as a duplicate of that row. */
export async function recordAsDuplicate(
  inbox: InboxStore,
  entry: InboxEntry,
  notifyId: string,
  evidence: NotificationEvidence,
): Promise<AppliedNotification> {
  const holder = await inbox.processedBy(notifyId);
  const detail: InboxOutcomeDetail = {
    outcome: 'no_new_fact',
    reason: 'duplicate',
    ...(holder === undefined ? {} : { duplicateOf: holder }),
  };
  await inbox.record(entry, { ...evidence, outcome: 'no_new_fact', detail });
  return { outcome: 'no_new_fact', detail };
}

/** The inbox id as the events' causation and correlation (docs/events.md: the inbox id is the causationId). */
export function notificationMetadata(inboxId: number): { causationId: string; correlationId: string } {
  return { causationId: String(inboxId), correlationId: String(inboxId) };
}

/**
 * The inbox outcome of a notification's decision. For a refund batch, `streamId` and `events` are the batch
 * stream's; the order events its records caused were appended in the same transaction, carry the same
 * causation, and fall inside `firstPosition..lastPosition`.
 */
export function detailOf(
  decision: StreamDecision<StreamEvent, unknown>,
  replayedAt?: string,
): InboxOutcomeDetail {
  if (decision.kind === 'no_new_fact') {
    return { outcome: 'no_new_fact', streamId: decision.streamId, reason: 'stale' };
  }
  return {
    outcome: 'applied',
    streamId: decision.streamId,
    transactionId: decision.transactionId,
    firstPosition: decision.firstPosition,
    lastPosition: decision.position,
    events: decision.events.map(({ type, version }) => ({ type, version })),
    ...(replayedAt === undefined ? {} : { replayedAt }),
  };
}

/** What to wait for before answering, when events were appended. */
export function checkpointOf(decision: StreamDecision<StreamEvent, unknown>): GlobalCheckpoint | undefined {
  return decision.kind === 'appended'
    ? { transactionId: decision.transactionId, position: decision.position }
    : undefined;
}
