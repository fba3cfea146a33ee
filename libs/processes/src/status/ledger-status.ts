import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  LEDGER_DATABASE,
  LedgerConfig,
  type DatabaseKind,
  type LedgerDatabase,
  type LedgerMode,
} from '@ledger/platform';
import { ProjectionsService, type ProjectionOverview } from '@ledger/projections';
import { DataSource } from 'typeorm';

/** The ledger at a glance (`npx ledger status`; docs/operations.md, "The CLI"). */
export interface LedgerStatusReport {
  mode: LedgerMode;
  database: DatabaseKind;
  /** Each projection's lag, and its rebuild when one is running or left shadows behind. */
  projections: {
    projection: string;
    events: number;
    seconds: number;
    rebuild: ProjectionOverview['rebuild'];
  }[];
  /** Decisions waiting to be acted on, by kind. */
  pendingDecisions: {
    /** Paid orders to deliver. */
    delivery: number;
    /** Delivered escrow trades whose shipping is to be confirmed to Alipay. */
    shipping: number;
    /** Refunded deliveries whose goods are to be taken back. */
    return: number;
    /** Partial refunds of delivered orders, for a person to review. */
    returnReview: number;
    /** Orders with an anomaly nobody has accepted or confirmed. */
    anomalies: number;
    /** Refund batches whose outcome the ledger does not know: a person reads Alipay's console. */
    refundOutcomeUnknown: number;
    /** Webhooks that exhausted their retries. */
    deadWebhooks: number;
  };
  /**
   * Silence: the last notification Alipay sent (notify_url or refund notify_url) and how long ago. A long
   * silence while orders await payment means notifications stopped coming.
   */
  silence: { lastNotificationAt: string | null; seconds: number | null };
  /** Orders placed and not paid, and the oldest of them. */
  awaitingPayment: {
    orders: number;
    oldest: { outTradeNo: string; placedAt: string; ageSeconds: number } | null;
  };
}

interface CountsRow {
  delivery: string;
  shipping: string;
  return: string;
  return_review: string;
  anomalies: string;
  awaiting: string;
}

/**
 * Reads what an operator asks first: mode, projection lag, what waits for a decision, when Alipay last
 * spoke, and what awaits payment. Reads only; every count is one query on the projections or the inbox.
 */
@Injectable()
export class LedgerStatus {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: LedgerConfig,
    @Inject(LEDGER_DATABASE) private readonly database: LedgerDatabase,
    private readonly projections: ProjectionsService,
  ) {}

  async report(): Promise<LedgerStatusReport> {
    const projections = await this.projections.overview();
    const [counts] = await this.dataSource.query<CountsRow[]>(
      `SELECT count(*) FILTER (WHERE delivery_state = 'pending') AS delivery,
              count(*) FILTER (WHERE shipping_state = 'pending') AS shipping,
              count(*) FILTER (WHERE return_state = 'pending') AS return,
              count(*) FILTER (WHERE return_state = 'manual_review') AS return_review,
              count(*) FILTER (WHERE jsonb_path_exists(anomalies, '$[*] ? (!exists(@.resolution))')) AS anomalies,
              count(*) FILTER (WHERE status = 'awaiting_payment' AND placed) AS awaiting
       FROM order_status`,
    );
    const [oldest] = await this.dataSource.query<{ out_trade_no: string; placed_at: Date; age: number }[]>(
      `SELECT out_trade_no, placed_at, GREATEST(EXTRACT(EPOCH FROM now() - placed_at), 0)::float8 AS age
       FROM order_status WHERE status = 'awaiting_payment' AND placed AND placed_at IS NOT NULL
       ORDER BY placed_at, out_trade_no LIMIT 1`,
    );
    const [{ unknown }] = await this.dataSource.query<{ unknown: string }[]>(
      `SELECT count(*) AS unknown FROM refund_batches WHERE state = 'outcome_unknown'`,
    );
    const [{ dead }] = await this.dataSource.query<{ dead: string }[]>(
      `SELECT count(*) AS dead FROM webhook_messages WHERE state = 'dead'`,
    );
    // The newest of each channel, each from its index's end.
    const [last] = await this.dataSource.query<{ received_at: Date | null; seconds: number | null }[]>(
      `SELECT max(received_at) AS received_at,
              GREATEST(EXTRACT(EPOCH FROM now() - max(received_at)), 0)::float8 AS seconds
       FROM (SELECT (SELECT received_at FROM inbox_notifications WHERE channel = c
                     ORDER BY received_at DESC LIMIT 1) AS received_at
             FROM unnest(ARRAY['notify', 'refund_notify']) AS c) latest`,
    );
    return {
      mode: this.config.mode,
      database: this.database.kind,
      projections: projections.map(({ projection, events, seconds, rebuild }) => ({
        projection,
        events,
        seconds,
        rebuild,
      })),
      pendingDecisions: {
        delivery: Number(counts.delivery),
        shipping: Number(counts.shipping),
        return: Number(counts.return),
        returnReview: Number(counts.return_review),
        anomalies: Number(counts.anomalies),
        refundOutcomeUnknown: Number(unknown),
        deadWebhooks: Number(dead),
      },
      silence: {
        lastNotificationAt: last.received_at === null ? null : new Date(last.received_at).toISOString(),
        seconds: last.seconds === null ? null : Math.floor(last.seconds),
      },
      awaitingPayment: {
        orders: Number(counts.awaiting),
        oldest:
          oldest === undefined
            ? null
            : {
                outTradeNo: oldest.out_trade_no,
                placedAt: new Date(oldest.placed_at).toISOString(),
                ageSeconds: Math.floor(oldest.age),
              },
      },
    };
  }
}
