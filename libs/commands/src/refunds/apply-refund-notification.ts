import type { CompleteRefundBatch } from '@ledger/domain';
import { withAppendRetry, type EventStore } from '@ledger/event-store';
import type { DataSource } from 'typeorm';
import type { InboxOutcomeDetail } from '../inbox/inbox-notification';
import type { InboxStore } from '../inbox/inbox-store';
import { notificationMetadata } from '../pipeline/apply-trade-notification';
import {
  APPLY_ATTEMPTS,
  KeyTaken,
  finishAsDuplicate,
  replayNotification,
  type AppliedNotification,
  type NotificationChannel,
  type NotificationEvidence,
} from '../pipeline/notification-channel';
import { decideOnRefundBatch, type RefundBatchDecision } from './refund-batch-writer';
import { readRefundCommand } from './refund-command';

interface Deps {
  dataSource: DataSource;
  store: EventStore;
  inbox: InboxStore;
}

/**
 * The inbox outcome of a batch decision. `streamId` and `events` are the batch stream's; the order events
 * the results caused (`RefundSucceeded`, `RefundFailed`, `AnomalyDetected`) were appended in the same
 * transaction, carry this notification as their causation, and fall inside `firstPosition..lastPosition`.
 */
function detailOf(decision: RefundBatchDecision, replayedAt?: string): InboxOutcomeDetail {
  if (decision.events.length === 0 || decision.transactionId === undefined) {
    return { outcome: 'no_new_fact', streamId: decision.streamId, reason: 'stale' };
  }
  return {
    outcome: 'applied',
    streamId: decision.streamId,
    transactionId: decision.transactionId,
    firstPosition: decision.firstPosition ?? 0,
    lastPosition: decision.position ?? 0,
    events: decision.events.map(({ type, version }) => ({ type, version })),
    ...(replayedAt === undefined ? {} : { replayedAt }),
  };
}

function checkpointOf(decision: RefundBatchDecision): AppliedNotification['checkpoint'] {
  return decision.transactionId === undefined || decision.position === undefined
    ? undefined
    : { transactionId: decision.transactionId, position: decision.position };
}

/**
 * Applies a verified `batch_refund_notify` (issue 5 §2–§3) in one transaction: the batch's
 * `RefundBatchCompleted` (every record matched with its result, the anomalies listed), each submitted
 * record's result on its order's stream (`RefundSucceeded`, `RefundFailed` or `AnomalyDetected`), the
 * notify_id's de-duplication key and the inbox outcome with its evidence. They commit together or not at
 * all; a lost race for a stream decides again. A concurrent delivery of the same notify_id waits on the
 * batch stream, then decides nothing new and finds the key taken: `no_new_fact` (duplicate).
 */
export async function applyRefundNotification(
  deps: Deps,
  inboxId: number,
  command: CompleteRefundBatch,
  evidence: NotificationEvidence,
): Promise<AppliedNotification> {
  const applied = await withAppendRetry(
    async (): Promise<AppliedNotification | undefined> => {
      try {
        return await deps.dataSource.transaction(async (manager) => {
          const decision = await decideOnRefundBatch(
            deps.store,
            command,
            notificationMetadata(inboxId),
            manager,
          );
          const detail = detailOf(decision);
          const outcome: AppliedNotification['outcome'] =
            detail.outcome === 'applied' ? 'applied' : 'no_new_fact';
          const finish = { ...evidence, outcome, detail };
          if (!(await deps.inbox.claimAndFinish(command.notifyId, inboxId, finish, manager))) {
            throw new KeyTaken();
          }
          const checkpoint = checkpointOf(decision);
          return { outcome, detail, ...(checkpoint === undefined ? {} : { checkpoint }) };
        });
      } catch (error) {
        if (error instanceof KeyTaken) return undefined;
        throw error;
      }
    },
    { attempts: APPLY_ATTEMPTS },
  );
  return applied ?? finishAsDuplicate(deps.inbox, inboxId, command.notifyId, evidence);
}

/** A replay of a stored, verified refund notification (see `replayNotification`). */
export function replayRefundNotification(
  deps: Deps,
  inboxId: number,
  command: CompleteRefundBatch,
  replayedAt: string,
): Promise<RefundBatchDecision> {
  return replayNotification(
    deps,
    inboxId,
    command.notifyId,
    (manager) => decideOnRefundBatch(deps.store, command, notificationMetadata(inboxId), manager),
    (decision) => detailOf(decision, replayedAt),
  );
}

/** The refund channel of the pipeline: `batch_refund_notify` at `POST /alipay/refund-notify`. */
export function refundChannel(deps: Deps): NotificationChannel<CompleteRefundBatch> {
  return {
    read: readRefundCommand,
    apply: (inboxId, command, evidence) => applyRefundNotification(deps, inboxId, command, evidence),
  };
}
