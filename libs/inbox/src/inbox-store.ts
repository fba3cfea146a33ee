import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  decodeBytes,
  MAX_NOTIFICATION_PARAMETERS,
  parseForm,
  type QueryVerification,
  type VerificationExplanation,
} from '@ledger/alipay-protocol';
import type { AppendResult, EventStore, ExpectedVersion, NewEvent } from '@ledger/event-store';
import { StatementBatcher, type DatabaseSession } from '@ledger/platform';
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
  /** A notification's signature check, or a `query` answer's. */
  verification?: VerificationExplanation | QueryVerification;
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

/**
 * A notification whose row is not written yet: the id reserved for it (`InboxStore.reserve`) and what
 * reached the edge. Its row is written once, with its outcome, in the commit that records what it caused.
 */
export interface InboxEntry {
  id: number;
  raw: RawNotification;
}

// PostgreSQL text and jsonb cannot hold U+0000, which a hostile body can carry (`%00`). It is shown as
// U+2400 (SYMBOL FOR NULL) in what is derived for reading; the raw bytes keep the real byte.
const NUL = '\u0000';
const NUL_SYMBOL = '\u2400';

/**
 * JSON text for a jsonb parameter, with every U+0000 in a string replaced by U+2400. It runs for every
 * inbox row: the replacer (a call per value) only when the text holds an escaped U+0000 at all.
 */
export function jsonbText(value: unknown): string {
  const text = JSON.stringify(value);
  if (!text.includes('\\u0000')) return text;
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
  /** Concurrent notifications' reservations, answered by one statement (`StatementBatcher`). */
  private readonly reservations = new StatementBatcher(
    (notifyIds: readonly string[]) => this.reserveMany(notifyIds),
    { maxBatch: 64, maxInFlight: 2 },
  );

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * INSERTs the raw notification alone, outcome `received`, in its own transaction. The pipeline writes
   * each row once with its outcome instead (`record`, `recordWithEvents`, `claimAndRecord`); a row left
   * `received` is one whose processing never ended, which `InboxRecovery` marks `failed`.
   */
  async store(raw: RawNotification): Promise<{ id: number; notifyId: string | null }> {
    const parameters: unknown[] = [];
    const bind = binder(parameters);
    const [row] = await this.dataSource.query<{ id: string }[]>(
      `${rowInsert(bind, raw)} RETURNING id`,
      parameters,
    );
    return { id: Number(row.id), notifyId: extractIdentifiers(storedRawBody(raw).body).notify_id };
  }

  /**
   * Reserves the row id of a notification about to be recorded and says which row already processed its
   * notify_id, if any: one read, nothing written (a reserved id that is never used leaves a gap). The
   * reservations asked while two such reads are running go together in the next one.
   */
  async reserve(
    raw: RawNotification,
    notifyId: string,
  ): Promise<{ entry: InboxEntry; processedBy?: number }> {
    const { id, processedBy } = await this.reservations.submit(notifyId);
    return { entry: { id, raw }, ...(processedBy === null ? {} : { processedBy }) };
  }

  /** The reservations of concurrent notifications, in one statement and in the order asked. */
  private async reserveMany(
    notifyIds: readonly string[],
  ): Promise<{ id: number; processedBy: number | null }[]> {
    const rows = await this.dataSource.query<{ id: string; processed_by: string | null }[]>(
      `SELECT nextval(pg_get_serial_sequence('inbox_notifications', 'id')) AS id, p.inbox_id AS processed_by
       FROM unnest($1::text[]) WITH ORDINALITY AS asked (notify_id, n)
       LEFT JOIN processed_notifications p ON p.notify_id = asked.notify_id
       ORDER BY asked.n`,
      [notifyIds],
    );
    return rows.map((row) => ({
      id: Number(row.id),
      processedBy: row.processed_by === null ? null : Number(row.processed_by),
    }));
  }

  /**
   * Writes a notification's row with how its processing ended, in one statement that commits on its own:
   * under its reserved id when given an entry. Returns the row's id.
   */
  async record(notification: RawNotification | InboxEntry, finish: InboxFinish): Promise<number> {
    const parameters: unknown[] = [];
    const bind = binder(parameters);
    const entry = 'raw' in notification ? notification : undefined;
    const raw = entry?.raw ?? (notification as RawNotification);
    const [row] = await this.dataSource.query<{ id: string }[]>(
      `${rowInsert(bind, raw, { id: entry?.id, finish: this.finishColumns(bind, finish) })} RETURNING id`,
      parameters,
    );
    return Number(row.id);
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
      verification === undefined
        ? null
        : jsonbText(
            whole || !('parameterNames' in verification) ? verification : storedVerification(verification),
          ),
      notifyVerify === undefined ? null : jsonbText(whole ? notifyVerify : storedNotifyVerify(notifyVerify)),
      finish.verified !== undefined,
      finish.verified ?? null,
    ];
  }

  /** The outcome columns of a row written with its outcome, bound. */
  private finishColumns(
    bind: Bind,
    finish: InboxFinish,
    detailSql?: (detail: string) => string,
  ): FinishColumns {
    const [outcome, detail, verification, notifyVerify, , verified] = this.finishParameters(finish);
    return {
      outcome: `${bind(outcome)}::text`,
      detail: detailSql === undefined ? `${bind(detail)}::jsonb` : detailSql(`${bind(detail)}::jsonb`),
      verification: `${bind(verification)}::jsonb`,
      notifyVerify: `${bind(notifyVerify)}::jsonb`,
      verified: `${bind(verified)}::boolean`,
    };
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
   * Takes the de-duplication key of `notifyId` for the entry and, only if it was free, writes the entry's
   * row with its outcome: one statement, in the caller's transaction when given. A concurrent delivery of
   * the same notify_id makes it wait until that one commits or rolls back. False when another row holds
   * the key: then nothing was written.
   */
  async claimAndRecord(
    notifyId: string,
    entry: InboxEntry,
    finish: InboxFinish,
    session?: DatabaseSession,
  ): Promise<boolean> {
    const parameters: unknown[] = [];
    const bind = binder(parameters);
    const [row] = await this.on(session).query<{ recorded: string }>(
      // The key's row names the entry's row, written by the same statement (the foreign key is checked at
      // its end).
      `WITH claimed AS (
         INSERT INTO processed_notifications (notify_id, inbox_id) VALUES (${bind(notifyId)}, ${bind(entry.id)})
         ON CONFLICT (notify_id) DO NOTHING RETURNING inbox_id),
       recorded AS (
         ${rowInsert(bind, entry.raw, { id: entry.id, finish: this.finishColumns(bind, finish), from: 'claimed' })}
         RETURNING id)
       SELECT count(*) AS recorded FROM recorded`,
      parameters,
    );
    return Number(row.recorded) === 1;
  }

  /**
   * Appends a notification's events, takes its notify_id's de-duplication key and writes the entry's row
   * with its outcome, all in the event store's one statement that commits on its own
   * (`EventStore.appendWith`): the notification's one commit. The outcome's detail gets the transaction and
   * positions the events landed at. Undefined when another row holds the key: then nothing was written.
   *
   * @throws EventStoreError `WRONG_EXPECTED_VERSION` / `STREAM_ORDER_CONFLICT` (retryable; nothing written).
   */
  async recordWithEvents(
    store: EventStore,
    append: { streamId: string; expectedVersion: ExpectedVersion; events: readonly NewEvent[] },
    notifyId: string,
    entry: InboxEntry,
    finish: Omit<InboxFinish, 'outcome' | 'detail'> & { outcome: 'applied'; detail: PendingAppliedDetail },
  ): Promise<AppendResult | undefined> {
    try {
      return await store.appendWith(append.streamId, append.expectedVersion, append.events, (bind) => {
        const columns = this.finishColumns(
          bind,
          finish as InboxFinish,
          (detail) => `${detail} || jsonb_build_object(
                   'transactionId', appended.transaction_id,
                   'firstPosition', appended.first_position,
                   'lastPosition', appended.last_position)`,
        );
        return [
          [
            'recorded',
            `${rowInsert(bind, entry.raw, { id: entry.id, finish: columns, from: 'appended' })} RETURNING id`,
          ],
          // No ON CONFLICT: a key already taken fails the statement, which undoes the append and the row.
          [
            'claimed',
            `INSERT INTO processed_notifications (notify_id, inbox_id)
             SELECT ${bind(notifyId)}::text, id FROM recorded RETURNING inbox_id`,
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

type Bind = (value: unknown) => string;

/** Binds values as `$n` placeholders of `parameters`, in order. */
function binder(parameters: unknown[]): Bind {
  return (value) => {
    parameters.push(value);
    return `$${parameters.length}`;
  };
}

/** The outcome columns of a row written with its outcome, as bound SQL expressions. */
interface FinishColumns {
  outcome: string;
  detail: string;
  verification: string;
  notifyVerify: string;
  verified: string;
}

/** The body as stored: a refused (cut, or over the cap) body keeps only its first bytes. */
function storedRawBody(raw: RawNotification): { body: Buffer; truncated: boolean } {
  return storedBody(raw.body, raw.truncated, MAX_NOTIFICATION_BYTES);
}

/**
 * The INSERT of one inbox row: its raw columns, the identifiers read from its bytes (filter keys only),
 * and, when `finish` is given, its outcome (processed now). With `id`, the row takes the id reserved for it;
 * with `from`, it is written once per row of that CTE (none when it has none).
 */
function rowInsert(
  bind: Bind,
  raw: RawNotification,
  options: { id?: number; finish?: FinishColumns; from?: string } = {},
): string {
  const { body, truncated } = storedRawBody(raw);
  const ids = { ...extractIdentifiers(body), ...raw.identifiers };
  const columns: [string, string][] = [
    ['channel', bind(raw.channel)],
    ['received_at', `${bind(raw.receivedAt)}::timestamptz`],
    [
      'remote_address',
      `${bind(raw.remoteAddress === undefined ? null : cleanText(raw.remoteAddress, MAX_EXTRACTED_LENGTH))}::text`,
    ],
    ['method', bind(cleanText(raw.method, 16))],
    ['path', bind(cleanText(raw.path, 2048))],
    ['headers', `${bind(jsonbText(storedHeaders(raw.headers)))}::jsonb`],
    [
      'content_type',
      `${bind(raw.contentType === undefined ? null : cleanText(raw.contentType, 1024))}::text`,
    ],
    ['raw_body', `${bind(body)}::bytea`],
    ['received_bytes', `${bind(raw.receivedBytes)}::bigint`],
    ['body_truncated', `${bind(truncated)}::boolean`],
    ['notify_id', `${bind(ids.notify_id)}::text`],
    ['notify_type', `${bind(ids.notify_type)}::text`],
    ['out_trade_no', `${bind(ids.out_trade_no)}::text`],
    ['trade_no', `${bind(ids.trade_no)}::text`],
    ['batch_no', `${bind(ids.batch_no)}::text`],
  ];
  if (options.id !== undefined) columns.unshift(['id', `${bind(options.id)}::bigint`]);
  const { finish } = options;
  if (finish !== undefined) {
    columns.push(
      ['outcome', finish.outcome],
      ['outcome_detail', finish.detail],
      ['verification', finish.verification],
      ['notify_verify', finish.notifyVerify],
      ['verified', finish.verified],
      ['processed_at', 'now()'],
    );
  }
  return `INSERT INTO inbox_notifications (${columns.map(([name]) => name).join(', ')})
    ${options.id === undefined ? '' : 'OVERRIDING SYSTEM VALUE'}
    SELECT ${columns.map(([, value]) => value).join(', ')}${options.from === undefined ? '' : ` FROM ${options.from}`}`;
}
