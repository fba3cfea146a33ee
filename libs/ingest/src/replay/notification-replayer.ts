import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { decodePairs, parseForm, type VerificationExplanation } from '@ledger/alipay-protocol';
import { decideOrder, evolveOrder, orderStreamId, type OrderState } from '@ledger/domain';
import { EventStore } from '@ledger/event-store';
import { LedgerLogger } from '@ledger/platform';
import { DataSource } from 'typeorm';
import { IngestError } from '../ingest-error';
import type { InboxChannel } from '../inbox/inbox-notification';
import { InboxStore } from '../inbox/inbox-store';
import { foldOrderStream } from '../orders/order-stream-writer';
import { replayTradeNotification } from '../pipeline/apply-trade-notification';
import { readTradeCommand } from '../pipeline/trade-command';
import type { ReplayOptions, ReplayReport, ReplaySelection, ReplayedOrder } from './replay-report';

/** Rows read per page: a replay of everything never holds the whole inbox in memory. */
const PAGE_SIZE = 500;
/** The most ids one replay may name. */
export const MAX_REPLAY_IDS = 10_000;

interface ReplayRow {
  id: string;
  channel: InboxChannel;
  raw_body: Buffer;
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
 * Runs stored notifications again through today's code (issue 4 §7, `POST /admin/replay`): each verified
 * notification's raw bytes are read again and decided on its order, using the stored evidence (Alipay cannot
 * be asked again: a notify_id dies once answered). Idempotent: the decider appends nothing for a notify_id
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
      durationMs: 0,
    };
    const orders = new Map<string, ReplayedOrder>();
    const simulated = new Map<string, { state: OrderState; version: number }>();

    let after = 0;
    for (;;) {
      const rows = await this.dataSource.query<ReplayRow[]>(
        `SELECT id, channel, raw_body, verification, verified FROM inbox_notifications
         WHERE ${sql} AND id > $${parameters.length + 1}
         ORDER BY id LIMIT ${PAGE_SIZE}`,
        [...parameters, after],
      );
      for (const row of rows) {
        const inboxId = Number(row.id);
        report.selected += 1;
        if (row.channel === 'refund_notify') {
          report.skipped.push({ inboxId, reason: 'unsupported_channel' });
          continue;
        }
        if (row.verified !== true || row.verification === null) {
          report.skipped.push({ inboxId, reason: 'not_verified' });
          continue;
        }
        const params = decodePairs(parseForm(row.raw_body).pairs, row.verification.charset);
        const reading = readTradeCommand(params, row.channel);
        if (!reading.ok) {
          report.skipped.push({ inboxId, reason: 'unreadable' });
          continue;
        }
        const { command } = reading;
        const streamId = orderStreamId(command.outTradeNo);
        let appended: { type: string; data: unknown; version: number }[];
        if (dryRun) {
          let current = simulated.get(streamId);
          if (current === undefined) {
            const recorded = await this.store.readStream(streamId);
            current = { state: foldOrderStream(recorded), version: recorded.length };
          }
          const decided = decideOrder(command, current.state);
          const base = current.version;
          simulated.set(streamId, {
            state: decided.reduce(evolveOrder, current.state),
            version: base + decided.length,
          });
          appended = decided.map((event, index) => ({ ...event, version: base + index + 1 }));
        } else {
          const decision = await replayTradeNotification(
            { dataSource: this.dataSource, store: this.store, inbox: this.inbox },
            inboxId,
            command,
            replayedAt,
          );
          appended = decision.events;
        }
        report.replayed += 1;
        if (appended.length > 0) {
          const order = orders.get(streamId) ?? { outTradeNo: command.outTradeNo, streamId, events: [] };
          order.events.push(...appended.map((event) => ({ inboxId, ...event })));
          orders.set(streamId, order);
          report.events += appended.length;
        }
      }
      if (rows.length < PAGE_SIZE) break;
      after = Number(rows[rows.length - 1].id);
    }

    report.orders = [...orders.values()];
    report.durationMs = Math.round(performance.now() - started);
    this.logger.log(
      `replay${dryRun ? ' (dry run)' : ''}: ${report.replayed} of ${report.selected} notifications run, ` +
        `${report.events} events ${dryRun ? 'would be ' : ''}appended`,
      'Replay',
    );
    return report;
  }
}
