import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { CompleteRefundBatch } from '@ledger/domain';
import { InboxStore, type InboxEntry } from '@ledger/inbox';
import {
  KeyTaken,
  checkpointOf,
  detailOf,
  recordAsDuplicate,
  notificationMetadata,
  type AppliedNotification,
  type NotificationEvidence,
} from '../pipeline/notification-channel';
import { runCommand } from '../stream/command-step';
import { PostgresStreamSessions } from '../stream/postgres-stream-session';
import { decideOnRefundBatch } from '../stream/refund-batch-step';

/** A verified `batch_refund_notify` to record on its batch and the orders its records name. */
export class RecordRefundNotificationCommand extends Command<AppliedNotification> {
  constructor(
    readonly entry: InboxEntry,
    readonly command: CompleteRefundBatch,
    readonly evidence: NotificationEvidence,
  ) {
    super();
  }
}

/**
 * Records a verified `batch_refund_notify` (docs/product-rules.md) in one transaction: the refund batch's
 * command step (`RefundBatchCompleted`, each submitted record's result on its order), then the notify_id's
 * de-duplication key and the inbox row with its outcome and evidence. They commit together or not at all; a lost
 * race for a stream decides again. A concurrent delivery of the same notify_id waits on the batch stream,
 * then decides nothing new and finds the key taken: `no_new_fact` (duplicate).
 */
@CommandHandler(RecordRefundNotificationCommand)
export class RecordRefundNotificationHandler implements ICommandHandler<RecordRefundNotificationCommand> {
  constructor(
    private readonly inbox: InboxStore,
    private readonly sessions: PostgresStreamSessions,
  ) {}

  async execute({ entry, command, evidence }: RecordRefundNotificationCommand): Promise<AppliedNotification> {
    try {
      return await runCommand(this.sessions, async (stream) => {
        const decision = await decideOnRefundBatch(stream, command, notificationMetadata(entry.id));
        const detail = detailOf(decision);
        const outcome: AppliedNotification['outcome'] =
          decision.kind === 'appended' ? 'applied' : 'no_new_fact';
        const finish = { ...evidence, outcome, detail };
        if (!(await this.inbox.claimAndRecord(command.notifyId, entry, finish, stream.session))) {
          throw new KeyTaken();
        }
        const checkpoint = checkpointOf(decision);
        return { outcome, detail, ...(checkpoint === undefined ? {} : { checkpoint }) };
      });
    } catch (error) {
      if (!(error instanceof KeyTaken)) throw error;
      return recordAsDuplicate(this.inbox, entry, command.notifyId, evidence);
    }
  }
}
