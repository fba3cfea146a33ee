import { basename } from 'node:path';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  encodeForm,
  parseBeijingTime,
  parseYuan,
  verifyNotification,
  type Charset,
  type TextParam,
  type VerificationResult,
} from '@ledger/alipay-protocol';
import { NotificationPipeline } from '@ledger/commands';
import { extractIdentifiers, InboxStore, type RawNotification } from '@ledger/inbox';
import { LedgerConfig } from '@ledger/platform';
import { DataSource } from 'typeorm';
import { readLogFile, type LogEntry } from './log-file';
import {
  readNotificationText,
  type NotificationCandidate,
  type NotificationFormat,
} from './notification-text';

/**
 * What became of one logged text. `applied`: events appended; `no_new_fact`: genuine, the order knew it;
 * `duplicate`: its notify_id was recorded before (a retry Alipay sent, an earlier import, the live edge);
 * `already_imported`: the same bytes were imported before (a rejected one, which holds no key); `rejected`:
 * not verified, or not usable, kept as evidence; `failed`: could not be recorded; `skipped`: not a
 * notification; `malformed`: looks like one of the formats but does not parse. A dry run says `would_apply`
 * and `would_reject` instead.
 */
export type ImportedResult =
  | 'applied'
  | 'no_new_fact'
  | 'duplicate'
  | 'already_imported'
  | 'rejected'
  | 'failed'
  | 'skipped'
  | 'malformed'
  | 'would_apply'
  | 'would_reject';

export const IMPORTED_RESULTS: readonly ImportedResult[] = [
  'applied',
  'no_new_fact',
  'duplicate',
  'already_imported',
  'rejected',
  'failed',
  'skipped',
  'malformed',
  'would_apply',
  'would_reject',
];

export interface ImportedNotification {
  file: string;
  line: number;
  result: ImportedResult;
  format?: NotificationFormat;
  inboxId?: number;
  notifyId?: string;
  outTradeNo?: string;
  tradeStatus?: string;
  refundStatus?: string;
  /** ISO 8601: Alipay's notify_time, the time of the events it caused. */
  notifyTime?: string;
  /** Fen, as the notification said. */
  totalFee?: number;
  events?: string[];
  message?: string;
}

/** One order as the log tells it: what its verified notifications said and what was done with them. */
export interface LoggedOrder {
  outTradeNo: string;
  notifications: number;
  verified: number;
  rejected: number;
  /** The trade_status of the latest verified notification by notify_time, with its refund_status. */
  lastTradeStatus?: string;
  lastRefundStatus?: string;
  /** Every total_fee the verified notifications named, in fen. */
  totalFees: number[];
  events: string[];
}

export interface LogImportReport {
  dryRun: boolean;
  files: { path: string; charset: Charset; entries: number; leadingLines: number }[];
  notifications: ImportedNotification[];
  orders: LoggedOrder[];
  totals: Record<ImportedResult, number> & { entries: number; events: number };
}

/** Reads Alipay's notifications back from a PHP integration's logs and records them on the `import` channel. */
@Injectable()
export class LogImporter {
  constructor(
    private readonly pipeline: NotificationPipeline,
    private readonly inbox: InboxStore,
    private readonly config: LedgerConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /**
   * Imports the files in order, entry by entry (the order of the log is the order the PHP site saw), or,
   * with `dryRun`, says what would be done and writes nothing.
   */
  async importFiles(
    files: readonly { path: string; bytes: Buffer }[],
    options: { dryRun: boolean; concurrency?: number; onEntry?: (done: number) => void },
  ): Promise<LogImportReport> {
    const report: LogImportReport = {
      dryRun: options.dryRun,
      files: [],
      notifications: [],
      orders: [],
      totals: {
        ...(Object.fromEntries(IMPORTED_RESULTS.map((r) => [r, 0])) as Record<ImportedResult, number>),
        entries: 0,
        events: 0,
      },
    };
    const work: { path: string; entry: LogEntry; charset: Charset; ascii: boolean }[] = [];
    for (const file of files) {
      const log = readLogFile(file.bytes);
      report.files.push({
        path: file.path,
        charset: log.charset,
        entries: log.entries.length,
        leadingLines: log.leadingLines,
      });
      for (const entry of log.entries) {
        work.push({ path: file.path, entry, charset: log.charset, ascii: log.ascii });
      }
    }
    // Lanes run side by side, each in log order; the notifications of one order share a lane, so that its
    // history is decided in the order the PHP site saw it (and a dry run's duplicates are found in order).
    const lanes = Array.from({ length: Math.max(1, options.concurrency ?? 1) }, () => [] as number[]);
    work.forEach(({ entry }, index) => lanes[laneOf(entry.text, lanes.length)].push(index));
    // A dry run records nothing: a notify_id met twice in it is a duplicate all the same.
    const seen = new Set<string>();
    const results: ImportedNotification[] = new Array<ImportedNotification>(work.length);
    let done = 0;
    await Promise.all(
      lanes.map(async (lane) => {
        for (const index of lane) {
          const { path, entry, charset, ascii } = work[index];
          results[index] = await this.importEntry(path, entry, charset, ascii, options.dryRun, seen);
          done += 1;
          options.onEntry?.(done);
        }
      }),
    );
    for (const imported of results) {
      report.notifications.push(imported);
      report.totals[imported.result] += 1;
      report.totals.entries += 1;
      report.totals.events += imported.events?.length ?? 0;
    }
    report.orders = ordersOf(report.notifications);
    return report;
  }

  private verify(body: Buffer, contentType: string | undefined): VerificationResult {
    const { alipay } = this.config;
    return verifyNotification(body, {
      signType: alipay.signType,
      md5Keys: alipay.md5Keys,
      ...(alipay.alipayPublicKeyPem === undefined ? {} : { alipayPublicKeyPem: alipay.alipayPublicKeyPem }),
      defaultCharset: alipay.inputCharset,
      ...(contentType === undefined ? {} : { contentType }),
      source: 'notify',
    });
  }

  private async importEntry(
    path: string,
    entry: LogEntry,
    charset: Charset,
    ascii: boolean,
    dryRun: boolean,
    seen: Set<string>,
  ): Promise<ImportedNotification> {
    const where = { file: path, line: entry.line };
    const reading = readNotificationText(entry.text);
    if (reading.kind === 'skipped') return { ...where, result: 'skipped', message: reading.message };
    if (reading.kind === 'malformed') {
      return { ...where, result: 'malformed', format: reading.format, message: reading.message };
    }
    // An ASCII log says nothing of the charset: the notification's own `_input_charset`, else the configured one.
    const contentType = ascii ? undefined : `application/x-www-form-urlencoded; charset=${charset}`;
    let chosen:
      { candidate: NotificationCandidate; body: Buffer; verification: VerificationResult } | undefined;
    let first: typeof chosen;
    for (const candidate of reading.candidates) {
      const body = bodyOf(candidate, charset);
      if (body === undefined) continue;
      const verification = this.verify(body, contentType);
      first ??= { candidate, body, verification };
      if (verification.ok) {
        chosen = { candidate, body, verification };
        break;
      }
    }
    chosen ??= first;
    if (chosen === undefined) {
      return { ...where, result: 'malformed', message: `the text cannot be written in ${charset}` };
    }
    const { candidate, body, verification } = chosen;
    const described: ImportedNotification = {
      ...where,
      result: 'rejected',
      format: candidate.format,
      // Unverified, the parameters are what the line claims: still the best guess of its order.
      ...describe(verification.params.length > 0 ? verification.params : paramsOf(candidate)),
    };
    // A verified notification is found again by its notify_id's key; a rejected one holds none, so its
    // bytes are looked for (one that verifies now, with another key, is imported).
    if (!verification.ok) {
      const earlier = await this.rejectedBefore(body, extractIdentifiers(body).notify_id);
      if (earlier !== undefined) return { ...described, result: 'already_imported', inboxId: earlier };
    }

    if (dryRun) {
      if (!verification.ok) {
        return { ...described, result: 'would_reject', message: verification.explanation.summary };
      }
      const key = described.notifyId ?? '';
      const holder = await this.inbox.processedBy(key);
      if (holder !== undefined || seen.has(key)) {
        return { ...described, result: 'duplicate', ...(holder === undefined ? {} : { inboxId: holder }) };
      }
      seen.add(key);
      return { ...described, result: 'would_apply' };
    }

    const raw: RawNotification = {
      channel: 'import',
      receivedAt: new Date(),
      method: 'POST',
      path: '/import-log',
      headers: {
        'x-import-file': basename(path),
        'x-import-line': String(entry.line),
        'x-import-format': candidate.format,
        'x-import-charset': charset,
        ...(entry.loggedAt === undefined ? {} : { 'x-import-logged-at': entry.loggedAt.toISOString() }),
      },
      ...(contentType === undefined ? {} : { contentType }),
      body,
      receivedBytes: body.length,
      truncated: false,
    };
    const result = await this.pipeline.receive(raw);
    const detail = result.detail;
    const base = { ...described, ...(result.inboxId === undefined ? {} : { inboxId: result.inboxId }) };
    switch (detail.outcome) {
      case 'applied':
        return { ...base, result: 'applied', events: detail.events.map((e) => e.type) };
      case 'no_new_fact':
        return detail.reason === 'duplicate'
          ? {
              ...base,
              result: 'duplicate',
              ...(detail.duplicateOf === undefined ? {} : { inboxId: detail.duplicateOf }),
            }
          : { ...base, result: 'no_new_fact' };
      case 'rejected':
        return { ...base, result: 'rejected', message: detail.message };
      case 'failed':
        return { ...base, result: 'failed', message: detail.message };
    }
  }

  /** The rejected `import` row holding exactly these bytes, if any: importing a log again adds no evidence. */
  private async rejectedBefore(body: Buffer, notifyId: string | null): Promise<number | undefined> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `SELECT id FROM inbox_notifications
       WHERE notify_id IS NOT DISTINCT FROM $1 AND channel = 'import' AND raw_body = $2
         AND outcome = 'rejected'
       ORDER BY id LIMIT 1`,
      [notifyId, body],
    );
    return rows.length === 0 ? undefined : Number(rows[0].id);
  }
}

// `out_trade_no` as a linkstring, print_r, var_export or JSON writes it: only to choose a lane.
const OUT_TRADE_NO = /out_trade_no(?:=|\] => |' => '|":")([A-Za-z0-9_-]{1,64})/;

function laneOf(text: string, lanes: number): number {
  const key = OUT_TRADE_NO.exec(text)?.[1] ?? '';
  let hash = 0;
  for (let i = 0; i < key.length; i++) hash = (hash * 31 + key.charCodeAt(i)) | 0;
  return Math.abs(hash) % lanes;
}

function bodyOf(candidate: NotificationCandidate, charset: Charset): Buffer | undefined {
  if (candidate.format === 'linkstring_urlencoded') return Buffer.from(candidate.body, 'latin1');
  const encoded = encodeForm(candidate.params, charset);
  return encoded.ok ? Buffer.from(encoded.value, 'latin1') : undefined;
}

function paramsOf(candidate: NotificationCandidate): readonly TextParam[] {
  return candidate.format === 'linkstring_urlencoded' ? [] : candidate.params;
}

/** The identifiers and facts of a notification for the report (unverified ones: as they claim). */
function describe(params: readonly TextParam[]): Partial<ImportedNotification> {
  const get = (name: string): string | undefined => {
    const value = params.find((p) => p.name === name)?.value;
    return value === undefined || value === '' ? undefined : value;
  };
  const notifyTime = get('notify_time');
  const parsedTime = notifyTime === undefined ? undefined : parseBeijingTime(notifyTime);
  const totalFee = get('total_fee');
  const parsedFee = totalFee === undefined ? undefined : parseYuan(totalFee);
  const fields: Partial<ImportedNotification> = {
    notifyId: get('notify_id'),
    outTradeNo: get('out_trade_no'),
    tradeStatus: get('trade_status'),
    refundStatus: get('refund_status'),
    notifyTime: parsedTime?.ok ? parsedTime.value.toISOString() : undefined,
    totalFee: parsedFee?.ok ? parsedFee.value : undefined,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

const VERIFIED: ReadonlySet<ImportedResult> = new Set(['applied', 'no_new_fact', 'duplicate', 'would_apply']);

function ordersOf(notifications: readonly ImportedNotification[]): LoggedOrder[] {
  const orders = new Map<string, LoggedOrder & { lastTime?: string }>();
  for (const n of notifications) {
    if (n.outTradeNo === undefined) continue;
    let order = orders.get(n.outTradeNo);
    if (order === undefined) {
      order = {
        outTradeNo: n.outTradeNo,
        notifications: 0,
        verified: 0,
        rejected: 0,
        totalFees: [],
        events: [],
      };
      orders.set(n.outTradeNo, order);
    }
    order.notifications += 1;
    if (!VERIFIED.has(n.result)) {
      if (n.result === 'rejected' || n.result === 'would_reject') order.rejected += 1;
      continue;
    }
    order.verified += 1;
    order.events.push(...(n.events ?? []));
    if (n.totalFee !== undefined && !order.totalFees.includes(n.totalFee)) order.totalFees.push(n.totalFee);
    if (n.notifyTime !== undefined && (order.lastTime === undefined || n.notifyTime >= order.lastTime)) {
      order.lastTime = n.notifyTime;
      order.lastTradeStatus = n.tradeStatus;
      order.lastRefundStatus = n.refundStatus;
    }
  }
  return [...orders.values()]
    .map(({ lastTime: _lastTime, ...order }) => order)
    .sort((a, b) => (a.outTradeNo < b.outTradeNo ? -1 : a.outTradeNo > b.outTradeNo ? 1 : 0));
}
