import { Inject, Injectable } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { verifyNotification, type TextParam, type VerificationExplanation } from '@ledger/alipay-protocol';
import type { CompleteRefundBatch, RecordTradeStatus } from '@ledger/domain';
import {
  InboxStore,
  MAX_NOTIFICATION_BYTES,
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
import { LedgerConfig, LedgerLogger } from '@ledger/platform';
import { RecordRefundNotificationCommand } from '../refunds/record-refund-notification';
import { readRefundCommand } from '../refunds/refund-command';
import { PostgresStreamSessions } from '../stream/postgres-stream-session';
import { loadOrder } from '../stream/run-on-streams';
import type { CommandReading, NotificationChannel } from './notification-channel';
import { RecordTradeNotificationCommand } from './record-trade-notification';
import { readTradeCommand } from './trade-command';

const CONTEXT = 'Ingest';

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
 * 1. the raw bytes, headers, remote address and time go into the inbox, committed first;
 * 2. the signature is verified over the raw bytes (docs/alipay-protocol.md, "Verifying a notification"), the
 *   parameters read into the channel's
 *    command (a `notify_type` the channel does not take is rejected by name);
 * 3. a notify_id already processed is a duplicate: answered `success` without asking the gateway (the id
 *    dies once answered, so `notify_verify` would say `false`);
 * 4. `notify_verify` is asked when enabled; an unreachable gateway means `fail`, so that Alipay retries;
 * 5. one transaction applies the channel's events with the expected versions, takes the notify_id's key
 *    and records the outcome with its evidence (retried on a lost race).
 *
 * Only steps 2 (reading) and 5 (applying) differ by channel: `trade_status_sync` on `notify` and `return`
 * decides on the order's stream; `batch_refund_notify` on `refund_notify` on the batch's stream and the
 * orders its records name. `receive` never throws: every input ends as an outcome on its inbox row and a
 * reply, `success` only once everything has committed.
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
  ) {
    this.trades = {
      read: (params: readonly TextParam[], channel: InboxChannel): CommandReading<RecordTradeStatus> =>
        channel === 'refund_notify'
          ? {
              ok: false,
              reason: 'unexpected_notify_type',
              message: 'trade notifications are not read at the refund_notify channel',
            }
          : readTradeCommand(params, channel),
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
    let stored: Awaited<ReturnType<InboxStore['store']>>;
    try {
      stored = await this.inbox.store(raw);
    } catch (error) {
      // Nothing is kept, nothing acknowledged: Alipay's retry brings the notification back.
      this.logger.error(
        `the inbox could not store a ${raw.channel} notification: ${messageOf(error)}`,
        CONTEXT,
      );
      return {
        outcome: 'failed',
        reply: 'fail',
        detail: { outcome: 'failed', reason: 'database', message: messageOf(error) },
      };
    }
    try {
      return raw.channel === 'refund_notify'
        ? await this.process(raw, stored, this.refunds)
        : await this.process(raw, stored, this.trades);
    } catch (error) {
      return this.fail(stored.id, 'internal', error, {});
    }
  }

  private async process<C extends { notifyId: string }>(
    raw: RawNotification,
    stored: { id: number; notifyId: string | null; processedBy?: number },
    channel: NotificationChannel<C>,
  ): Promise<IngestResult> {
    const inboxId = stored.id;
    if (raw.truncated || raw.body.length > MAX_NOTIFICATION_BYTES) {
      const declared = raw.declaredBytes === undefined ? '' : `${raw.declaredBytes} bytes declared, `;
      return this.reject(inboxId, {
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
      return this.reject(
        inboxId,
        { outcome: 'rejected', reason: 'signature', message: explanation.summary },
        { verification: explanation, verified: false },
      );
    }

    const reading = channel.read(verification.params, raw.channel);
    if (!reading.ok) {
      return this.reject(
        inboxId,
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

    const processedBy =
      stored.notifyId === command.notifyId
        ? stored.processedBy
        : await this.inbox.processedBy(command.notifyId);
    if (processedBy !== undefined) {
      const detail: InboxOutcomeDetail = {
        outcome: 'no_new_fact',
        reason: 'duplicate',
        duplicateOf: processedBy,
      };
      await this.inbox.finish(inboxId, {
        outcome: 'no_new_fact',
        detail,
        verification: explanation,
        notifyVerify: { answer: null, skipped: 'already_processed', checkedAt: new Date().toISOString() },
        verified: true,
      });
      const order = await channel.replyOrder?.(command);
      return {
        inboxId,
        outcome: 'no_new_fact',
        reply: 'success',
        detail,
        ...(order === undefined ? {} : { order }),
      };
    }

    const notifyVerify = await this.askNotifyVerify(command.notifyId);
    if (notifyVerify.answer === null && 'error' in notifyVerify) {
      return this.fail(inboxId, 'notify_verify_unavailable', notifyVerify.error.message, {
        verification: explanation,
        notifyVerify,
      });
    }
    if (notifyVerify.answer === false) {
      return this.reject(
        inboxId,
        {
          outcome: 'rejected',
          reason: 'notify_verify',
          message: `notify_verify answered ${JSON.stringify(notifyVerify.body.slice(0, 64))} for ${command.notifyId}`,
        },
        { verification: explanation, notifyVerify, verified: false },
      );
    }

    return this.apply(inboxId, channel, command, explanation, notifyVerify);
  }

  private async apply<C extends { notifyId: string }>(
    inboxId: number,
    channel: NotificationChannel<C>,
    command: C,
    verification: VerificationExplanation,
    notifyVerify: NotifyVerifyEvidence,
  ): Promise<IngestResult> {
    const evidence = { verification, notifyVerify, verified: true };
    try {
      const applied = await channel.apply(inboxId, command, evidence);
      const order = applied.order ?? (await channel.replyOrder?.(command));
      return {
        inboxId,
        outcome: applied.outcome,
        reply: 'success',
        detail: applied.detail,
        ...(applied.checkpoint === undefined ? {} : { checkpoint: applied.checkpoint }),
        ...(order === undefined ? {} : { order }),
      };
    } catch (error) {
      return this.fail(inboxId, 'database', error, evidence);
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
    inboxId: number,
    detail: Extract<InboxOutcomeDetail, { outcome: 'rejected' }>,
    evidence: Omit<InboxFinish, 'outcome' | 'detail'> = {},
  ): Promise<IngestResult> {
    // The message of a hostile body (a verification summary) can be long: the log line says as much as the row.
    const message = storedMessage(detail.message);
    this.logger.warn(`notification ${inboxId} rejected (${detail.reason}): ${message}`, CONTEXT);
    try {
      await this.inbox.finish(inboxId, { ...evidence, outcome: 'rejected', detail });
    } catch (error) {
      // The raw row is kept (still `received`, swept to `failed` later); the answer is `fail` either way.
      this.logger.error(
        `notification ${inboxId}: the rejection could not be recorded: ${messageOf(error)}`,
        CONTEXT,
      );
    }
    return { inboxId, outcome: 'rejected', reply: 'fail', detail };
  }

  private async fail(
    inboxId: number,
    reason: Extract<InboxOutcomeDetail, { outcome: 'failed' }>['reason'],
    error: unknown,
    evidence: Omit<InboxFinish, 'outcome' | 'detail'>,
  ): Promise<IngestResult> {
    const message = messageOf(error);
    const detail: InboxOutcomeDetail = { outcome: 'failed', reason, message };
    this.logger.warn(`notification ${inboxId} failed (${reason}), answered fail: ${message}`, CONTEXT);
    try {
      await this.inbox.finish(inboxId, { ...evidence, outcome: 'failed', detail });
    } catch (finishError) {
      this.logger.error(
        `notification ${inboxId}: the failure could not be recorded: ${messageOf(finishError)}`,
        CONTEXT,
      );
    }
    return { inboxId, outcome: 'failed', reply: 'fail', detail };
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
