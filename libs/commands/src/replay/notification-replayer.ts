import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  decodePairs,
  parseForm,
  type TextParam,
  type VerificationExplanation,
} from '@ledger/alipay-protocol';
import {
  decideOrder,
  decideRefundBatch,
  evolveOrder,
  evolveRefundBatch,
  orderCommandsForBatchEvent,
  orderStreamId,
  outTradeNoOfStream,
  refundBatchStreamId,
  type CompleteRefundBatch,
  type OrderCommand,
  type OrderState,
  type RefundBatchState,
} from '@ledger/domain';
import { EventStore } from '@ledger/event-store';
import { LedgerLogger } from '@ledger/platform';
import { DataSource } from 'typeorm';
import { IngestError } from '../ingest-error';
import type { InboxChannel } from '../inbox/inbox-notification';
import { InboxStore } from '../inbox/inbox-store';
import { foldOrderStream } from '../orders/order-stream-writer';
import { replayTradeNotification } from '../pipeline/apply-trade-notification';
import { readTradeCommand } from '../pipeline/trade-command';
import { replayRefundNotification } from '../refunds/apply-refund-notification';
import { foldRefundBatchStream } from '../refunds/refund-batch-writer';
import { readRefundCommand } from '../refunds/refund-command';
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
      throw new IngestError(
        'INVALID_REPLAY_SELECTION',
        `ids must list 1 to ${MAX_REPLAY_IDS} inbox ids`,
        'ids',
      );
    }
    if (!ids.every((id) => Number.isSafeInteger(id) && id >= 1)) {
      throw new IngestError('INVALID_REPLAY_SELECTION', 'every id must be a positive integer', 'ids');
    }
    return { sql: 'id = ANY($1::bigint[])', parameters: [ids] };
  }
  if ('from' in selection) {
    const { from, to } = selection;
    const valid = (date: unknown) => date instanceof Date && !Number.isNaN(date.getTime());
    if (!valid(from) || !valid(to)) {
      throw new IngestError('INVALID_REPLAY_SELECTION', 'from and to must be valid times', 'from');
    }
    if (from.getTime() >= to.getTime()) {
      throw new IngestError('INVALID_REPLAY_SELECTION', 'from must be before to', 'to');
    }
    return { sql: 'received_at >= $1 AND received_at < $2', parameters: [from, to] };
  }
  throw new IngestError('INVALID_REPLAY_SELECTION', 'choose all, a time range (from, to) or ids');
}

/**
 * What a dry run decided so far: each stream as the notifications already run would leave it, so that a
 * notification is decided after the earlier ones of the same run, as a real replay would decide it.
 */
class DryRun {
  private readonly orders = new Map<string, { state: OrderState; version: number }>();
  private readonly batches = new Map<string, { state: RefundBatchState; version: number }>();

  constructor(private readonly store: EventStore) {}

  async order(command: OrderCommand): Promise<Appended['orders'][number]> {
    const streamId = orderStreamId(command.outTradeNo);
    let current = this.orders.get(streamId);
    if (current === undefined) {
      const recorded = await this.store.readStream(streamId);
      current = { state: foldOrderStream(recorded), version: recorded.length };
    }
    const decided = decideOrder(command, current.state);
    const base = current.version;
    this.orders.set(streamId, {
      state: decided.reduce(evolveOrder, current.state),
      version: base + decided.length,
    });
    return {
      outTradeNo: command.outTradeNo,
      streamId,
      events: decided.map((event, index) => ({ ...event, version: base + index + 1 })),
    };
  }

  /** The batch's events, then the order commands they call for, as `decideOnRefundBatch` runs them. */
  async refund(command: CompleteRefundBatch): Promise<Appended> {
    const streamId = refundBatchStreamId(command.batchNo);
    let current = this.batches.get(streamId);
    if (current === undefined) {
      const recorded = await this.store.readStream(streamId);
      current = { state: foldRefundBatchStream(recorded), version: recorded.length };
    }
    const decided = decideRefundBatch(command, current.state);
    const orderCommands: OrderCommand[] = [];
    let state = current.state;
    for (const event of decided) {
      orderCommands.push(...orderCommandsForBatchEvent(event, state));
      state = evolveRefundBatch(state, event);
    }
    const base = current.version;
    this.batches.set(streamId, { state, version: base + decided.length });
    const orders: Appended['orders'] = [];
    for (const orderCommand of orderCommands) orders.push(await this.order(orderCommand));
    return {
      orders,
      batch: {
        batchNo: command.batchNo,
        streamId,
        events: decided.map((event, index) => ({ ...event, version: base + index + 1 })),
      },
    };
  }
}

/**
 * Runs stored notifications again through today's code (issue 4 §7, issue 5: `POST /admin/replay`): each
 * verified notification's raw bytes are read again and decided, a trade notification on its order, a batch
 * refund result on its batch and the orders its records name, using the stored evidence (Alipay cannot be
 * asked again: a notify_id dies once answered). Idempotent: the deciders append nothing for a notify_id
 * already applied, so only what today's rules add, or what failed before, is appended. In receipt order.
 */
@Injectable()
export class NotificationReplayer {
  private readonly inbox: InboxStore;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly store: EventStore,
    private readonly logger: LedgerLogger,
  ) {
    this.inbox = new InboxStore(dataSource);
  }

  /**
   * Replays the selected notifications; with `dryRun`, decides against the current streams (and what the
   * earlier notifications of the same run would add) without writing anything.
   * @throws IngestError `INVALID_REPLAY_SELECTION`.
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
    const simulation = dryRun ? new DryRun(this.store) : undefined;

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

  /** One verified notification through its channel; undefined when today's code cannot read it. */
  private async replayOne(
    inboxId: number,
    channel: InboxChannel,
    params: readonly TextParam[],
    replayedAt: string,
    simulation: DryRun | undefined,
  ): Promise<Appended | undefined> {
    const deps = { dataSource: this.dataSource, store: this.store, inbox: this.inbox };
    if (channel === 'refund_notify') {
      const reading = readRefundCommand(params, channel);
      if (!reading.ok) return undefined;
      const { command } = reading;
      if (simulation !== undefined) return simulation.refund(command);
      const decision = await replayRefundNotification(deps, inboxId, command, replayedAt);
      return {
        orders: decision.orders.map((order) => ({
          outTradeNo: outTradeNoOfStream(order.streamId) ?? order.streamId,
          streamId: order.streamId,
          events: order.events,
        })),
        batch: { batchNo: command.batchNo, streamId: decision.streamId, events: decision.events },
      };
    }
    const reading = readTradeCommand(params, channel);
    if (!reading.ok) return undefined;
    const { command } = reading;
    if (simulation !== undefined) return { orders: [await simulation.order(command)] };
    const decision = await replayTradeNotification(deps, inboxId, command, replayedAt);
    return {
      orders: [{ outTradeNo: command.outTradeNo, streamId: decision.streamId, events: decision.events }],
    };
  }
}
