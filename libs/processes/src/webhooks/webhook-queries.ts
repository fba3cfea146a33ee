import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { WebhookEventType } from './webhook-events';

export const WEBHOOK_STATES = ['pending', 'delivering', 'succeeded', 'dead', 'cancelled'] as const;
export type WebhookState = (typeof WEBHOOK_STATES)[number];

/** The states a webhook is in until it is settled, and `dead`, which waits for a person. */
export type UnsettledWebhookState = Extract<WebhookState, 'pending' | 'delivering' | 'dead'>;

export interface WebhookAttemptSummary {
  attempt: number;
  startedAt: string;
  durationMs: number;
  outcome: 'succeeded' | 'failed' | 'timeout' | 'unreachable' | 'interrupted';
  status: number | null;
  reply: string | null;
  error: string | null;
}

export interface WebhookSummary {
  id: string;
  endpoint: string;
  eventType: WebhookEventType;
  subject: string;
  state: WebhookState;
  attempts: number;
  /** When it is due (pending), or when its claim expires (delivering); null once settled. */
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  note: string | null;
  createdAt: string;
  completedAt: string | null;
  payload: unknown;
  attemptLog: WebhookAttemptSummary[];
}

export interface WebhookListFilters {
  state?: WebhookState;
  subject?: string;
  eventType?: WebhookEventType;
  limit: number;
  /** Where the previous page ended: its `next`. */
  after?: WebhookPagePosition;
}

/** A position in the list: `createdAt` to the microsecond, as the database keeps it. */
export interface WebhookPagePosition {
  createdAt: string;
  id: string;
}

export interface WebhookPage {
  items: WebhookSummary[];
  /** Where the next page starts; null on the last page. */
  next: WebhookPagePosition | null;
}

export interface EndpointHealth {
  endpoint: string;
  counts: Record<WebhookState, number>;
  /** Attempts in the last hour, and how many were answered 2xx. */
  lastHour: { attempts: number; succeeded: number };
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  /** Failed attempts since the last success. */
  failuresSinceSuccess: number;
  /** The oldest webhook not yet settled: how late the endpoint is. */
  oldestPendingAt: string | null;
}

interface MessageRow {
  id: string;
  endpoint: string;
  event_type: WebhookEventType;
  subject: string;
  state: WebhookState;
  attempts: number;
  next_attempt_at: Date;
  last_status: number | null;
  last_error: string | null;
  note: string | null;
  created_at: Date;
  /** `created_at` as text, to the microsecond: a page's end that no instant of JavaScript would round. */
  created_at_exact: string;
  completed_at: Date | null;
  payload: string;
}

interface AttemptRow {
  message_id: string;
  attempt: number;
  started_at: Date;
  duration_ms: number;
  outcome: WebhookAttemptSummary['outcome'];
  status: number | null;
  reply: string | null;
  error: string | null;
}

const iso = (date: Date | null) => (date === null ? null : new Date(date).toISOString());

/** The webhooks' delivery log and the operator's retries (docs/webhooks.md, "The admin API"). */
@Injectable()
export class WebhookQueries {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Newest first, with their attempts; keyset pages on (created_at, id). */
  async list(filters: WebhookListFilters): Promise<WebhookPage> {
    const conditions: string[] = [];
    const parameters: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      parameters.push(value);
      conditions.push(sql.replace('?', `$${parameters.length}`));
    };
    if (filters.state !== undefined) add('state = ?', filters.state);
    if (filters.subject !== undefined) add('subject = ?', filters.subject);
    if (filters.eventType !== undefined) add('event_type = ?', filters.eventType);
    if (filters.after !== undefined) {
      parameters.push(filters.after.createdAt, filters.after.id);
      conditions.push(`(created_at, id) < ($${parameters.length - 1}::timestamptz, $${parameters.length})`);
    }
    parameters.push(filters.limit + 1);
    const rows = await this.dataSource.query<MessageRow[]>(
      `SELECT id, endpoint, event_type, subject, state, attempts, next_attempt_at, last_status, last_error,
              note, created_at, created_at::text AS created_at_exact, completed_at, payload
       FROM webhook_messages ${conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`}
       ORDER BY created_at DESC, id DESC LIMIT $${parameters.length}`,
      parameters,
    );
    const page = rows.slice(0, filters.limit);
    const last = page.at(-1);
    return {
      items: await this.withAttempts(page),
      next:
        rows.length > filters.limit && last !== undefined
          ? { createdAt: last.created_at_exact, id: last.id }
          : null,
    };
  }

  async get(id: string): Promise<WebhookSummary | undefined> {
    const rows = await this.dataSource.query<MessageRow[]>(
      `SELECT id, endpoint, event_type, subject, state, attempts, next_attempt_at, last_status, last_error,
              note, created_at, created_at::text AS created_at_exact, completed_at, payload
       FROM webhook_messages WHERE id = $1`,
      [id],
    );
    return (await this.withAttempts(rows))[0];
  }

  /**
   * Sends dead webhooks again, now, with the whole retry schedule ahead of them; `id` for one. Resolves
   * the ids put back (a webhook that is not dead is left as it is).
   */
  async retryDead(id?: string): Promise<string[]> {
    // Wrapped in a SELECT: TypeORM hands an UPDATE's RETURNING rows back with its row count.
    const rows = await this.dataSource.query<{ id: string }[]>(
      `WITH retried AS (
         UPDATE webhook_messages
         SET state = 'pending', schedule_from = attempts, next_attempt_at = now(), completed_at = NULL,
             updated_at = now(), note = 'retried by an operator'
         WHERE state = 'dead' ${id === undefined ? '' : 'AND id = $1'}
         RETURNING id)
       SELECT id FROM retried ORDER BY id`,
      id === undefined ? [] : [id],
    );
    return rows.map((row) => row.id);
  }

  /**
   * How many webhooks wait to be sent, are being sent, or are dead (docs/operations.md, "Metrics"): read on
   * the state index, so it costs what is unsettled, never the whole delivery log.
   */
  async unsettledCounts(): Promise<Record<UnsettledWebhookState, number>> {
    const counts: Record<UnsettledWebhookState, number> = { pending: 0, delivering: 0, dead: 0 };
    const rows = await this.dataSource.query<{ state: UnsettledWebhookState; count: string }[]>(
      `SELECT state, count(*) AS count FROM webhook_messages
       WHERE state IN ('pending', 'delivering', 'dead') GROUP BY state`,
    );
    for (const { state, count } of rows) counts[state] = Number(count);
    return counts;
  }

  async health(endpoint: string): Promise<EndpointHealth> {
    const counts = Object.fromEntries(WEBHOOK_STATES.map((state) => [state, 0])) as Record<
      WebhookState,
      number
    >;
    const byState = await this.dataSource.query<{ state: WebhookState; count: string }[]>(
      `SELECT state, count(*) AS count FROM webhook_messages WHERE endpoint = $1 GROUP BY state`,
      [endpoint],
    );
    for (const { state, count } of byState) counts[state] = Number(count);
    const [row] = await this.dataSource.query<
      {
        attempts: string;
        succeeded: string;
        last_success: Date | null;
        last_failure: Date | null;
        failures_since: string;
        oldest_pending: Date | null;
      }[]
    >(
      `SELECT
         (SELECT count(*) FROM webhook_attempts
          WHERE endpoint = $1 AND started_at > now() - interval '1 hour') AS attempts,
         (SELECT count(*) FROM webhook_attempts
          WHERE endpoint = $1 AND started_at > now() - interval '1 hour' AND outcome = 'succeeded') AS succeeded,
         (SELECT max(started_at) FROM webhook_attempts WHERE endpoint = $1 AND outcome = 'succeeded')
           AS last_success,
         (SELECT max(started_at) FROM webhook_attempts
          WHERE endpoint = $1 AND outcome IN ('failed', 'timeout', 'unreachable')) AS last_failure,
         (SELECT count(*) FROM webhook_attempts a
          WHERE a.endpoint = $1 AND a.outcome IN ('failed', 'timeout', 'unreachable')
            AND a.started_at > COALESCE((SELECT max(started_at) FROM webhook_attempts
                                         WHERE endpoint = $1 AND outcome = 'succeeded'), '-infinity'))
           AS failures_since,
         (SELECT min(created_at) FROM webhook_messages
          WHERE endpoint = $1 AND state IN ('pending', 'delivering')) AS oldest_pending`,
      [endpoint],
    );
    return {
      endpoint,
      counts,
      lastHour: { attempts: Number(row.attempts), succeeded: Number(row.succeeded) },
      lastSuccessAt: iso(row.last_success),
      lastFailureAt: iso(row.last_failure),
      failuresSinceSuccess: Number(row.failures_since),
      oldestPendingAt: iso(row.oldest_pending),
    };
  }

  private async withAttempts(rows: MessageRow[]): Promise<WebhookSummary[]> {
    if (rows.length === 0) return [];
    const attempts = await this.dataSource.query<AttemptRow[]>(
      `SELECT message_id, attempt, started_at, duration_ms, outcome, status, reply, error
       FROM webhook_attempts WHERE message_id = ANY($1::text[]) ORDER BY message_id, attempt`,
      [rows.map((row) => row.id)],
    );
    const byMessage = new Map<string, WebhookAttemptSummary[]>();
    for (const attempt of attempts) {
      const log = byMessage.get(attempt.message_id) ?? [];
      log.push({
        attempt: attempt.attempt,
        startedAt: iso(attempt.started_at)!,
        durationMs: attempt.duration_ms,
        outcome: attempt.outcome,
        status: attempt.status,
        reply: attempt.reply,
        error: attempt.error,
      });
      byMessage.set(attempt.message_id, log);
    }
    return rows.map((row) => ({
      id: row.id,
      endpoint: row.endpoint,
      eventType: row.event_type,
      subject: row.subject,
      state: row.state,
      attempts: row.attempts,
      nextAttemptAt: row.state === 'pending' || row.state === 'delivering' ? iso(row.next_attempt_at) : null,
      lastStatus: row.last_status,
      lastError: row.last_error,
      note: row.note,
      createdAt: iso(row.created_at)!,
      completedAt: iso(row.completed_at),
      payload: JSON.parse(row.payload) as unknown,
      attemptLog: byMessage.get(row.id) ?? [],
    }));
  }
}
