import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  decodeBytes,
  MAX_NOTIFICATION_PARAMETERS,
  parseForm,
  type VerificationExplanation,
} from '@ledger/alipay-protocol';
import type { AppendResult, EventStore, ExpectedVersion, NewEvent } from '@ledger/event-store';
import type { DatabaseSession } from '@ledger/platform';
import { DataSource } from 'typeorm';
import { MAX_NOTIFICATION_BYTES, type RawNotification } from './raw-notification';
import type { InboxOutcome, InboxOutcomeDetail, NotifyVerifyEvidence } from './inbox-notification';
import {
  storedBody,
  storedDetail,
  storedHeaders,
  storedNotifyVerify,
  storedVerification,
} from './stored-evidence';

/** How the processing of a stored notification ended, with the evidence gathered on the way. */
export interface InboxFinish {
  outcome: Exclude<InboxOutcome, 'received'>;
  detail: InboxOutcomeDetail;
  verification?: VerificationExplanation;
  notifyVerify?: NotifyVerifyEvidence;
  verified?: boolean | null;
}

/** Another delivery holds the notify_id's key: the key's INSERT fails, and the append with it. */
function isKeyTaken(error: unknown): boolean {
  const { code, constraint } = error as { code?: unknown; constraint?: unknown };
  return code === '23505' && constraint === 'processed_notifications_pkey';
}

/** An `applied` outcome before its events are appended: where they land is filled in when they are. */
export type PendingAppliedDetail = Omit<
  Extract<InboxOutcomeDetail, { outcome: 'applied' }>,
  'transactionId' | 'firstPosition' | 'lastPosition'
>;

// PostgreSQL text and jsonb cannot hold U+0000, which a hostile body can carry (`%00`). It is shown as
// U+2400 (SYMBOL FOR NULL) in what is derived for reading; the raw bytes keep the real byte.
const NUL = '\u0000';
const NUL_SYMBOL = '\u2400';

/** JSON text for a jsonb parameter, with every U+0000 in a string replaced by U+2400. */
export function jsonbText(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'string' ? item.replaceAll(NUL, NUL_SYMBOL) : item,
  );
}

/** Identifiers read before verification are only filter keys: bounded, so that an index can hold them. */
const MAX_EXTRACTED_LENGTH = 256;

function cleanText(text: string, max: number): string {
  return text.replaceAll(NUL, NUL_SYMBOL).slice(0, max);
}

/**
 * The identifiers a raw body names (the first occurrence of each), best effort, before any verification.
 * One scan over the first `MAX_NOTIFICATION_PARAMETERS` segments (a body with more is refused anyway);
 * only the five values wanted are decoded, so that a hostile body costs no more than reading it.
 */
export function extractIdentifiers(
  body: Buffer,
): Record<'notify_id' | 'notify_type' | 'out_trade_no' | 'trade_no' | 'batch_no', string | null> {
  const wanted = ['notify_id', 'notify_type', 'out_trade_no', 'trade_no', 'batch_no'] as const;
  const wantedNames: ReadonlySet<string> = new Set(wanted);
  const found = Object.fromEntries(wanted.map((name) => [name, null])) as Record<
    (typeof wanted)[number],
    string | null
  >;
  const text = body.toString('latin1');
  let segments = 0;
  for (let start = 0; start < text.length && segments < MAX_NOTIFICATION_PARAMETERS;) {
    const separator = text.indexOf('&', start);
    const end = separator === -1 ? text.length : separator;
    if (end > start) {
      segments++;
      const segment = text.slice(start, end);
      const equals = segment.indexOf('=');
      const rawName = equals === -1 ? segment : segment.slice(0, equals);
      // Alipay's names are plain ASCII; an escaped one is decoded before it is compared.
      const name = /[%+]/.test(rawName) ? (parseForm(rawName).pairs[0]?.name ?? '') : rawName;
      if (wantedNames.has(name) && found[name as (typeof wanted)[number]] === null) {
        const pair = parseForm(segment).pairs[0];
        if (pair !== undefined && pair.binaryValue.length > 0) {
          // The identifiers are ASCII; reading them as UTF-8 (invalid bytes as U+FFFD) cannot fail. Only
          // the bytes that can end up in the kept characters are decoded.
          const head = pair.valueBytes.subarray(0, MAX_EXTRACTED_LENGTH * 4);
          found[name as (typeof wanted)[number]] = cleanText(
            decodeBytes(head, 'utf-8'),
            MAX_EXTRACTED_LENGTH,
          );
        }
      }
    }
    start = end + 1;
  }
  return found;
}

/** The SQL of the inbox table and of the de-duplication key (migration 1732000000003). */
@Injectable()
export class InboxStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * INSERTs the raw notification in its own transaction, committed when this resolves: from then on
   * nothing can lose it. Also says which inbox row already processed the notify_id the body names, if any.
   * A refused body (cut, or over the cap) keeps only its first bytes; headers are bounded.
   */
  async store(raw: RawNotification): Promise<{ id: number; notifyId: string | null; processedBy?: number }> {
    const { body, truncated } = storedBody(raw.body, raw.truncated, MAX_NOTIFICATION_BYTES);
    const ids = extractIdentifiers(body);
    const [row] = await this.dataSource.query<{ id: string; processed_by: string | null }[]>(
      `WITH stored AS (
         INSERT INTO inbox_notifications (channel, received_at, remote_address, method, path, headers,
           content_type, raw_body, received_bytes, body_truncated, notify_id, notify_type, out_trade_no,
           trade_no, batch_no)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         RETURNING id)
       SELECT stored.id,
              (SELECT inbox_id FROM processed_notifications WHERE notify_id = $11) AS processed_by
       FROM stored`,
      [
        raw.channel,
        raw.receivedAt,
        raw.remoteAddress === undefined ? null : cleanText(raw.remoteAddress, MAX_EXTRACTED_LENGTH),
        cleanText(raw.method, 16),
        cleanText(raw.path, 2048),
        jsonbText(storedHeaders(raw.headers)),
        raw.contentType === undefined ? null : cleanText(raw.contentType, 1024),
        body,
        raw.receivedBytes,
        truncated,
        ids.notify_id,
        ids.notify_type,
        ids.out_trade_no,
        ids.trade_no,
        ids.batch_no,
      ],
    );
    return {
      id: Number(row.id),
      notifyId: ids.notify_id,
      ...(row.processed_by === null ? {} : { processedBy: Number(row.processed_by) }),
    };
  }

  /** Records how the processing ended, with its evidence; in the caller's transaction when given. */
  async finish(id: number, finish: InboxFinish, session?: DatabaseSession): Promise<void> {
    await this.on(session).query(
      `UPDATE inbox_notifications
       SET outcome = $2, outcome_detail = $3::jsonb,
           verification = COALESCE($4::jsonb, verification), notify_verify = COALESCE($5::jsonb, notify_verify),
           verified = CASE WHEN $6::boolean THEN $7::boolean ELSE verified END, processed_at = now()
       WHERE id = $1`,
      [id, ...this.finishParameters(finish)],
    );
  }

  /** The caller's transaction when given, else the pool. */
  private on(session: DatabaseSession | undefined): DatabaseSession {
    return session ?? this.dataSource;
  }

  /**
   * `$2`.. of an outcome update: outcome, detail, verification, notify_verify, whether and what verified.
   * The evidence of a notification not (or not yet) verified is bounded; a verified one's is kept whole.
   */
  private finishParameters(finish: Omit<InboxFinish, 'detail'> & { detail: object }): unknown[] {
    const whole = finish.verified === true;
    const { verification, notifyVerify } = finish;
    return [
      finish.outcome,
      jsonbText(whole ? finish.detail : storedDetail(finish.detail as InboxOutcomeDetail)),
      verification === undefined ? null : jsonbText(whole ? verification : storedVerification(verification)),
      notifyVerify === undefined ? null : jsonbText(whole ? notifyVerify : storedNotifyVerify(notifyVerify)),
      finish.verified !== undefined,
      finish.verified ?? null,
    ];
  }

  /** Which inbox row processed `notifyId`, if any. */
  async processedBy(notifyId: string, session?: DatabaseSession): Promise<number | undefined> {
    const rows = await this.on(session).query<{ inbox_id: string }>(
      `SELECT inbox_id FROM processed_notifications WHERE notify_id = $1`,
      [notifyId],
    );
    return rows.length === 0 ? undefined : Number(rows[0].inbox_id);
  }

  /**
   * Takes the de-duplication key of `notifyId` for `inboxId` and, only if it was free, records the outcome
   * with its evidence: one statement, in the caller's transaction when given. A concurrent delivery of the
   * same notify_id makes it wait until that one commits or rolls back. False when another row holds the key.
   */
  async claimAndFinish(
    notifyId: string,
    inboxId: number,
    finish: InboxFinish,
    session?: DatabaseSession,
  ): Promise<boolean> {
    const [row] = await this.on(session).query<{ finished: string }>(
      `WITH claimed AS (
         INSERT INTO processed_notifications (notify_id, inbox_id) VALUES ($1, $2)
         ON CONFLICT (notify_id) DO NOTHING RETURNING inbox_id),
       finished AS (
         UPDATE inbox_notifications
         SET outcome = $3, outcome_detail = $4::jsonb,
             verification = COALESCE($5::jsonb, verification), notify_verify = COALESCE($6::jsonb, notify_verify),
             verified = CASE WHEN $7::boolean THEN $8::boolean ELSE verified END, processed_at = now()
         WHERE id = $2 AND EXISTS (SELECT 1 FROM claimed)
         RETURNING id)
       SELECT count(*) AS finished FROM finished`,
      [notifyId, inboxId, ...this.finishParameters(finish)],
    );
    return Number(row.finished) === 1;
  }

  /**
   * Appends a notification's events, takes its notify_id's de-duplication key and records its outcome, all
   * in the event store's one statement that commits on its own (`EventStore.appendWith`): one round trip
   * where a transaction would take four. The outcome's detail gets the transaction and positions the events
   * landed at. Undefined when another row holds the key: then nothing was written.
   *
   * @throws EventStoreError `WRONG_EXPECTED_VERSION` / `STREAM_ORDER_CONFLICT` (retryable; nothing written).
   */
  async recordWithEvents(
    store: EventStore,
    append: { streamId: string; expectedVersion: ExpectedVersion; events: readonly NewEvent[] },
    notifyId: string,
    inboxId: number,
    finish: Omit<InboxFinish, 'outcome' | 'detail'> & { outcome: 'applied'; detail: PendingAppliedDetail },
  ): Promise<AppendResult | undefined> {
    try {
      return await store.appendWith(append.streamId, append.expectedVersion, append.events, (bind) => {
        const [outcome, detail, verification, notifyVerify, setVerified, verified] =
          this.finishParameters(finish).map(bind);
        return [
          // No ON CONFLICT: a key already taken fails the statement, which undoes the append.
          [
            'claimed',
            `INSERT INTO processed_notifications (notify_id, inbox_id)
             SELECT ${bind(notifyId)}::text, ${bind(inboxId)}::bigint FROM appended RETURNING inbox_id`,
          ],
          [
            'finished',
            `UPDATE inbox_notifications
             SET outcome = ${outcome}, outcome_detail = ${detail}::jsonb || jsonb_build_object(
                   'transactionId', appended.transaction_id,
                   'firstPosition', appended.first_position,
                   'lastPosition', appended.last_position),
                 verification = COALESCE(${verification}::jsonb, verification),
                 notify_verify = COALESCE(${notifyVerify}::jsonb, notify_verify),
                 verified = CASE WHEN ${setVerified}::boolean THEN ${verified}::boolean ELSE verified END,
                 processed_at = now()
             FROM appended WHERE id = (SELECT inbox_id FROM claimed)`,
          ],
        ];
      });
    } catch (error) {
      if (isKeyTaken(error)) return undefined;
      throw error;
    }
  }

  /**
   * Takes the de-duplication key of `notifyId` for `inboxId` inside the caller's transaction. A concurrent
   * delivery of the same notify_id waits here until the first one commits or rolls back. Resolves with the
   * inbox id that holds the key when it is not this one.
   */
  async claim(session: DatabaseSession, notifyId: string, inboxId: number): Promise<number | undefined> {
    const claimed = await session.query<unknown[]>(
      `INSERT INTO processed_notifications (notify_id, inbox_id) VALUES ($1, $2)
       ON CONFLICT (notify_id) DO NOTHING RETURNING inbox_id`,
      [notifyId, inboxId],
    );
    if (claimed.length > 0) return undefined;
    return (await this.processedBy(notifyId, session)) ?? inboxId;
  }

  /**
   * Marks `failed` (reason `interrupted`) the rows still `received` after `olderThanMs`: their process
   * stopped mid-way. Nothing was acknowledged for them, so Alipay delivers them again. Only rows received
   * since `receivedSince`, when given (a window of the `received_at` index). Returns their ids and the
   * cutoff used, by the database's clock.
   */
  async markInterrupted(olderThanMs: number, receivedSince?: Date): Promise<{ ids: number[]; cutoff: Date }> {
    const detail: InboxOutcomeDetail = {
      outcome: 'failed',
      reason: 'interrupted',
      message: 'the process stopped before this notification was processed; Alipay retries it',
    };
    const rows = await this.dataSource.query<{ id: string | null; cutoff: Date }[]>(
      // The cutoff is the database's clock; the rows come back through a CTE so that the driver returns them.
      `WITH cutoff AS (SELECT now() - make_interval(secs => $1::float8 / 1000) AS at),
       marked AS (
         UPDATE inbox_notifications SET outcome = 'failed', outcome_detail = $2::jsonb, processed_at = now()
         WHERE outcome = 'received' AND received_at < (SELECT at FROM cutoff)
           AND ($3::timestamptz IS NULL OR received_at >= $3::timestamptz)
         RETURNING id)
       SELECT marked.id, cutoff.at AS cutoff FROM cutoff LEFT JOIN marked ON true`,
      [olderThanMs, jsonbText(detail), receivedSince ?? null],
    );
    return {
      ids: rows.flatMap((row) => (row.id === null ? [] : [Number(row.id)])).sort((a, b) => a - b),
      cutoff: new Date(rows[0].cutoff),
    };
  }
}
