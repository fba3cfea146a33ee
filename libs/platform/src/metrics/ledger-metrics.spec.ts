import { LedgerMetrics, type ScrapeReading } from './ledger-metrics';

/** The samples of the exposition, as `name{labels} value` lines without the comments. */
function samples(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

const READING: ScrapeReading = {
  projectionLag: [
    { projection: 'order_status', events: 0, seconds: 0 },
    { projection: 'fulfilment_outbox', events: 3, seconds: 1.5 },
  ],
  pendingDecisions: { delivery: 2, anomaly: 1 },
  refundBatches: { submitted: 1, outcome_unknown: 0 },
  webhookMessages: { pending: 4, dead: 1 },
  oldestAwaitingPaymentSeconds: 120,
};

describe('LedgerMetrics', () => {
  it('renders the counters and histograms in the text format, each under the ledger_ prefix', async () => {
    const metrics = new LedgerMetrics();
    metrics.notificationReceived('notify', 'applied');
    metrics.notificationReceived('notify', 'no_new_fact', 'duplicate');
    metrics.notificationReceived('notify', 'no_new_fact', 'duplicate');
    metrics.verificationFailed('notify', 'SIGNATURE_MISMATCH');
    metrics.eventsAppended([{ type: 'OrderPlaced' }, { type: 'PaymentSucceeded' }, { type: 'OrderPlaced' }]);
    metrics.gatewayCalled('notify_verify', 0.03);
    metrics.gatewayCalled('notify_verify', 5.2, 'TIMEOUT');
    metrics.ingestAnswered('notify', 0.012);
    metrics.webhookAttempted('order.paid', 'failed', true);

    const lines = samples(await metrics.render());
    expect(lines).toEqual(
      expect.arrayContaining([
        'ledger_notifications_received_total{channel="notify",outcome="applied",reason=""} 1',
        'ledger_notifications_received_total{channel="notify",outcome="no_new_fact",reason="duplicate"} 2',
        'ledger_notification_verification_failures_total{channel="notify",reason="SIGNATURE_MISMATCH"} 1',
        'ledger_events_appended_total{type="OrderPlaced"} 2',
        'ledger_events_appended_total{type="PaymentSucceeded"} 1',
        'ledger_alipay_gateway_request_duration_seconds_count{service="notify_verify"} 2',
        'ledger_alipay_gateway_request_duration_seconds_bucket{le="0.05",service="notify_verify"} 1',
        'ledger_alipay_gateway_errors_total{service="notify_verify",code="TIMEOUT"} 1',
        'ledger_notification_ingest_duration_seconds_count{channel="notify"} 1',
        'ledger_webhook_attempts_total{event_type="order.paid",outcome="failed"} 1',
        'ledger_webhooks_dead_total{event_type="order.paid"} 1',
      ]),
    );
    for (const line of lines) expect(line).toMatch(/^ledger_/);
  });

  it('starts the expected series at zero, so that the first event is an increase', async () => {
    const metrics = new LedgerMetrics();
    metrics.expect({
      notifications: {
        channels: ['notify', 'refund_notify'],
        endings: [
          { outcome: 'applied', reason: '' },
          { outcome: 'rejected', reason: 'signature' },
        ],
      },
      ingestChannels: ['notify'],
      eventTypes: ['OrderPlaced'],
      webhooks: { eventTypes: ['order.paid'], outcomes: ['succeeded'] },
      gatewayServices: ['notify_verify'],
    });
    const lines = samples(await metrics.render());
    expect(lines).toEqual(
      expect.arrayContaining([
        'ledger_notifications_received_total{channel="refund_notify",outcome="rejected",reason="signature"} 0',
        'ledger_notification_ingest_duration_seconds_count{channel="notify"} 0',
        'ledger_events_appended_total{type="OrderPlaced"} 0',
        'ledger_webhook_attempts_total{event_type="order.paid",outcome="succeeded"} 0',
        'ledger_webhooks_dead_total{event_type="order.paid"} 0',
        'ledger_alipay_gateway_request_duration_seconds_count{service="notify_verify"} 0',
      ]),
    );
    expect(lines.filter((line) => line.startsWith('ledger_notifications_received_total'))).toHaveLength(4);
  });

  it('fills the gauges from the database at each scrape', async () => {
    const metrics = new LedgerMetrics();
    let reading = READING;
    metrics.readAtScrape(() => Promise.resolve(reading));
    let lines = samples(await metrics.render());
    expect(lines).toEqual(
      expect.arrayContaining([
        'ledger_database_up 1',
        'ledger_projection_lag_events{projection="fulfilment_outbox"} 3',
        'ledger_projection_lag_seconds{projection="fulfilment_outbox"} 1.5',
        'ledger_projection_lag_seconds{projection="order_status"} 0',
        'ledger_pending_decisions{kind="delivery"} 2',
        'ledger_pending_decisions{kind="anomaly"} 1',
        'ledger_refund_batches{state="outcome_unknown"} 0',
        'ledger_webhook_messages{state="dead"} 1',
        'ledger_orders_awaiting_payment_oldest_age_seconds 120',
      ]),
    );

    // What is no longer there is no longer reported.
    reading = { ...READING, projectionLag: [{ projection: 'order_status', events: 1, seconds: 0.2 }] };
    lines = samples(await metrics.render());
    expect(lines.filter((line) => line.startsWith('ledger_projection_lag_events'))).toEqual([
      'ledger_projection_lag_events{projection="order_status"} 1',
    ]);
  });

  it('still answers with the counters when the database fails or is slow, saying so', async () => {
    const metrics = new LedgerMetrics();
    metrics.notificationReceived('notify', 'applied');
    metrics.readAtScrape(() => Promise.resolve(READING));
    await metrics.render();

    metrics.readAtScrape(() => Promise.reject(new Error('connection refused')));
    let lines = samples(await metrics.render());
    expect(lines).toContain('ledger_database_up 0');
    expect(lines).toContain(
      'ledger_notifications_received_total{channel="notify",outcome="applied",reason=""} 1',
    );
    expect(lines.some((line) => line.startsWith('ledger_projection_lag_events'))).toBe(false);

    // A read that does not end in time is given up at the budget; the next scrape waits for the same read
    // rather than start another: a database that hangs never has more than one scrape's read on it.
    let reads = 0;
    let answer!: (reading: ScrapeReading) => void;
    metrics.readAtScrape(() => {
      reads += 1;
      return new Promise<ScrapeReading>((resolve) => (answer = resolve));
    });
    lines = samples(await metrics.render(20));
    expect(lines).toContain('ledger_database_up 0');
    expect(samples(await metrics.render(20))).toContain('ledger_database_up 0');
    expect(reads).toBe(1);
    const late = metrics.render(1_000);
    answer(READING);
    expect(samples(await late)).toContain('ledger_database_up 1');
    expect(reads).toBe(1);
  });

  it('reads the database once for scrapes that come together', async () => {
    const metrics = new LedgerMetrics();
    let reads = 0;
    let answer!: (reading: ScrapeReading) => void;
    metrics.readAtScrape(() => {
      reads += 1;
      return new Promise<ScrapeReading>((resolve) => (answer = resolve));
    });
    const scrapes = [metrics.render(), metrics.render(), metrics.render()];
    answer(READING);
    const texts = await Promise.all(scrapes);
    expect(reads).toBe(1);
    for (const text of texts) expect(samples(text)).toContain('ledger_database_up 1');
    const later = metrics.render();
    answer(READING);
    await later;
    expect(reads).toBe(2);
  });

  it("adds Node's own metrics under the prefix, and keeps registries apart", async () => {
    const one = new LedgerMetrics();
    const other = new LedgerMetrics();
    one.collectProcessMetrics();
    one.collectProcessMetrics();
    one.describe('demo', 'embedded');
    one.notificationReceived('notify', 'applied');
    const text = await one.render();
    expect(text).toContain('ledger_process_cpu_user_seconds_total');
    expect(text).toContain('ledger_nodejs_eventloop_lag_seconds');
    expect(samples(text)).toContain('ledger_info{mode="demo",database="embedded"} 1');
    const untouched = await other.render();
    expect(untouched).not.toContain('ledger_process_cpu_user_seconds_total');
    expect(
      samples(untouched).filter((line) => line.startsWith('ledger_notifications_received_total')),
    ).toEqual([]);
  });
});
