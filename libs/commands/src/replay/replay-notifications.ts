import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  decodePairs,
  parseForm,
  type TextParam,
  type VerificationExplanation,
} from '@ledger/alipay-protocol';
import { outTradeNoOfStream } from '@ledger/domain';
import { InboxStore, type InboxChannel } from '@ledger/inbox';
import { LedgerLogger } from '@ledger/platform';
import { DataSource } from 'typeorm';
import { CommandError } from '../command-error';
import { detailOf, notificationMetadata } from '../pipeline/notification-channel';
import { readTradeCommand } from '../pipeline/trade-command';
import { readRefundCommand } from '../refunds/refund-command';
import { decideOnStream, runCommand, type StreamDecision } from '../stream/command-step';
import { InMemoryStreamSession } from '../stream/in-memory-stream-session';
import { PostgresStreamSessions } from '../stream/postgres-stream-session';
import { decideOnRefundBatch } from '../stream/refund-batch-step';
import { orderStream } from '../stream/stream-definitions';
import type { StreamEvent, StreamSession } from '../stream/stream-session';
import type {
  ReplayOptions,
  ReplayReport,
  ReplaySelection,
  ReplayedBatch,
  ReplayedOrder,
} from './replay-report';

/** An event a replay appended (or would append), with its stream version. */
interface ReplayedEvent {
  type: string;
  data: unknown;
  version: number;
}

/** What one replayed notification appended (or would append), by stream. */
interface Appended {
  orders: { outTradeNo: string; streamId: string; events: ReplayedEvent[] }[];
  batch?: { batchNo: string; streamId: string; events: ReplayedEvent[] };
}

/** Rows read per page: a replay of everything never holds the whole inbox in memory. */
const PAGE_SIZE = 500;
/** The most ids one replay may name. */
export const MAX_REPLAY_IDS = 10_000;

interface ReplayRow {
  id: string;
  channel: InboxChannel;
  raw_body: Buffer | null;
  verification: VerificationExplanation | null;
  verified: boolean | null;
}

/** What a selection means in SQL, checked. */
function selectionSql(selection: ReplaySelection): { sql: string; parameters: unknown[] } {
  if ('all' in selection && selection.all === true) return { sql: 'TRUE', parameters: [] };
  if ('ids' in selection) {
    const { ids } = selection;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_REPLAY_IDS) {
      throw new CommandError(
        'INVALID_REPLAY_SELECTION',
        `ids must list 1 to ${MAX_REPLAY_IDS} inbox ids`,
        'ids',
      );
    }
    if (!ids.every((id) => Number.isSafeInteger(id) && id >= 1)) {
      throw new CommandError('INVALID_REPLAY_SELECTION', 'every id must be a positive integer', 'ids');
    }
    return { sql: 'id = ANY($1::bigint[])', parameters: [ids] };
  }
  if ('from' in selection) {
    const { from, to } = selection;
    const valid = (date: unknown) => date instanceof Date && !Number.isNaN(date.getTime());
    if (!valid(from) || !valid(to)) {
      throw new CommandError('INVALID_REPLAY_SELECTION', 'from and to must be valid times', 'from');
    }
    if (from.getTime() >= to.getTime()) {
      throw new CommandError('INVALID_REPLAY_SELECTION', 'from must be before to', 'to');
    }
    return { sql: 'received_at >= $1 AND received_at < $2', parameters: [from, to] };
  }
  throw new CommandError('INVALID_REPLAY_SELECTION', 'choose all, a time range (from, to) or ids');
}

/** What a replayed notification decided: the decision of its stream, and what it appended by stream. */
interface Replayed {
  decision: StreamDecision<StreamEvent, unknown>;
  appended: Appended;
}

/** A stored notification read again: its notify_id, and the command step it runs on a given session. */
interface Replayable {
  notifyId: string;
  run(session: StreamSession): Promise<Replayed>;
}

/** What today's code reads in a verified notification; undefined when it cannot read it. */
function replayableOf(
  inboxId: number,
  channel: InboxChannel,
  params: readonly TextParam[],
): Replayable | undefined {
  const metadata = notificationMetadata(inboxId);
  const notifyType = params.find((p) => p.name === 'notify_type')?.value;
  if (channel === 'refund_notify' || (channel === 'import' && notifyType === 'batch_refund_notify')) {
    const reading = readRefundCommand(params, channel);
    if (!reading.ok) return undefined;
    const { command } = reading;
    return {
      notifyId: command.notifyId,
      run: async (session) => {
        const decision = await decideOnRefundBatch(session, command, metadata);
        const orders = decision.orders.map((order) => ({
          outTradeNo: outTradeNoOfStream(order.streamId) ?? order.streamId,
          streamId: order.streamId,
          events: order.events,
        }));
        const batch = { batchNo: command.batchNo, streamId: decision.streamId, events: decision.events };
        return { decision, appended: { orders, batch } };
      },
    };
  }
  if (channel === 'query') return undefined;
  const reading = readTradeCommand(params, channel === 'return' ? 'return' : 'notify');
  if (!reading.ok) return undefined;
  const { command } = reading;
  return {
    notifyId: command.notifyId,
    run: async (session) => {
      const decision = await decideOnStream(session, orderStream, command, metadata);
      const order = { outTradeNo: command.outTradeNo, streamId: decision.streamId, events: decision.events };
      return { decision, appended: { orders: [order] } };
    },
  };
}

/** Replays stored notifications: all, a time range or ids (`POST /admin/replay`, the CLI). */
export class ReplayNotificationsCommand extends Command<ReplayReport> {
  constructor(
    readonly selection: ReplaySelection,
    readonly options: ReplayOptions = {},
  ) {
    super();
  }
}

/**
 * Runs stored notifications again through today's code (docs/operations.md, "Replay": `POST /admin/replay`):
 * each verified notification's raw bytes are read again and decided, a trade notification on its order, a
 * batch refund result on its batch and the orders its records name, using the stored evidence (Alipay cannot
 * be asked again: a notify_id dies once answered). Idempotent: the deciders append nothing for a notify_id
 * already applied, so only what today's rules add, or what failed before, is appended. In receipt order.
 */
@CommandHandler(ReplayNotificationsCommand)
export class ReplayNotificationsHandler implements ICommandHandler<ReplayNotificationsCommand> {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly inbox: InboxStore,
    private readonly sessions: PostgresStreamSessions,
    private readonly logger: LedgerLogger,
  ) {}

  execute({ selection, options }: ReplayNotificationsCommand): Promise<ReplayReport> {
    return this.replay(selection, options);
  }

  /**
   * Replays the selected notifications; with `dryRun`, decides against the current streams (and what the
   * earlier notifications of the same run would add) without writing anything.
   * @throws CommandError `INVALID_REPLAY_SELECTION`.
   */
  async replay(selection: ReplaySelection, options: ReplayOptions = {}): Promise<ReplayReport> {
    const started = performance.now();
    const dryRun = options.dryRun === true;
    const { sql, parameters } = selectionSql(selection);
    const replayedAt = new Date().toISOString();
    const report: ReplayReport = {
      dryRun,
      selected: 0,
      replayed: 0,
      skipped: [],
      events: 0,
      orders: [],
      batches: [],
      durationMs: 0,
    };
    const orders = new Map<string, ReplayedOrder>();
    const batches = new Map<string, ReplayedBatch>();
    const total =
      options.onProgress === undefined
        ? 0
        : Number(
            (
              await this.dataSource.query<{ count: string }[]>(
                `SELECT count(*) AS count FROM inbox_notifications WHERE ${sql}`,
                parameters,
              )
            )[0].count,
          );
    // The dry run's session keeps what it would append, so that each notification is decided after the
    // earlier ones of the same run, as the real run decides it.
    const simulation = dryRun
      ? new InMemoryStreamSession((streamId) => this.sessions.session().read(streamId))
      : undefined;

    let after = 0;
    for (;;) {
      const rows = await this.dataSource.query<ReplayRow[]>(
        // Only verified rows are replayed: the bodies of the others are not read at all.
        `SELECT id, channel, CASE WHEN verified THEN raw_body END AS raw_body, verification, verified
         FROM inbox_notifications
         WHERE ${sql} AND id > $${parameters.length + 1}
         ORDER BY id LIMIT ${PAGE_SIZE}`,
        [...parameters, after],
      );
      for (const row of rows) {
        const inboxId = Number(row.id);
        report.selected += 1;
        // A query's answer is not a notification to read again: the reconciler asks again instead
        // (docs/operations.md, "Reconciliation").
        if (row.channel === 'query') {
          report.skipped.push({ inboxId, reason: 'query_answer' });
          continue;
        }
        if (row.verified !== true || row.verification === null || row.raw_body === null) {
          report.skipped.push({ inboxId, reason: 'not_verified' });
          continue;
        }
        const params = decodePairs(parseForm(row.raw_body).pairs, row.verification.charset);
        const appended = await this.replayOne(inboxId, row.channel, params, replayedAt, simulation);
        if (appended === undefined) {
          report.skipped.push({ inboxId, reason: 'unreadable' });
          continue;
        }
        report.replayed += 1;
        for (const order of appended.orders) {
          if (order.events.length === 0) continue;
          const entry = orders.get(order.streamId) ?? { ...order, events: [] };
          entry.events.push(...order.events.map((event) => ({ inboxId, ...event })));
          orders.set(order.streamId, entry);
          report.events += order.events.length;
        }
        const { batch } = appended;
        if (batch !== undefined && batch.events.length > 0) {
          const entry = batches.get(batch.streamId) ?? { ...batch, events: [] };
          entry.events.push(...batch.events.map((event) => ({ inboxId, ...event })));
          batches.set(batch.streamId, entry);
          report.events += batch.events.length;
        }
      }
      options.onProgress?.(report.selected, Math.max(total, report.selected));
      if (rows.length < PAGE_SIZE) break;
      after = Number(rows[rows.length - 1].id);
    }

    report.orders = [...orders.values()];
    report.batches = [...batches.values()];
    report.durationMs = Math.round(performance.now() - started);
    this.logger.log(
      `replay${dryRun ? ' (dry run)' : ''}: ${report.replayed} of ${report.selected} notifications run, ` +
        `${report.events} events ${dryRun ? 'would be ' : ''}appended`,
      'Replay',
    );
    return report;
  }

  /**
   * One verified notification through today's command step: on the dry run's in-memory session, or in a
   * transaction that appends what is new, takes the notify_id's key if free (it never stops the replay: the
   * deciders append nothing for a notification already applied) and updates the inbox row only when the
   * replay appended events. Undefined when today's code cannot read the notification.
   */
  private async replayOne(
    inboxId: number,
    channel: InboxChannel,
    params: readonly TextParam[],
    replayedAt: string,
    simulation: InMemoryStreamSession | undefined,
  ): Promise<Appended | undefined> {
    const replayable = replayableOf(inboxId, channel, params);
    if (replayable === undefined) return undefined;
    if (simulation !== undefined) {
      return (await simulation.transaction((session) => replayable.run(session))).appended;
    }
    const replayed = await runCommand(this.sessions, async (stream) => {
      // Streams before keys, as every writer of both takes them.
      const { decision, appended } = await replayable.run(stream);
      await this.inbox.claim(stream.session, replayable.notifyId, inboxId);
      if (decision.kind === 'appended') {
        await this.inbox.finish(
          inboxId,
          { outcome: 'applied', detail: detailOf(decision, replayedAt) },
          stream.session,
        );
      }
      return appended;
    });
    return replayed;
  }
}
