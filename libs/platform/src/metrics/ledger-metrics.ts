import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { withinTime } from '../workers/time-limit';

/** What the gauges read from the database at each scrape hold (docs/operations.md, "Metrics"). */
export interface ScrapeReading {
  /** Each checkpointed consumer: committed events after its checkpoint, and the age of the oldest. */
  projectionLag: readonly { projection: string; events: number; seconds: number }[];
  /** Orders waiting for a decision, by kind. */
  pendingDecisions: Readonly<Record<string, number>>;
  /** Refund batches not yet settled, by state. */
  refundBatches: Readonly<Record<string, number>>;
  /** Webhooks not yet sent, or dead, by state. */
  webhookMessages: Readonly<Record<string, number>>;
  /** Age of the oldest order still awaiting payment within the reconcile horizon; 0 when none. */
  oldestAwaitingPaymentSeconds: number;
}

/** The label values each counter starts at zero with, so that `increase()` sees even the first event. */
export interface ExpectedSeries {
  /** Each channel with each way a notification's processing can end (its outcome and reason). */
  notifications?: {
    channels: readonly string[];
    endings: readonly { outcome: string; reason: string }[];
  };
  /** The channels whose replies are timed. */
  ingestChannels?: readonly string[];
  eventTypes?: readonly string[];
  webhooks?: { eventTypes: readonly string[]; outcomes: readonly string[] };
  gatewayServices?: readonly string[];
}

/** The most a scrape waits for the database before it answers with the counters alone. */
export const SCRAPE_BUDGET_MS = 3_000;

const INGEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// notify_verify is given 5 s, the other services up to 15 s (libs/alipay-gateway).
const GATEWAY_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15];

/**
 * Children of a labelled metric, bound once per label values: the hot paths (every notification, every
 * append) skip prom-client's per-call label hashing. The label values come from closed lists (channels,
 * outcomes, event types), never from ids, so the map stays small.
 */
class BoundChildren<C> {
  private readonly children = new Map<string, C>();

  constructor(private readonly bind: (values: string[]) => C) {}

  of(...values: string[]): C {
    const key = values.join('\u0000');
    let child = this.children.get(key);
    if (child === undefined) {
      child = this.bind(values);
      this.children.set(key, child);
    }
    return child;
  }
}

/**
 * The ledger's Prometheus metrics (docs/operations.md, "Metrics"), on a registry of its own rather than
 * prom-client's global one, so that several applications in one process (the tests) each count their own.
 * Counters and histograms count what this process did, where it happens; the gauges are read from the
 * database when scraped (`readAtScrape`), so every instance reports the same shared state. A scrape whose
 * database reads fail or take longer than `SCRAPE_BUDGET_MS` still answers, with the counters and
 * `ledger_database_up 0`.
 */
export class LedgerMetrics {
  readonly registry = new Registry();

  private readonly notifications = this.counter('ledger_notifications_received_total', {
    help: 'Notifications whose processing ended, by channel, inbox outcome and the outcome reason',
    labelNames: ['channel', 'outcome', 'reason'],
  });
  private readonly verificationFailures = this.counter('ledger_notification_verification_failures_total', {
    help: 'Notifications that did not verify: the signature check outcome, or NOTIFY_VERIFY_FALSE',
    labelNames: ['channel', 'reason'],
  });
  private readonly ingest = this.histogram('ledger_notification_ingest_duration_seconds', {
    help: 'Time from an Alipay request received to its reply sent, by channel',
    labelNames: ['channel'],
    buckets: INGEST_BUCKETS,
  });
  private readonly gatewayDuration = this.histogram('ledger_alipay_gateway_request_duration_seconds', {
    help: 'Calls to the Alipay gateway (notify_verify among them), answered or not, by service',
    labelNames: ['service'],
    buckets: GATEWAY_BUCKETS,
  });
  private readonly gatewayErrors = this.counter('ledger_alipay_gateway_errors_total', {
    help: 'Calls to the Alipay gateway that gave no usable answer, by service and error code',
    labelNames: ['service', 'code'],
  });
  private readonly appended = this.counter('ledger_events_appended_total', {
    help: 'Events committed to the event store by this process, by type',
    labelNames: ['type'],
  });
  private readonly webhookAttempts = this.counter('ledger_webhook_attempts_total', {
    help: 'Webhook attempts made by this process, by webhook type and outcome',
    labelNames: ['event_type', 'outcome'],
  });
  private readonly webhooksDead = this.counter('ledger_webhooks_dead_total', {
    help: 'Webhooks whose retries this process spent (dead), by webhook type',
    labelNames: ['event_type'],
  });

  private readonly projectionLagEvents = this.gauge('ledger_projection_lag_events', {
    help: 'Committed events after a checkpointed consumer checkpoint (read at scrape)',
    labelNames: ['projection'],
  });
  private readonly projectionLagSeconds = this.gauge('ledger_projection_lag_seconds', {
    help: 'Age of the oldest event a checkpointed consumer has not applied; 0 when none (read at scrape)',
    labelNames: ['projection'],
  });
  private readonly pendingDecisions = this.gauge('ledger_pending_decisions', {
    help: 'Orders waiting for a delivery, shipping or return decision, or with an open anomaly (read at scrape)',
    labelNames: ['kind'],
  });
  private readonly refundBatches = this.gauge('ledger_refund_batches', {
    help: 'Refund batches not settled yet, by state (read at scrape)',
    labelNames: ['state'],
  });
  private readonly webhookMessages = this.gauge('ledger_webhook_messages', {
    help: 'Webhooks waiting to be sent, being sent, or dead (read at scrape)',
    labelNames: ['state'],
  });
  private readonly oldestAwaitingPayment = this.gauge('ledger_orders_awaiting_payment_oldest_age_seconds', {
    help: 'Age of the oldest order still awaiting payment within the reconcile horizon; 0 when none (read at scrape)',
  });
  private readonly databaseUp = this.gauge('ledger_database_up', {
    help: '1 when the last scrape read the database within its budget, 0 otherwise',
  });
  private readonly scrapeDuration = this.gauge('ledger_scrape_duration_seconds', {
    help: 'Time the last scrape spent reading the database',
  });
  private readonly info = this.gauge('ledger_info', {
    help: 'Always 1: the mode this process runs in and its database kind',
    labelNames: ['mode', 'database'],
  });

  private readonly notificationChildren = new BoundChildren((values) => this.notifications.labels(...values));
  private readonly verificationChildren = new BoundChildren((values) =>
    this.verificationFailures.labels(...values),
  );
  private readonly ingestChildren = new BoundChildren((values) => this.ingest.labels(...values));
  private readonly gatewayChildren = new BoundChildren((values) => this.gatewayDuration.labels(...values));
  private readonly gatewayErrorChildren = new BoundChildren((values) => this.gatewayErrors.labels(...values));
  private readonly appendedChildren = new BoundChildren((values) => this.appended.labels(...values));
  private readonly webhookChildren = new BoundChildren((values) => this.webhookAttempts.labels(...values));
  private readonly deadChildren = new BoundChildren((values) => this.webhooksDead.labels(...values));

  private read?: () => Promise<ScrapeReading>;
  private refreshing?: Promise<void>;
  /** A read of the database that outlived its scrape's budget: the next scrape waits for it, not another. */
  private reading?: Promise<ScrapeReading>;
  private processMetrics = false;

  /** A notification's processing ended with `outcome` (the inbox's) and its reason, if it has one. */
  notificationReceived(channel: string, outcome: string, reason = ''): void {
    this.notificationChildren.of(channel, outcome, reason).inc();
  }

  /** A notification did not verify: its signature check's outcome, or `NOTIFY_VERIFY_FALSE`. */
  verificationFailed(channel: string, reason: string): void {
    this.verificationChildren.of(channel, reason).inc();
  }

  /** An Alipay request was answered `seconds` after it arrived. */
  ingestAnswered(channel: string, seconds: number): void {
    this.ingestChildren.of(channel).observe(seconds);
  }

  /** A call to the gateway ended after `seconds`; `errorCode` when it gave no usable answer. */
  gatewayCalled(service: string, seconds: number, errorCode?: string): void {
    this.gatewayChildren.of(service).observe(seconds);
    if (errorCode !== undefined) this.gatewayErrorChildren.of(service, errorCode).inc();
  }

  /** Events committed. Call once the transaction that holds them has committed. */
  eventsAppended(events: readonly { type: string }[]): void {
    for (const { type } of events) this.appendedChildren.of(type).inc();
  }

  /** A webhook attempt ended with `outcome`; `dead` when it was the last its schedule allows. */
  webhookAttempted(eventType: string, outcome: string, dead: boolean): void {
    this.webhookChildren.of(eventType, outcome).inc();
    if (dead) this.deadChildren.of(eventType).inc();
  }

  /** Starts the counters of the known label values at zero (see `ExpectedSeries`). */
  expect(series: ExpectedSeries): void {
    const { notifications, ingestChannels, eventTypes, webhooks, gatewayServices } = series;
    for (const channel of notifications?.channels ?? []) {
      for (const { outcome, reason } of notifications?.endings ?? []) {
        this.notificationChildren.of(channel, outcome, reason).inc(0);
      }
    }
    for (const channel of ingestChannels ?? []) this.ingest.zero({ channel });
    for (const type of eventTypes ?? []) this.appendedChildren.of(type).inc(0);
    for (const eventType of webhooks?.eventTypes ?? []) {
      this.deadChildren.of(eventType).inc(0);
      for (const outcome of webhooks?.outcomes ?? []) this.webhookChildren.of(eventType, outcome).inc(0);
    }
    for (const service of gatewayServices ?? []) this.gatewayDuration.zero({ service });
  }

  /** Says which mode and database this process runs on (`ledger_info`). */
  describe(mode: string, database: string): void {
    this.info.reset();
    this.info.labels(mode, database).set(1);
  }

  /** Adds Node's own metrics (CPU, memory, event loop, GC), prefixed `ledger_`; once per registry. */
  collectProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry, prefix: 'ledger_' });
  }

  /** What fills the gauges at each scrape; reads the database, cheaply. */
  readAtScrape(read: () => Promise<ScrapeReading>): void {
    this.read = read;
  }

  /** The exposition's Content-Type. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * The metrics in Prometheus' text format, the gauges read now. Concurrent scrapes share one read of the
   * database; a read that fails or outlasts `budgetMs` leaves the gauges empty and `ledger_database_up` 0.
   */
  async render(budgetMs = SCRAPE_BUDGET_MS): Promise<string> {
    this.refreshing ??= this.refresh(budgetMs).finally(() => (this.refreshing = undefined));
    await this.refreshing;
    return this.registry.metrics();
  }

  private async refresh(budgetMs: number): Promise<void> {
    if (this.read === undefined) return;
    const started = performance.now();
    let reading: ScrapeReading | undefined;
    try {
      this.reading ??= this.read().finally(() => (this.reading = undefined));
      reading = await withinTime(this.reading, budgetMs, 'the scrape');
    } catch {
      reading = undefined;
    }
    this.scrapeDuration.set((performance.now() - started) / 1000);
    this.databaseUp.set(reading === undefined ? 0 : 1);
    for (const gauge of [
      this.projectionLagEvents,
      this.projectionLagSeconds,
      this.pendingDecisions,
      this.refundBatches,
      this.webhookMessages,
      this.oldestAwaitingPayment,
    ]) {
      gauge.reset();
    }
    if (reading === undefined) return;
    for (const { projection, events, seconds } of reading.projectionLag) {
      this.projectionLagEvents.labels(projection).set(events);
      this.projectionLagSeconds.labels(projection).set(seconds);
    }
    for (const [kind, count] of Object.entries(reading.pendingDecisions)) {
      this.pendingDecisions.labels(kind).set(count);
    }
    for (const [state, count] of Object.entries(reading.refundBatches)) {
      this.refundBatches.labels(state).set(count);
    }
    for (const [state, count] of Object.entries(reading.webhookMessages)) {
      this.webhookMessages.labels(state).set(count);
    }
    this.oldestAwaitingPayment.set(reading.oldestAwaitingPaymentSeconds);
  }

  private counter<L extends string>(name: string, options: { help: string; labelNames?: readonly L[] }) {
    return new Counter<L>({ name, ...options, registers: [this.registry] });
  }

  private gauge<L extends string>(name: string, options: { help: string; labelNames?: readonly L[] }) {
    return new Gauge<L>({ name, ...options, registers: [this.registry] });
  }

  private histogram<L extends string>(
    name: string,
    options: { help: string; labelNames: readonly L[]; buckets: number[] },
  ) {
    return new Histogram<L>({ name, ...options, registers: [this.registry] });
  }
}
