import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { SingleTradeQueryReply } from '@ledger/alipay-protocol';
import type { GlobalCheckpoint } from '@ledger/event-store';
import {
  InboxStore,
  type InboxFinish,
  type InboxOutcome,
  type InboxOutcomeDetail,
  type RawNotification,
} from '@ledger/inbox';
import { LedgerLogger, LedgerMetrics } from '@ledger/platform';
import { reasonOf } from '../pipeline/notification-channel';
import { decideOnStream, metadataOf } from '../stream/command-step';
import { InMemoryStreamSession } from '../stream/in-memory-stream-session';
import { PostgresStreamSessions } from '../stream/postgres-stream-session';
import { orderStream } from '../stream/stream-definitions';
import { RecordTradeNotificationCommand } from '../pipeline/record-trade-notification';
import { readQueriedTrade } from './query-command';

/** A `single_trade_query` answer as the gateway client gives it (an `F` refusal is its error instead). */
export interface TradeQueryAnswer {
  reply: Exclude<SingleTradeQueryReply, { status: 'rejected' }>;
  /** The bytes as they came. */
  body: Buffer;
  latencyMs: number;
}

/** What became of one answer. */
export interface RecordedQuery {
  outTradeNo: string;
  /** `found` (signed and verified), `unverified` (signed, not verified), `not_found` (`TRADE_IS_NOT_EXIST`). */
  answer: TradeQueryAnswer['reply']['status'];
  /** Alipay's status of the trade, when the answer verified. */
  tradeStatus?: string;
  /** The inbox row that keeps the answer; absent in a dry run. */
  inboxId?: number;
  outcome: Exclude<InboxOutcome, 'received'>;
  detail: InboxOutcomeDetail;
  /** The events appended (or, in a dry run, that would be). */
  events: { type: string }[];
  checkpoint?: GlobalCheckpoint;
  dryRun: boolean;
}

/** Stores a trade query's answer as evidence on the `query` channel and decides it on the order's stream. */
export class RecordTradeQueryCommand extends Command<RecordedQuery> {
  constructor(
    readonly outTradeNo: string,
    readonly answer: TradeQueryAnswer,
    readonly context: { answeredAt: Date; gatewayPath: string; dryRun?: boolean },
  ) {
    super();
  }
}

/**
 * A query's answer takes the notification's path (docs/operations.md, "Reconciliation"): its raw XML and
 * the check of its signature are an inbox row of the `query` channel, written once with its outcome; a
 * verified trade becomes the domain's `RecordTradeStatus` with source `query`, keyed by what it reports
 * (`queryFactKey`), and is decided by `RecordTradeNotificationCommand`, in the one commit that appends the
 * events, takes the key and writes the row. An unverified answer is rejected evidence; `TRADE_IS_NOT_EXIST`,
 * unsigned, is kept and reported and changes nothing. A dry run decides on an in-memory session over the
 * real stream and writes nothing.
 */
@CommandHandler(RecordTradeQueryCommand)
export class RecordTradeQueryHandler implements ICommandHandler<RecordTradeQueryCommand> {
  constructor(
    private readonly inbox: InboxStore,
    private readonly bus: CommandBus,
    private readonly sessions: PostgresStreamSessions,
    private readonly logger: LedgerLogger,
    private readonly metrics: LedgerMetrics,
  ) {}

  async execute(command: RecordTradeQueryCommand): Promise<RecordedQuery> {
    const recorded = await this.record(command);
    // A dry run received nothing: it decided on an answer to see what it would do.
    if (!recorded.dryRun) {
      this.metrics.notificationReceived('query', recorded.outcome, reasonOf(recorded.detail));
    }
    return recorded;
  }

  private async record({ outTradeNo, answer, context }: RecordTradeQueryCommand): Promise<RecordedQuery> {
    const { reply } = answer;
    const dryRun = context.dryRun === true;
    const raw: RawNotification = {
      channel: 'query',
      receivedAt: context.answeredAt,
      method: 'GET',
      path: context.gatewayPath,
      headers: {},
      contentType: 'text/xml',
      body: answer.body,
      receivedBytes: answer.body.length,
      truncated: false,
      identifiers: {
        out_trade_no: outTradeNo,
        ...(reply.status === 'found' ? { trade_no: reply.trade.tradeNo } : {}),
      },
    };
    const base = { outTradeNo, answer: reply.status, dryRun, events: [] };
    const keep = async (finish: InboxFinish): Promise<RecordedQuery> => {
      const inboxId = dryRun ? undefined : await this.inbox.record(raw, finish);
      return {
        ...base,
        ...(inboxId === undefined ? {} : { inboxId }),
        outcome: finish.outcome,
        detail: finish.detail,
      };
    };

    if (reply.status === 'not_found') {
      this.logger.warn(
        `single_trade_query: Alipay answered ${reply.error} for ${outTradeNo}; the order is left as it is`,
        'Reconcile',
      );
      return keep({
        outcome: 'rejected',
        detail: {
          outcome: 'rejected',
          reason: 'trade_not_found',
          message: `${reply.error}: an unsigned answer proves nothing; the order is left as it is`,
        },
        verified: null,
      });
    }
    const { verification } = reply;
    if (reply.status === 'unverified') {
      if (!dryRun) this.metrics.verificationFailed('query', verification.outcome);
      return keep({
        outcome: 'rejected',
        detail: { outcome: 'rejected', reason: 'signature', message: verification.summary },
        verification,
        verified: false,
      });
    }

    const tradeStatus = reply.trade.tradeStatus;
    const reading = readQueriedTrade(reply.trade, outTradeNo, context.answeredAt);
    if (!reading.ok) {
      const kept = await keep({
        outcome: 'rejected',
        detail: { outcome: 'rejected', reason: reading.reason, message: reading.message },
        verification,
      });
      return { ...kept, tradeStatus };
    }
    const { command } = reading;
    const evidence = { verification, verified: true };

    if (dryRun) {
      const session = new InMemoryStreamSession((streamId) => this.sessions.session().read(streamId));
      const decision = await session.transaction((stream) =>
        decideOnStream(stream, orderStream, command, metadataOf()),
      );
      const detail: InboxOutcomeDetail =
        decision.kind === 'no_new_fact'
          ? { outcome: 'no_new_fact', streamId: decision.streamId, reason: 'stale' }
          : {
              outcome: 'applied',
              streamId: decision.streamId,
              transactionId: decision.transactionId,
              firstPosition: decision.firstPosition,
              lastPosition: decision.position,
              events: decision.events.map(({ type, version }) => ({ type, version })),
            };
      return {
        ...base,
        tradeStatus,
        outcome: decision.kind === 'appended' ? 'applied' : 'no_new_fact',
        detail,
        events: decision.kind === 'appended' ? decision.events.map(({ type }) => ({ type })) : [],
      };
    }

    const { entry, processedBy } = await this.inbox.reserve(raw, command.notifyId);
    if (processedBy !== undefined) {
      const detail: InboxOutcomeDetail = {
        outcome: 'no_new_fact',
        reason: 'duplicate',
        duplicateOf: processedBy,
      };
      await this.inbox.record(entry, { ...evidence, outcome: 'no_new_fact', detail });
      return { ...base, tradeStatus, inboxId: entry.id, outcome: 'no_new_fact', detail };
    }
    const applied = await this.bus.execute(new RecordTradeNotificationCommand(entry, command, evidence));
    const events =
      applied.detail.outcome === 'applied' ? applied.detail.events.map(({ type }) => ({ type })) : [];
    return {
      ...base,
      tradeStatus,
      inboxId: entry.id,
      outcome: applied.outcome,
      detail: applied.detail,
      events,
      ...(applied.checkpoint === undefined ? {} : { checkpoint: applied.checkpoint }),
    };
  }
}
