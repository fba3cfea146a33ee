/** How the webhooks are sent (docs/webhooks.md, "Configuration"); built from `LedgerConfig.webhooks`. */
export interface WebhookOptions {
  /** Whether this instance sends webhooks (FULFILMENT_WORKER). */
  enabled: boolean;
  /** The receiver; undefined: nothing is sent, the webhooks wait (live mode without MERCHANT_WEBHOOK_URL). */
  url?: string;
  /** Demo mode: the shop inside this ledger receives them, at `DEMO_SHOP_PATH` on its own port. */
  demoShop: boolean;
  /** `whsec_…` */
  secret: string;
  /** The pauses before each retry; after the last one's attempt fails, the webhook is dead. */
  retryScheduleMs: readonly number[];
  /** How far each pause may be drawn from its scheduled value, both ways (0.2: ±20 %). */
  jitter: number;
  connectTimeoutMs: number;
  /** The whole attempt: connection, request, and the reply up to its last byte. */
  timeoutMs: number;
  /** Attempts in flight at once on one instance. */
  concurrency: number;
  /**
   * Attempts in flight at once while Alipay's notifications wait on the instance (docs/operations.md,
   * "Alipay first"): enough that webhooks keep going out during a long burst, few enough that the burst
   * keeps the process. At most `concurrency`.
   */
  concurrencyWhileBusy: number;
  /** The longest pause when nothing is due and no hint came. */
  pollMs: number;
  /**
   * How long a claim holds beyond the attempt's timeout: the time to record its answer. An instance that
   * died holding a claim leaves the webhook to another instance once it expires.
   */
  claimGraceMs: number;
}

/** Injection token of `WebhookOptions`. */
export const WEBHOOK_OPTIONS = Symbol('WEBHOOK_OPTIONS');

/** Where the demo shop inside the ledger receives the webhooks (docs/webhooks.md, "The demo shop"). */
export const DEMO_SHOP_PATH = '/demo/shop/webhooks';
