import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { InjectDataSource } from '@nestjs/typeorm';
import { AlipayGateway, GatewayError } from '@ledger/alipay-gateway';
import { isPaidStatus, type TradeStatus } from '@ledger/alipay-protocol';
import {
  nextQueryDelayMs,
  ReconcileSchedule,
  RecordTradeQueryCommand,
  type ReconcileCandidate,
  type ReconcileScheduleStatus,
  type RecordedQuery,
} from '@ledger/commands';
import { orderStreamId } from '@ledger/domain';
import { LedgerConfig, LedgerLogger, WorkerLoop } from '@ledger/platform';
import { DataSource } from 'typeorm';
import { RECONCILE_OPTIONS, type ReconcileOptions } from './reconcile-options';

const CONTEXT = 'Reconciler';

/** Orders to reconcile on demand: listed, or placed in a time range and still awaiting payment. */
export type ReconcileSelection = { outTradeNos: readonly string[] } | { from: Date; to: Date };

/** How one order's query ended. */
export interface ReconciledOrder {
  outTradeNo: string;
  /** `found`, `unverified`, `not_found` (`TRADE_IS_NOT_EXIST`), `error` (no answer), `unknown_order`. */
  answer: RecordedQuery['answer'] | 'error' | 'unknown_order';
  tradeStatus?: string;
  inboxId?: number;
  /** The inbox outcome of the answer. */
  outcome?: RecordedQuery['outcome'];
  /** Events appended, or, in a dry run, that would be. */
  events: string[];
  error?: { code: string; message: string; alipayCode?: string };
}

/** What a reconcile run did (`POST /admin/reconcile`, `npx ledger reconcile`). */
export interface ReconcileReport {
  dryRun: boolean;
  selected: number;
  /** The time range selected more orders than one run queries: only the oldest were. */
  truncated: boolean;
  orders: ReconciledOrder[];
  totals: {
    paid: number;
    applied: number;
    noNewFact: number;
    notFound: number;
    unverified: number;
    errors: number;
    unknown: number;
  };
  /** Orders Alipay answered `TRADE_IS_NOT_EXIST` about: reported, never closed on that answer alone. */
  notFound: string[];
  durationMs: number;
}

/** The reconciler's state and the signs that notifications stopped coming (`GET /admin/reconcile`). */
export interface ReconcileStatus {
  enabled: boolean;
  awaitingAfterMinutes: number;
  horizonDays: number;
  schedule: ReconcileScheduleStatus;
  /** The oldest order still awaiting payment, and its age: a long wait with a paid buyer is a lost payment. */
  oldestAwaitingPayment: { outTradeNo: string; placedAt: string; ageSeconds: number } | null;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Alipay says the trade has moved past waiting: the order needs no more queries. */
function settles(tradeStatus: TradeStatus | undefined): boolean {
  return tradeStatus !== undefined && (isPaidStatus(tradeStatus) || tradeStatus === 'TRADE_CLOSED');
}

/**
 * The reconciler (docs/operations.md, "Reconciliation"): asks Alipay with `single_trade_query` about the
 * orders whose payment the ledger may have missed, on a schedule kept in PostgreSQL
 * (`reconcile_schedule`), and records each answer through `RecordTradeQueryCommand`: evidence on the
 * `query` channel, then the order's rules. A pass enrols the orders awaiting payment past
 * `RECONCILE_AWAITING_AFTER_MINUTES` and those with an unverified or failed notification, then claims due
 * rows (`FOR UPDATE SKIP LOCKED`: instances share the schedule without a lease) and queries each once,
 * settling it as resolved, due again after a backoff, or expired past the horizon.
 */
@Injectable()
export class Reconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly loop: WorkerLoop;
  private readonly gatewayPath: string;

  constructor(
    private readonly gateway: AlipayGateway,
    private readonly bus: CommandBus,
    private readonly schedule: ReconcileSchedule,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly logger: LedgerLogger,
    config: LedgerConfig,
    @Inject(RECONCILE_OPTIONS) private readonly options: ReconcileOptions,
  ) {
    this.gatewayPath = new URL(config.alipay.gateway).pathname;
    this.loop = new WorkerLoop({
      name: CONTEXT,
      pollMs: options.pollMs,
      logger,
      pass: async () => (await this.runOnce()) >= options.batchSize,
    });
  }

  onApplicationBootstrap(): void {
    if (this.options.enabled) this.loop.start();
  }

  /** Stops before the database closes; the query in flight finishes or is aborted. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  /**
   * One pass: enrols what is due for a first query, then claims and queries one batch. Resolves with how
   * many orders were queried. The loop calls it; tests step it.
   */
  async runOnce(): Promise<number> {
    await this.enrol();
    const claimed = await this.schedule.claim(this.options.batchSize, this.options.holdMs);
    for (const { outTradeNo, attempts } of claimed) {
      if (this.loop.stopping) break;
      const result = await this.queryOne(outTradeNo, false);
      await this.schedule.settle(outTradeNo, this.settlement(result, attempts));
    }
    return claimed.length;
  }

  /** Puts on the schedule the orders that need a first query (docs/operations.md, "Reconciliation"). */
  async enrol(): Promise<number> {
    const { awaitingAfterMs, horizonMs } = this.options;
    const awaiting = await this.dataSource.query<{ out_trade_no: string; created_at: Date }[]>(
      `SELECT o.out_trade_no, o.created_at FROM order_status o
       WHERE o.status = 'awaiting_payment' AND o.placed
         AND o.created_at <= now() - $1 * interval '1 millisecond'
         AND o.created_at > now() - $2 * interval '1 millisecond'
         AND NOT EXISTS (SELECT 1 FROM reconcile_schedule s WHERE s.out_trade_no = o.out_trade_no)
       ORDER BY o.created_at LIMIT 500`,
      [awaitingAfterMs, horizonMs],
    );
    const failing = await this.dataSource.query<{ out_trade_no: string; received_at: Date }[]>(
      `SELECT i.out_trade_no, max(i.received_at) AS received_at
       FROM inbox_notifications i JOIN order_status o ON o.out_trade_no = i.out_trade_no AND o.placed
       WHERE i.channel IN ('notify', 'return') AND i.received_at > now() - $1 * interval '1 millisecond'
         AND (i.outcome = 'failed' OR (i.outcome = 'rejected' AND i.verified IS NOT TRUE))
         AND NOT EXISTS (
           SELECT 1 FROM reconcile_schedule s
           WHERE s.out_trade_no = i.out_trade_no AND (s.state = 'open' OR s.settled_at >= i.received_at))
       GROUP BY i.out_trade_no LIMIT 500`,
      [horizonMs],
    );
    const candidates: ReconcileCandidate[] = [
      ...awaiting.map((row) => {
        const placedAt = new Date(row.created_at);
        return {
          outTradeNo: row.out_trade_no,
          reason: 'awaiting_payment' as const,
          causeAt: placedAt,
          firstAt: new Date(placedAt.getTime() + awaitingAfterMs),
        };
      }),
      ...failing.map((row) => ({
        outTradeNo: row.out_trade_no,
        reason: 'notification' as const,
        causeAt: new Date(row.received_at),
        firstAt: new Date(row.received_at),
      })),
    ];
    // An order in both lists is enrolled once, for its notification (the later cause).
    const unique = new Map(candidates.map((candidate) => [candidate.outTradeNo, candidate]));
    return this.schedule.enrol([...unique.values()], horizonMs);
  }

  /**
   * The orders the ledger placed, among `names`: the projection answers for most; an order it does not show
   * yet (placed a moment ago, the projector behind) is looked for on its stream, the truth it follows.
   */
  private async placedOrders(names: string[]): Promise<Set<string>> {
    const projected = await this.dataSource.query<{ out_trade_no: string }[]>(
      `SELECT out_trade_no FROM order_status WHERE placed AND out_trade_no = ANY($1::text[])`,
      [names],
    );
    const known = new Set(projected.map((row) => row.out_trade_no));
    const unseen = names.filter((name) => !known.has(name));
    if (unseen.length === 0) return known;
    const placed = await this.dataSource.query<{ stream_id: string }[]>(
      `SELECT stream_id FROM events WHERE stream_id = ANY($1::text[]) AND type = 'OrderPlaced'`,
      [unseen.map((name) => orderStreamId(name))],
    );
    const byStream = new Map(unseen.map((name) => [orderStreamId(name), name]));
    for (const row of placed) known.add(byStream.get(row.stream_id)!);
    return known;
  }

  /**
   * Queries the selected orders now (`POST /admin/reconcile`, `npx ledger reconcile`). With `dryRun`,
   * Alipay is asked (a query changes nothing there) but nothing is written: the report says what would be
   * appended. Otherwise each answer is recorded and the order's schedule row says so.
   */
  async reconcile(selection: ReconcileSelection, dryRun: boolean): Promise<ReconcileReport> {
    const started = performance.now();
    const { selected, orders: names, truncated } = await this.select(selection);
    const known = await this.placedOrders(names);
    const report: ReconcileReport = {
      dryRun,
      selected,
      truncated,
      orders: [],
      totals: { paid: 0, applied: 0, noNewFact: 0, notFound: 0, unverified: 0, errors: 0, unknown: 0 },
      notFound: [],
      durationMs: 0,
    };
    for (const outTradeNo of names) {
      if (!known.has(outTradeNo)) {
        // Nothing to reconcile: the ledger never placed it (a query would only record an anomaly).
        report.orders.push({ outTradeNo, answer: 'unknown_order', events: [] });
        report.totals.unknown += 1;
        continue;
      }
      const result = await this.queryOne(outTradeNo, dryRun);
      if (!dryRun) {
        await this.schedule.enrol(
          [{ outTradeNo, reason: 'on_demand', causeAt: new Date(), firstAt: new Date() }],
          this.options.horizonMs,
        );
        await this.schedule.settle(outTradeNo, this.settlement(result, 1), true);
      }
      report.orders.push(result);
      if (result.events.includes('PaymentSucceeded')) report.totals.paid += 1;
      if (result.outcome === 'applied') report.totals.applied += 1;
      if (result.outcome === 'no_new_fact') report.totals.noNewFact += 1;
      if (result.answer === 'unverified') report.totals.unverified += 1;
      if (result.answer === 'error') report.totals.errors += 1;
      if (result.answer === 'not_found') {
        report.totals.notFound += 1;
        report.notFound.push(outTradeNo);
      }
    }
    report.durationMs = Math.round(performance.now() - started);
    this.logger.log(
      `reconcile${dryRun ? ' (dry run)' : ''}: ${report.orders.length} orders asked about, ` +
        `${report.totals.paid} paid by the answer, ${report.totals.notFound} unknown to Alipay`,
      CONTEXT,
    );
    return report;
  }

  async status(): Promise<ReconcileStatus> {
    const [oldest] = await this.dataSource.query<
      { out_trade_no: string; created_at: Date; age_seconds: string }[]
    >(
      `SELECT out_trade_no, created_at, floor(extract(epoch FROM now() - created_at)) AS age_seconds
       FROM order_status WHERE status = 'awaiting_payment' AND placed
       ORDER BY created_at, out_trade_no LIMIT 1`,
    );
    return {
      enabled: this.options.enabled,
      awaitingAfterMinutes: Math.round(this.options.awaitingAfterMs / 60_000),
      horizonDays: Math.round(this.options.horizonMs / 86_400_000),
      schedule: await this.schedule.status(),
      oldestAwaitingPayment:
        oldest === undefined
          ? null
          : {
              outTradeNo: oldest.out_trade_no,
              placedAt: new Date(oldest.created_at).toISOString(),
              ageSeconds: Number(oldest.age_seconds),
            },
    };
  }

  private async select(
    selection: ReconcileSelection,
  ): Promise<{ selected: number; orders: string[]; truncated: boolean }> {
    const max = this.options.maxOnDemand;
    if ('outTradeNos' in selection) {
      const orders = [...new Set(selection.outTradeNos)];
      return { selected: orders.length, orders: orders.slice(0, max), truncated: orders.length > max };
    }
    const rows = await this.dataSource.query<{ out_trade_no: string }[]>(
      `SELECT out_trade_no FROM order_status
       WHERE status = 'awaiting_payment' AND placed AND created_at >= $1 AND created_at < $2
       ORDER BY created_at, out_trade_no LIMIT $3`,
      [selection.from, selection.to, max + 1],
    );
    const orders = rows.map((row) => row.out_trade_no);
    return { selected: orders.length, orders: orders.slice(0, max), truncated: orders.length > max };
  }

  /** Asks Alipay about one order and records the answer; an answer that never came is `error`. */
  private async queryOne(outTradeNo: string, dryRun: boolean): Promise<ReconciledOrder> {
    let answer;
    try {
      answer = await this.gateway.singleTradeQuery({ outTradeNo }, { signal: this.loop.signal });
    } catch (error) {
      const code = error instanceof GatewayError ? error.code : 'INTERNAL';
      this.logger.warn(
        {
          msg: `single_trade_query for ${outTradeNo} gave no answer (${code}): ${errorMessage(error)}`,
          err: error,
        },
        CONTEXT,
      );
      return {
        outTradeNo,
        answer: 'error',
        events: [],
        error: {
          code,
          message: errorMessage(error),
          ...(error instanceof GatewayError && error.alipayCode !== undefined
            ? { alipayCode: error.alipayCode }
            : {}),
        },
      };
    }
    const recorded = await this.bus.execute(
      new RecordTradeQueryCommand(outTradeNo, answer, {
        answeredAt: new Date(),
        gatewayPath: this.gatewayPath,
        dryRun,
      }),
    );
    return {
      outTradeNo,
      answer: recorded.answer,
      ...(recorded.tradeStatus === undefined ? {} : { tradeStatus: recorded.tradeStatus }),
      ...(recorded.inboxId === undefined ? {} : { inboxId: recorded.inboxId }),
      outcome: recorded.outcome,
      events: recorded.events.map(({ type }) => type),
    };
  }

  private settlement(result: ReconciledOrder, attempts: number) {
    return {
      answer: result.answer,
      detail: result.error ?? { outcome: result.outcome, events: result.events },
      ...(result.inboxId === undefined ? {} : { inboxId: result.inboxId }),
      resolved: result.answer === 'found' && settles(result.tradeStatus as TradeStatus | undefined),
      paidByQuery: result.events.includes('PaymentSucceeded'),
      retryInMs: nextQueryDelayMs(this.options.backoff, attempts),
    };
  }
}
