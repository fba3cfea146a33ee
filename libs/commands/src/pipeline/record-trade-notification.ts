import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { RecordTradeStatus } from '@ledger/domain';
import { EventStore, type AppendResult, type EventMetadata, type ExpectedVersion } from '@ledger/event-store';
import { InboxStore, type InboxEntry } from '@ledger/inbox';
import { decideOnStream, runCommand } from '../stream/command-step';
import { orderStream } from '../stream/stream-definitions';
import type { StoredStream, StreamEvent, StreamSession } from '../stream/stream-session';
import {
  KeyTaken,
  checkpointOf,
  detailOf,
  recordAsDuplicate,
  notificationMetadata,
  type AppliedNotification,
  type NotificationEvidence,
} from './notification-channel';

/**
 * A session whose append is the notification's whole commit: one statement appends the events with the
 * expected version, takes the notify_id's de-duplication key and writes the inbox row with its raw bytes,
 * outcome and evidence (`InboxStore.recordWithEvents`), one round trip where a transaction would take
 * five. Reads are outside any transaction. Another row holding the key makes the append throw `KeyTaken`,
 * having written nothing.
 */
class NotificationCommitSession implements StreamSession {
  constructor(
    private readonly store: EventStore,
    private readonly inbox: InboxStore,
    private readonly entry: InboxEntry,
    private readonly notifyId: string,
    private readonly evidence: NotificationEvidence,
  ) {}

  async read(streamId: string): Promise<StoredStream> {
    const events = await this.store.readStream(streamId);
    return { version: events.length, events };
  }

  async append(
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: readonly StreamEvent[],
    metadata: EventMetadata,
  ): Promise<AppendResult> {
    const base = typeof expectedVersion === 'number' ? expectedVersion : 0;
    const appended = await this.inbox.recordWithEvents(
      this.store,
      { streamId, expectedVersion, events: events.map(({ type, data }) => ({ type, data, metadata })) },
      this.notifyId,
      this.entry,
      {
        ...this.evidence,
        outcome: 'applied',
        // The events' transaction and positions are filled in by the statement that appends them.
        detail: {
          outcome: 'applied',
          streamId,
          events: events.map(({ type }, index) => ({ type, version: base + index + 1 })),
        },
      },
    );
    if (appended === undefined) throw new KeyTaken();
    return appended;
  }
}

/** A verified trade notification (`trade_status_sync`, or the buyer's return_url) to record on its order. */
export class RecordTradeNotificationCommand extends Command<AppliedNotification> {
  constructor(
    readonly entry: InboxEntry,
    readonly command: RecordTradeStatus,
    readonly evidence: NotificationEvidence,
  ) {
    super();
  }
}

/**
 * Records a verified trade notification (docs/product-rules.md) through the command step on the order's
 * stream, with a session whose append also takes the notify_id's key and writes the inbox row with its
 * outcome: they commit together or not at all, and no network call happens inside. Without events the key
 * and the row are one statement. A concurrent delivery of the same notify_id waits on the stream, then finds nothing new to
 * append and the key taken: `no_new_fact` (duplicate).
 */
@CommandHandler(RecordTradeNotificationCommand)
export class RecordTradeNotificationHandler implements ICommandHandler<RecordTradeNotificationCommand> {
  constructor(
    private readonly inbox: InboxStore,
    private readonly store: EventStore,
  ) {}

  async execute({ entry, command, evidence }: RecordTradeNotificationCommand): Promise<AppliedNotification> {
    const { notifyId, outTradeNo } = command;
    const session = new NotificationCommitSession(this.store, this.inbox, entry, notifyId, evidence);
    const applied = await runCommand(
      { transaction: (work) => work(session) },
      async (): Promise<AppliedNotification | undefined> => {
        let decision;
        try {
          decision = await decideOnStream(session, orderStream, command, notificationMetadata(entry.id));
        } catch (error) {
          if (error instanceof KeyTaken) return undefined;
          throw error;
        }
        const detail = detailOf(decision);
        const order = { outTradeNo, state: decision.state };
        if (decision.kind === 'appended') {
          return { outcome: 'applied', detail, checkpoint: checkpointOf(decision)!, order };
        }
        const finish = { ...evidence, outcome: 'no_new_fact' as const, detail };
        const claimed = await this.inbox.claimAndRecord(notifyId, entry, finish);
        return claimed ? { outcome: 'no_new_fact', detail, order } : undefined;
      },
    );
    return applied ?? recordAsDuplicate(this.inbox, entry, notifyId, evidence);
  }
}
