import { Inject, Injectable } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { verifyNotification, type TextParam, type VerificationExplanation } from '@ledger/alipay-protocol';
import type { CompleteRefundBatch, RecordTradeStatus } from '@ledger/domain';
import {
  extractIdentifiers,
  InboxStore,
  MAX_NOTIFICATION_BYTES,
  type InboxEntry,
  NOTIFY_ID_CHECK,
  storedMessage,
  type InboxChannel,
  type InboxFinish,
  type InboxOutcomeDetail,
  type IngestResult,
  type NotifyIdCheck,
  type NotifyVerifyEvidence,
  type RawNotification,
} from '@ledger/inbox';
import { LedgerConfig, LedgerLogger, LedgerMetrics } from '@ledger/platform';
import { RecordRefundNotificationCommand } from '../refunds/record-refund-notification';
import { readRefundCommand } from '../refunds/refund-command';
import { PostgresStreamSessions } from '../stream/postgres-stream-session';
import { loadOrder } from '../stream/run-on-streams';
import { reasonOf, type CommandReading, type NotificationChannel } from './notification-channel';
import { RecordTradeNotificationCommand } from './record-trade-notification';
import { readTradeCommand } from './trade-command';

const CONTEXT = 'Ingest';

/** The verification failure of a notification whose notify_id `notify_verify` did not confirm. */
const NOTIFY_VERIFY_FALSE = 'NOTIFY_VERIFY_FALSE';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.name : 'UNKNOWN';
}

/**
 * The notification pipeline (docs/operations.md, "What happens to a notification" and "Replies"), for
 * `notify_url` POSTs, `return_url` visits and batch refund results, the same steps for each:
 *
 * 1. the signature is verified over the raw bytes (docs/alipay-protocol.md, "Verifying a notification"), the
 *    parameters read into the channel's command (a `notify_type` the channel does not take is rejected by
 *    name);
 * 2. an inbox row id is reserved, and a notify_id already processed is a duplicate: answered `success`
 *    without asking the gateway (the id dies once answered, so `notify_verify` would say `false`);
 * 3. `notify_verify` is asked when enabled; an unreachable gateway means `fail`, so that Alipay retries;
 * 4. one commit writes the inbox row (the raw bytes, headers, remote address and time, the outcome and its
 *    evidence), the channel's events with the expected versions and the notify_id's key (retried on a lost
 *    race).
 *
 * Nothing is written before that commit, and `success` is sent only after it: a notification whose
 * processing stops half-way (a crash, a database that went away) was never acknowledged, and Alipay sends
 * it again. Every other ending (a rejection, a duplicate, a failure) is written as its row with its outcome,
 * in one statement. Only steps 1 (reading) and 4 (applying) differ by channel: `trade_status_sync` on
 * `notify` and `return` decides on the order's stream; `batch_refund_notify` on `refund_notify` on the
 * batch's stream and the orders its records name. `receive` never throws: every input ends as a reply, and
 * as a row unless the database refused even that.
 *
 * The `import` channel (docs/operations.md, "Importing a PHP integration's history") takes notifications
 * read back from an old log, of either kind (by `notify_type`), the same way but for two steps: `notify_verify`
 * is not asked (the ids are long dead; the evidence says it was skipped because imported), and a notify_id
 * already processed leaves no row at all, so that importing the same log again writes nothing.
 */
/** A notification as it reached the HTTP edge, to store, verify and record. */
export class ReceiveNotificationCommand extends Command<IngestResult> {
  constructor(readonly raw: RawNotification) {
    super();
  }
}

@Injectable()
@CommandHandler(ReceiveNotificationCommand)
export class NotificationPipeline implements ICommandHandler<ReceiveNotificationCommand> {
  private readonly trades: NotificationChannel<RecordTradeStatus>;
  private readonly refunds: NotificationChannel<CompleteRefundBatch>;

  constructor(
    private readonly inbox: InboxStore,
    private readonly bus: CommandBus,
    private readonly sessions: PostgresStreamSessions,
    private readonly config: LedgerConfig,
    private readonly logger: LedgerLogger,
    @Inject(NOTIFY_ID_CHECK) private readonly notifyIdCheck: NotifyIdCheck,
    private readonly metrics: LedgerMetrics,
  ) {
    this.trades = {
      read: (params: readonly TextParam[], channel: InboxChannel): CommandReading<RecordTradeStatus> =>
        channel === 'refund_notify' || channel === 'query'
          ? {
              ok: false,
              reason: 'unexpected_notify_type',
              message: `trade notifications are not read at the ${channel} channel`,
            }
          : readTradeCommand(params, channel === 'return' ? 'return' : 'notify'),
      apply: (inboxId, command, evidence) =>
        this.bus.execute(new RecordTradeNotificationCommand(inboxId, command, evidence)),
      replyOrder: (command) =>
        command.source === 'return' ? this.orderOf(command.outTradeNo) : Promise.resolve(undefined),
    };
    this.refunds = {
      read: readRefundCommand,
      apply: (inboxId, command, evidence) =>
        this.bus.execute(new RecordRefundNotificationCommand(inboxId, command, evidence)),
    };
  }

  /** The order for the buyer's page; absent if it cannot be read now (the page then says "processing"). */
  private async orderOf(outTradeNo: string): Promise<IngestResult['order']> {
    try {
      return { outTradeNo, state: (await loadOrder(this.sessions.session(), outTradeNo)).state };
    } catch (error) {
      this.logger.warn(`order ${outTradeNo} could not be read: ${messageOf(error)}`, CONTEXT);
      return undefined;
    }
  }

  execute({ raw }: ReceiveNotificationCommand): Promise<IngestResult> {
    return this.receive(raw);
  }

  async receive(raw: RawNotification): Promise<IngestResult> {
    let result: IngestResult;
    try {
      result = isRefundResult(raw)
        ? await this.process(raw, this.refunds)
        : await this.process(raw, this.trades);
    } catch (error) {
      result = await this.fail(raw, 'internal', error, {});
    }
    this.metrics.notificationReceived(raw.channel, result.outcome, reasonOf(result.detail));
    return result;
  }

  private async process<C extends { notifyId: string }>(
    raw: RawNotification,
    channel: NotificationChannel<C>,
  ): Promise<IngestResult> {
    if (raw.truncated || raw.body.length > MAX_NOTIFICATION_BYTES) {
      const declared = raw.declaredBytes === undefined ? '' : `${raw.declaredBytes} bytes declared, `;
      return this.reject(raw, {
        outcome: 'rejected',
        reason: 'body_too_large',
        message: `${declared}${raw.receivedBytes} bytes received: more than the ${MAX_NOTIFICATION_BYTES} accepted`,
        ...(raw.declaredBytes === undefined ? {} : { declaredBytes: raw.declaredBytes }),
      });
    }

    const { alipay } = this.config;
    const verification = verifyNotification(raw.body, {
      signType: alipay.signType,
      md5Keys: alipay.md5Keys,
      ...(alipay.alipayPublicKeyPem === undefined ? {} : { alipayPublicKeyPem: alipay.alipayPublicKeyPem }),
      defaultCharset: alipay.inputCharset,
      ...(raw.contentType === undefined ? {} : { contentType: raw.contentType }),
      source: raw.channel === 'return' ? 'return' : 'notify',
    });
    const explanation = verification.explanation;
    if (!verification.ok) {
      this.metrics.verificationFailed(raw.channel, verification.reason);
      return this.reject(
        raw,
        { outcome: 'rejected', reason: 'signature', message: explanation.summary },
        { verification: explanation, verified: false },
      );
    }

    const reading = channel.read(verification.params, raw.channel);
    if (!reading.ok) {
      return this.reject(
        raw,
        {
          outcome: 'rejected',
          reason: reading.reason,
          message: reading.message,
          ...(reading.errors === undefined ? {} : { errors: reading.errors }),
        },
        { verification: explanation },
      );
    }
    const { command } = reading;

    let reserved: Awaited<ReturnType<InboxStore['reserve']>>;
    try {
      reserved = await this.inbox.reserve(raw, command.notifyId);
    } catch (error) {
      return this.fail(raw, 'database', error, { verification: explanation });
    }
    const { entry, processedBy } = reserved;
    if (processedBy !== undefined && raw.channel === 'import') {
      const detail: InboxOutcomeDetail = {
        outcome: 'no_new_fact',
        reason: 'duplicate',
        duplicateOf: processedBy,
      };
      return { outcome: 'no_new_fact', reply: 'success', detail };
    }
    if (processedBy !== undefined) {
      const detail: InboxOutcomeDetail = {
        outcome: 'no_new_fact',
        reason: 'duplicate',
        duplicateOf: processedBy,
      };
      await this.inbox.record(entry, {
        outcome: 'no_new_fact',
        detail,
        verification: explanation,
        notifyVerify: { answer: null, skipped: 'already_processed', checkedAt: new Date().toISOString() },
        verified: true,
      });
      const order = await channel.replyOrder?.(command);
      return {
        inboxId: entry.id,
        outcome: 'no_new_fact',
        reply: 'success',
        detail,
        ...(order === undefined ? {} : { order }),
      };
    }

    const notifyVerify: NotifyVerifyEvidence =
      raw.channel === 'import'
        ? { answer: null, skipped: 'imported', checkedAt: new Date().toISOString() }
        : await this.askNotifyVerify(command.notifyId);
    if (notifyVerify.answer === null && 'error' in notifyVerify) {
      return this.fail(entry, 'notify_verify_unavailable', notifyVerify.error.message, {
        verification: explanation,
        notifyVerify,
      });
    }
    if (notifyVerify.answer === false) {
      this.metrics.verificationFailed(raw.channel, NOTIFY_VERIFY_FALSE);
      return this.reject(
        entry,
        {
          outcome: 'rejected',
          reason: 'notify_verify',
          message: `notify_verify answered ${JSON.stringify(notifyVerify.body.slice(0, 64))} for ${command.notifyId}`,
        },
        { verification: explanation, notifyVerify, verified: false },
      );
    }

    return this.apply(entry, channel, command, explanation, notifyVerify);
  }

  private async apply<C extends { notifyId: string }>(
    entry: InboxEntry,
    channel: NotificationChannel<C>,
    command: C,
    verification: VerificationExplanation,
    notifyVerify: NotifyVerifyEvidence,
  ): Promise<IngestResult> {
    const evidence = { verification, notifyVerify, verified: true };
    try {
      const applied = await channel.apply(entry, command, evidence);
      const order = applied.order ?? (await channel.replyOrder?.(command));
      return {
        inboxId: entry.id,
        outcome: applied.outcome,
        reply: 'success',
        detail: applied.detail,
        ...(applied.checkpoint === undefined ? {} : { checkpoint: applied.checkpoint }),
        ...(order === undefined ? {} : { order }),
      };
    } catch (error) {
      return this.fail(entry, 'database', error, evidence);
    }
  }

  private async askNotifyVerify(notifyId: string): Promise<NotifyVerifyEvidence> {
    const checkedAt = new Date().toISOString();
    if (!this.config.alipay.verifyNotifyId) return { answer: null, skipped: 'disabled', checkedAt };
    const started = performance.now();
    try {
      const { genuine, body } = await this.notifyIdCheck(notifyId);
      return { answer: genuine, body: body.trim().slice(0, 256), latencyMs: elapsed(started), checkedAt };
    } catch (error) {
      return {
        answer: null,
        error: { code: codeOf(error), message: messageOf(error) },
        latencyMs: elapsed(started),
        checkedAt,
      };
    }
  }

  private async reject(
    notification: RawNotification | InboxEntry,
    detail: Extract<InboxOutcomeDetail, { outcome: 'rejected' }>,
    evidence: Omit<InboxFinish, 'outcome' | 'detail'> = {},
  ): Promise<IngestResult> {
    // The message of a hostile body (a verification summary) can be long: the log line says as much as the row.
    const message = storedMessage(detail.message);
    this.logger.warn(
      `a ${channelOf(notification)} notification was rejected (${detail.reason}): ${message}`,
      CONTEXT,
    );
    const inboxId = await this.recordEnding(notification, { ...evidence, outcome: 'rejected', detail });
    return { ...(inboxId === undefined ? {} : { inboxId }), outcome: 'rejected', reply: 'fail', detail };
  }

  private async fail(
    notification: RawNotification | InboxEntry,
    reason: Extract<InboxOutcomeDetail, { outcome: 'failed' }>['reason'],
    error: unknown,
    evidence: Omit<InboxFinish, 'outcome' | 'detail'>,
  ): Promise<IngestResult> {
    const message = messageOf(error);
    const detail: InboxOutcomeDetail = { outcome: 'failed', reason, message };
    this.logger.warn(
      `a ${channelOf(notification)} notification failed (${reason}), answered fail: ${message}`,
      CONTEXT,
    );
    const inboxId = await this.recordEnding(notification, { ...evidence, outcome: 'failed', detail });
    return { ...(inboxId === undefined ? {} : { inboxId }), outcome: 'failed', reply: 'fail', detail };
  }

  /**
   * Writes the row of a notification answered `fail`, with its outcome. When even that fails (the database
   * is down), nothing is kept and nothing was acknowledged: Alipay's retry brings the notification back.
   */
  private async recordEnding(
    notification: RawNotification | InboxEntry,
    finish: InboxFinish,
  ): Promise<number | undefined> {
    try {
      return await this.inbox.record(notification, finish);
    } catch (error) {
      this.logger.error(
        `the inbox could not store a ${channelOf(notification)} notification (${finish.outcome}): ${messageOf(error)}`,
        CONTEXT,
      );
      return undefined;
    }
  }
}

/** A batch refund result: on its own channel, or imported with its `notify_type`. */
function isRefundResult(raw: RawNotification): boolean {
  if (raw.channel === 'refund_notify') return true;
  return raw.channel === 'import' && extractIdentifiers(raw.body).notify_type === 'batch_refund_notify';
}

function channelOf(notification: RawNotification | InboxEntry): string {
  return 'raw' in notification ? notification.raw.channel : notification.channel;
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
