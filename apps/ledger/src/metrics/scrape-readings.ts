import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { LEDGER_EVENT_CATALOGUE } from '@ledger/domain';
import { INBOX_CHANNELS, INBOX_ENDINGS } from '@ledger/inbox';
import {
  LEDGER_DATABASE,
  LedgerConfig,
  type LedgerDatabase,
  LedgerMetrics,
  type ScrapeReading,
} from '@ledger/platform';
import { ProcessConsumers, WEBHOOK_EVENT_TYPES, WebhookQueries } from '@ledger/processes';
import { OrderQueries, ProjectionsService, RefundBatchQueries } from '@ledger/projections';

/** The outcomes of a webhook attempt, as `webhook_attempts` records them. */
const WEBHOOK_OUTCOMES = ['succeeded', 'failed', 'timeout', 'unreachable'];

/** The gateway services the ledger calls. */
const GATEWAY_SERVICES = [
  'notify_verify',
  'single_trade_query',
  'refund_fastpay_by_platform_nopwd',
  'send_goods_confirm_by_platform',
];

/**
 * Sets the application's metrics up (docs/operations.md, "Metrics"): Node's own, `ledger_info`, the counters'
 * known series at zero, and what the gauges read at each scrape: every checkpointed consumer's lag (the
 * projections and the process managers' consumers), the orders waiting for a decision, the unsettled refund
 * batches and webhooks, and the oldest order awaiting payment. Each read is one indexed statement or two;
 * they run one after another, so a scrape holds at most one pooled connection at a time.
 */
@Injectable()
export class ScrapeReadings implements OnModuleInit {
  constructor(
    private readonly metrics: LedgerMetrics,
    private readonly config: LedgerConfig,
    @Inject(LEDGER_DATABASE) private readonly database: LedgerDatabase,
    private readonly projections: ProjectionsService,
    private readonly consumers: ProcessConsumers,
    private readonly orders: OrderQueries,
    private readonly refundBatches: RefundBatchQueries,
    private readonly webhooks: WebhookQueries,
  ) {}

  onModuleInit(): void {
    this.metrics.collectProcessMetrics();
    this.metrics.describe(this.config.mode, this.database.kind);
    this.metrics.expect({
      notifications: { channels: INBOX_CHANNELS, endings: INBOX_ENDINGS },
      ingestChannels: ['notify', 'refund_notify', 'return'],
      eventTypes: Object.keys(LEDGER_EVENT_CATALOGUE.currentVersions),
      webhooks: { eventTypes: WEBHOOK_EVENT_TYPES, outcomes: WEBHOOK_OUTCOMES },
      gatewayServices: GATEWAY_SERVICES,
    });
    this.metrics.readAtScrape(() => this.read());
  }

  private async read(): Promise<ScrapeReading> {
    const projectionLag = [
      ...(await this.projections.lag()),
      await this.consumers.fulfilmentLag(),
      await this.consumers.refundWorkLag(),
    ].map(({ projection, events, seconds }) => ({ projection, events, seconds }));
    return {
      projectionLag,
      pendingDecisions: { ...(await this.orders.pendingDecisionCounts()) },
      refundBatches: await this.refundBatches.unsettledCounts(),
      webhookMessages: await this.webhooks.unsettledCounts(),
      oldestAwaitingPaymentSeconds: await this.orders.oldestAwaitingPaymentAge(
        this.config.reconcile.horizonDays,
      ),
    };
  }
}
