import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { verifyNotification, type VerificationExplanation } from '@ledger/alipay-protocol';
import { orderStreamId, type RecordTradeStatus } from '@ledger/domain';
import { EventStore } from '@ledger/event-store';
import { LedgerConfig, LedgerLogger } from '@ledger/platform';
import { DataSource } from 'typeorm';
import type { InboxOutcomeDetail, NotifyVerifyEvidence } from '../inbox/inbox-notification';
import { InboxStore, type InboxFinish } from '../inbox/inbox-store';
import { foldOrderStream } from '../orders/order-stream-writer';
import { applyTradeNotification } from './apply-trade-notification';
import {
  MAX_NOTIFICATION_BYTES,
  NOTIFY_ID_CHECK,
  type IngestResult,
  type NotifyIdCheck,
  type RawNotification,
} from './raw-notification';
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
 * The notification pipeline of SPEC §2 and issue 4 §2–§3, for `notify_url` POSTs and `return_url` visits:
 *
 * 1. the raw bytes, headers, remote address and time go into the inbox, committed first;
 * 2. the signature is verified over the raw bytes (reference §1.6), the parameters read;
 * 3. a notify_id already processed is a duplicate: answered `success` without asking the gateway (the id
 *    dies once answered, so `notify_verify` would say `false`);
 * 4. `notify_verify` is asked when enabled; an unreachable gateway means `fail`, so that Alipay retries;
 * 5. one transaction takes the notify_id's key, applies the order decider's events with the expected
 *    version and records the outcome with its evidence (retried on a lost race).
 *
 * `receive` never throws: every input ends as an outcome on its inbox row and a reply, `success` only once
 * everything has committed.
 */
@Injectable()
export class NotificationPipeline {
  private readonly inbox: InboxStore;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly store: EventStore,
    private readonly config: LedgerConfig,
    private readonly logger: LedgerLogger,
    @Inject(NOTIFY_ID_CHECK) private readonly notifyIdCheck: NotifyIdCheck,
  ) {
    this.inbox = new InboxStore(dataSource);
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
      return await this.process(raw, stored);
    } catch (error) {
      return this.fail(stored.id, 'internal', error, {});
    }
  }

  private async process(
    raw: RawNotification,
    stored: { id: number; notifyId: string | null; processedBy?: number },
  ): Promise<IngestResult> {
    const inboxId = stored.id;
    if (raw.truncated || raw.body.length > MAX_NOTIFICATION_BYTES) {
      return this.reject(inboxId, {
        outcome: 'rejected',
        reason: 'body_too_large',
        message: `${raw.receivedBytes} bytes received, more than the ${MAX_NOTIFICATION_BYTES} accepted`,
      });
    }

    const { alipay } = this.config;
    const verification = verifyNotification(raw.body, {
      signType: alipay.signType,
      md5Keys: alipay.md5Keys,
      ...(alipay.alipayPublicKeyPem === undefined ? {} : { alipayPublicKeyPem: alipay.alipayPublicKeyPem }),
      defaultCharset: alipay.inputCharset,
      ...(raw.contentType === undefined ? {} : { contentType: raw.contentType }),
      source: raw.channel,
    });
    const explanation = verification.explanation;
    if (!verification.ok) {
      return this.reject(
        inboxId,
        { outcome: 'rejected', reason: 'signature', message: explanation.summary },
        { verification: explanation, verified: false },
      );
    }

    const reading = readTradeCommand(verification.params, raw.channel);
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
      const order = raw.channel === 'return' ? await this.orderOf(command) : undefined;
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

    return this.apply(inboxId, command, explanation, notifyVerify);
  }

  private async apply(
    inboxId: number,
    command: RecordTradeStatus,
    verification: VerificationExplanation,
    notifyVerify: NotifyVerifyEvidence,
  ): Promise<IngestResult> {
    const evidence = { verification, notifyVerify, verified: true };
    try {
      const applied = await applyTradeNotification(
        { dataSource: this.dataSource, store: this.store, inbox: this.inbox },
        inboxId,
        command,
        evidence,
      );
      const { decision } = applied;
      const order =
        decision !== undefined
          ? { outTradeNo: command.outTradeNo, state: decision.state }
          : command.source === 'return'
            ? await this.orderOf(command)
            : undefined;
      return {
        inboxId,
        outcome: applied.outcome,
        reply: 'success',
        detail: applied.detail,
        ...(decision?.transactionId !== undefined && decision.position !== undefined
          ? { checkpoint: { transactionId: decision.transactionId, position: decision.position } }
          : {}),
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

  /** The order for the buyer's page; absent if it cannot be read now (the page then says "processing"). */
  private async orderOf(command: RecordTradeStatus): Promise<IngestResult['order']> {
    try {
      const recorded = await this.store.readStream(orderStreamId(command.outTradeNo));
      return { outTradeNo: command.outTradeNo, state: foldOrderStream(recorded) };
    } catch (error) {
      this.logger.warn(`order ${command.outTradeNo} could not be read: ${messageOf(error)}`, CONTEXT);
      return undefined;
    }
  }

  private async reject(
    inboxId: number,
    detail: Extract<InboxOutcomeDetail, { outcome: 'rejected' }>,
    evidence: Omit<InboxFinish, 'outcome' | 'detail'> = {},
  ): Promise<IngestResult> {
    this.logger.warn(`notification ${inboxId} rejected (${detail.reason}): ${detail.message}`, CONTEXT);
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
