import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import { ForegroundWork, LedgerLogger, LedgerMetrics, WorkerLoop } from '@ledger/platform';
import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import { DEFAULT_ENDPOINT } from '../fulfilment/fulfilment-outbox';
import type { WebhookEventType } from './webhook-events';
import { DEMO_SHOP_PATH, WEBHOOK_OPTIONS, type WebhookOptions } from './webhook-options';
import { PostError, postOnce, referenceOf, type PostReply } from './webhook-post';

const CONTEXT = 'WebhookDispatcher';

/** How soon a dispatcher held back by the notifications looks again. */
const BUSY_RECHECK_MS = 50;

/** A webhook claimed for one attempt. */
export interface ClaimedWebhook {
  id: string;
  eventType: WebhookEventType;
  subject: string;
  payload: string;
  /** This attempt's number, from 1. */
  attempt: number;
}

/** A 2xx answer, as the reactions receive it. */
export interface WebhookAnswer {
  status: number;
  /** The start of the reply body (at most 1 KiB). */
  body: string;
  /** `reference` (or `id`) of a JSON reply, when there is one. */
  reference?: string;
}

/** A webhook whose answer was recorded by an attempt cut short before it could mark the webhook. */
export const ANSWERED = Symbol('answered');

/**
 * What a webhook type means to the process that sent it (docs/webhooks.md, "Webhooks that act"):
 * `order.delivery_requested` answered 2xx *is* the delivery.
 */
export interface WebhookReaction {
  /**
   * Asked before each attempt: a reason when what the webhook asks for is no longer due (the order was
   * refunded, or delivered by hand, meanwhile): the webhook is then cancelled, not sent. `ANSWERED`: this
   * very webhook's answer was recorded by an attempt cut short before it could say so; it is then succeeded.
   */
  stillDue?(webhook: ClaimedWebhook): Promise<true | typeof ANSWERED | string>;
  /** Records what a 2xx answer means; throwing sends the webhook again later (same id). */
  answered(webhook: ClaimedWebhook, answer: WebhookAnswer): Promise<void>;
}

interface ClaimedRow {
  id: string;
  event_type: WebhookEventType;
  subject: string;
  payload: string;
  attempts: number;
  schedule_from: number;
  previous_state: string;
}

type Outcome =
  | { kind: 'succeeded'; reply: PostReply; recordingError?: string }
  | { kind: 'failed'; reply: PostReply }
  | { kind: 'timeout' | 'unreachable'; error: string };

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Sends the webhooks of the outbox (docs/webhooks.md, "Delivery"). Every instance runs one: each claims due
 * webhooks with `FOR UPDATE SKIP LOCKED`, so a webhook is sent by one instance at a time, and sends up to
 * `concurrency` at once, each attempt with its own connect and total timeouts: a receiver that hangs for one
 * order holds one slot for at most the timeout, never the others. Due webhooks are taken oldest due first,
 * and a failed one is put back by its retry schedule, so failing orders never starve newer ones. A claim
 * lasts the attempt's timeout plus a grace; an instance that dies mid-attempt leaves the webhook to be
 * claimed again when it expires (at least once; the receiver de-duplicates by `webhook-id`).
 */
@Injectable()
export class WebhookDispatcher implements BeforeApplicationShutdown {
  private readonly loop: WorkerLoop;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly reactions = new Map<string, WebhookReaction>();
  private readonly signer: Webhook;
  private readonly agent = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
  };
  private readonly stop = new AbortController();
  private started = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(WEBHOOK_OPTIONS) private readonly options: WebhookOptions,
    private readonly logger: LedgerLogger,
    private readonly adapterHost: HttpAdapterHost,
    private readonly metrics: LedgerMetrics,
    private readonly foreground: ForegroundWork,
  ) {
    this.signer = new Webhook(options.secret);
    // Each attempt in flight listens for the shutdown.
    setMaxListeners(options.concurrency + 10, this.stop.signal);
    this.loop = new WorkerLoop({ name: 'webhooks', pollMs: options.pollMs, logger, pass: () => this.pass() });
  }

  /** Registers what a 2xx answer to webhooks of `type` means. */
  react(type: WebhookEventType, reaction: WebhookReaction): void {
    this.reactions.set(type, reaction);
  }

  /** Starts sending, when enabled and an endpoint is there (the consumer's host calls it). */
  start(): void {
    if (!this.options.enabled) return;
    if (this.options.url === undefined && !this.options.demoShop) {
      this.logger.warn(
        'MERCHANT_WEBHOOK_URL is unset: no webhook is sent; paid orders stay pending delivery ' +
          '(GET /admin/orders?delivery=pending, GET /admin/webhooks?state=pending) until an operator ' +
          'completes them or the URL is set',
        CONTEXT,
      );
      return;
    }
    this.started = true;
    this.loop.start();
  }

  /** New webhooks may be due: the consumer moved, or a retry was asked for. */
  wake(): void {
    if (this.started) this.loop.wake();
  }

  /** Whether this instance sends webhooks, and where. */
  endpoint(): { name: string; url: string | undefined; sending: boolean } {
    return { name: DEFAULT_ENDPOINT, url: this.url(), sending: this.started };
  }

  /** Stops claiming, aborts the attempts in flight (they are put back, due at once) and waits for them. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
    this.stop.abort();
    await Promise.all([...this.inFlight]);
    this.agent.http.destroy();
    this.agent.https.destroy();
  }

  /** The receiver's URL now: the configured one, or the demo shop on the port this ledger listens on. */
  private url(): string | undefined {
    if (this.options.url !== undefined) return this.options.url;
    if (!this.options.demoShop) return undefined;
    const server = this.adapterHost.httpAdapter?.getHttpServer() as http.Server | undefined;
    const address = server?.address();
    if (address === null || address === undefined || typeof address === 'string') return undefined;
    const { port } = address;
    return `http://127.0.0.1:${port}${DEMO_SHOP_PATH}`;
  }

  /** One pass: fills the free slots with due webhooks; says when the next is due. */
  private async pass(): Promise<number | boolean> {
    const url = this.url();
    // The demo shop's server is not listening yet.
    if (url === undefined) return 200;
    const busy = this.foreground.busy();
    // While Alipay's notifications wait, fewer at once (docs/operations.md, "Alipay first").
    const slots = busy ? this.options.concurrencyWhileBusy : this.options.concurrency;
    const free = slots - this.inFlight.size;
    // Full: an attempt's end wakes the loop; held back by the notifications, it also looks again soon.
    if (free <= 0) return busy ? BUSY_RECHECK_MS : false;
    const claimed = await this.claim(free);
    for (const row of claimed) {
      const attempt = this.attempt(row, new URL(url)).catch((error: unknown) => {
        // Recording the outcome failed (the database is away): the claim expires, the webhook is sent again.
        this.logger.warn({ msg: `webhook ${row.id}: ${errorMessage(error)}`, err: error }, CONTEXT);
      });
      const tracked = attempt.finally(() => {
        this.inFlight.delete(tracked);
        this.loop.wake();
      });
      this.inFlight.add(tracked);
    }
    // Something was due: an attempt's end wakes the loop for the next claim.
    if (claimed.length > 0) return claimed.length === free;
    const [next] = await this.dataSource.query<{ ms: number | null }[]>(
      `SELECT (EXTRACT(EPOCH FROM min(next_attempt_at) - now()) * 1000)::float8 AS ms
       FROM webhook_messages WHERE state IN ('pending', 'delivering')`,
    );
    return next.ms === null ? false : Math.max(5, Math.ceil(next.ms));
  }

  private async claim(limit: number): Promise<ClaimedRow[]> {
    const token = randomUUID();
    const rows = await this.dataSource.query<ClaimedRow[]>(
      `WITH due AS (
         SELECT id, state FROM webhook_messages
         WHERE state IN ('pending', 'delivering') AND next_attempt_at <= now()
         ORDER BY next_attempt_at, id
         LIMIT $1
         FOR UPDATE SKIP LOCKED),
       claimed AS (
         UPDATE webhook_messages m
         SET state = 'delivering', attempts = m.attempts + 1, claim_token = $2, updated_at = now(),
             next_attempt_at = now() + make_interval(secs => $3::float8 / 1000)
         FROM due WHERE m.id = due.id
         RETURNING m.id, m.event_type, m.subject, m.payload, m.attempts, m.schedule_from,
                   due.state AS previous_state)
       SELECT * FROM claimed ORDER BY id`,
      [limit, token, this.options.timeoutMs + this.options.claimGraceMs],
    );
    const interrupted = rows.filter((row) => row.previous_state === 'delivering');
    if (interrupted.length > 0) {
      // The instance that held these died (or lost the database) before recording its attempt.
      await this.dataSource.query(
        `INSERT INTO webhook_attempts (message_id, attempt, endpoint, started_at, duration_ms, outcome, error)
         SELECT unnest($1::text[]), unnest($2::int[]), $3, now(), 0, 'interrupted',
                'the instance sending it stopped before recording an answer'
         ON CONFLICT DO NOTHING`,
        [interrupted.map((row) => row.id), interrupted.map((row) => row.attempts - 1), DEFAULT_ENDPOINT],
      );
    }
    return rows.map((row) => ({ ...row, claim_token: token }));
  }

  private async attempt(row: ClaimedRow & { claim_token?: string }, url: URL): Promise<void> {
    const token = row.claim_token!;
    const webhook: ClaimedWebhook = {
      id: row.id,
      eventType: row.event_type,
      subject: row.subject,
      payload: row.payload,
      attempt: row.attempts,
    };
    const reaction = this.reactions.get(row.event_type);
    if (reaction?.stillDue !== undefined) {
      const due = await reaction.stillDue(webhook);
      if (due === ANSWERED) {
        await this.dataSource.query(
          `UPDATE webhook_messages SET state = 'succeeded', attempts = attempts - 1, claim_token = NULL,
             note = $3, completed_at = now(), updated_at = now()
           WHERE id = $1 AND claim_token = $2`,
          [row.id, token, 'answered: its answer was recorded before the instance sending it stopped'],
        );
        this.logger.log({ msg: `webhook ${row.id} (${row.event_type}) was answered before a stop` }, CONTEXT);
        return;
      }
      if (due !== true) {
        await this.dataSource.query(
          `UPDATE webhook_messages SET state = 'cancelled', attempts = attempts - 1, claim_token = NULL,
             note = $3, completed_at = now(), updated_at = now()
           WHERE id = $1 AND claim_token = $2`,
          [row.id, token, due],
        );
        this.logger.log({ msg: `webhook ${row.id} (${row.event_type}) cancelled: ${due}` }, CONTEXT);
        return;
      }
    }
    const startedAt = new Date();
    const started = performance.now();
    let outcome: Outcome;
    try {
      const at = new Date(Math.floor(Date.now() / 1000) * 1000);
      const reply = await postOnce(
        url,
        {
          'user-agent': 'alipay-ledger-webhooks',
          'webhook-id': row.id,
          'webhook-timestamp': String(at.getTime() / 1000),
          'webhook-signature': this.signer.sign(row.id, at, row.payload),
        },
        row.payload,
        {
          connectTimeoutMs: this.options.connectTimeoutMs,
          timeoutMs: this.options.timeoutMs,
          signal: this.stop.signal,
          agent: this.agent,
        },
      );
      if (reply.status >= 200 && reply.status < 300) {
        outcome = { kind: 'succeeded', reply };
        if (reaction !== undefined) {
          try {
            const reference = referenceOf(reply);
            await reaction.answered(webhook, {
              status: reply.status,
              body: reply.body,
              ...(reference === undefined ? {} : { reference }),
            });
          } catch (error) {
            outcome = { kind: 'succeeded', reply, recordingError: errorMessage(error) };
          }
        }
      } else {
        outcome = { kind: 'failed', reply };
      }
    } catch (error) {
      if (error instanceof PostError && error.failure === 'aborted') {
        // Shutting down: this attempt did not happen; the webhook is due again at once, here or elsewhere.
        await this.dataSource.query(
          `UPDATE webhook_messages SET state = 'pending', attempts = attempts - 1, claim_token = NULL,
             next_attempt_at = now(), updated_at = now()
           WHERE id = $1 AND claim_token = $2`,
          [row.id, token],
        );
        return;
      }
      outcome = {
        kind: error instanceof PostError ? error.failure : 'unreachable',
        error: errorMessage(error),
      } as Outcome;
    }
    await this.record(row, token, startedAt, Math.round(performance.now() - started), outcome);
  }

  /** The attempt's row, and the webhook's next state: succeeded, due again by the schedule, or dead. */
  private async record(
    row: ClaimedRow,
    token: string,
    startedAt: Date,
    durationMs: number,
    outcome: Outcome,
  ): Promise<void> {
    const done = outcome.kind === 'succeeded' && outcome.recordingError === undefined;
    const failures = row.attempts - row.schedule_from;
    const schedule = this.options.retryScheduleMs;
    const dead = !done && failures > schedule.length;
    const delayMs = done || dead ? 0 : this.jittered(schedule[failures - 1]);
    const status = 'reply' in outcome ? outcome.reply.status : null;
    const reply = 'reply' in outcome ? outcome.reply.body : null;
    const error =
      outcome.kind === 'succeeded'
        ? (outcome.recordingError ?? null)
        : 'error' in outcome
          ? outcome.error
          : `answered HTTP ${status}`;
    // The attempt was made whether or not its row can be written now.
    this.metrics.webhookAttempted(row.event_type, outcome.kind, dead);
    await this.dataSource.query(
      `WITH attempt AS (
         INSERT INTO webhook_attempts
           (message_id, attempt, endpoint, started_at, duration_ms, outcome, status, reply, error)
         VALUES ($1, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT DO NOTHING)
       UPDATE webhook_messages
       SET state = $11, last_status = $8, last_error = $10, claim_token = NULL, updated_at = now(),
           next_attempt_at = now() + make_interval(secs => $12::float8 / 1000),
           completed_at = CASE WHEN $11 IN ('succeeded', 'dead') THEN now() END
       WHERE id = $1 AND claim_token = $2`,
      [
        row.id,
        token,
        row.attempts,
        DEFAULT_ENDPOINT,
        startedAt,
        durationMs,
        outcome.kind,
        status,
        reply,
        error,
        done ? 'succeeded' : dead ? 'dead' : 'pending',
        delayMs,
      ],
    );
    if (!done) {
      this.logger.warn(
        {
          msg:
            `webhook ${row.id} (${row.event_type}, ${row.subject}) attempt ${row.attempts}: ${error}; ` +
            (dead ? 'retries spent, dead' : `next in ${delayMs} ms`),
          webhookId: row.id,
        },
        CONTEXT,
      );
    }
  }

  /** The scheduled pause, drawn within ±jitter of it, so that webhooks failing together spread out. */
  private jittered(ms: number): number {
    const { jitter } = this.options;
    if (!Number.isFinite(ms)) throw new Error(`no retry delay for this attempt (${ms})`);
    return Math.max(1, Math.round(ms * (1 - jitter + 2 * jitter * Math.random())));
  }
}
