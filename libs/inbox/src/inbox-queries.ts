import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { LedgerConfig } from '@ledger/platform';
import { DataSource } from 'typeorm';
import { InboxError } from './inbox-error';
import {
  DEFAULT_INBOX_PAGE_SIZE,
  INBOX_CHANNELS,
  INBOX_OUTCOMES,
  MAX_INBOX_PAGE_SIZE,
  type InboxFilters,
  type InboxNotificationView,
  type InboxPage,
  type InboxPageRequest,
} from './inbox-notification';
import { inboxColumns, toInboxView, type InboxRow } from './inbox-view';

/**
 * Lists read and show the first 4 KiB of each body (a genuine notification is smaller); `get` shows all of
 * it. The cut is made by the database, so a list never loads a whole body (docs/operations.md, "Bounded
 * storage").
 */
const LIST_BODY_BYTES = 4 * 1024;
const CURSOR_PREFIX = 'inbox:';
/** Longest text filter: longer than any identifier Alipay sends, short enough to be an index key. */
const MAX_FILTER_LENGTH = 256;

function encodeCursor(id: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${id}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): number {
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const id = text.startsWith(CURSOR_PREFIX) ? Number(text.slice(CURSOR_PREFIX.length)) : Number.NaN;
  if (!Number.isSafeInteger(id) || id < 1) {
    throw new InboxError('INVALID_CURSOR', 'cursor is not one this API handed out', 'cursor');
  }
  return id;
}

function invalidFilter(field: string, message: string): InboxError {
  return new InboxError('INVALID_FILTER', message, field);
}

function isValidDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

/**
 * Reads the raw inbox for the admin API (`GET /admin/notifications`): filters, cursor pagination newest
 * first, and one notification by id with its exact bytes. Every value reaches SQL as a parameter.
 */
@Injectable()
export class InboxQueries {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: LedgerConfig,
  ) {}

  /**
   * Notifications matching every filter given, newest first.
   * @throws InboxError `INVALID_FILTER` (names the filter), `INVALID_CURSOR`.
   */
  async list(filters: InboxFilters = {}, page: InboxPageRequest = {}): Promise<InboxPage> {
    const limit = page.limit ?? DEFAULT_INBOX_PAGE_SIZE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_INBOX_PAGE_SIZE) {
      throw invalidFilter('limit', `limit must be an integer from 1 to ${MAX_INBOX_PAGE_SIZE}`);
    }
    const conditions: string[] = [];
    const parameters: unknown[] = [];
    const where = (sql: (placeholder: string) => string, value: unknown) => {
      parameters.push(value);
      conditions.push(sql(`$${parameters.length}`));
    };

    for (const [field, column] of [
      ['outTradeNo', 'out_trade_no'],
      ['tradeNo', 'trade_no'],
      ['notifyId', 'notify_id'],
      ['batchNo', 'batch_no'],
    ] as const) {
      const value = filters[field];
      if (value === undefined) continue;
      if (typeof value !== 'string' || value === '' || value.length > MAX_FILTER_LENGTH) {
        throw invalidFilter(field, `${field} must be 1 to ${MAX_FILTER_LENGTH} characters`);
      }
      where((p) => `${column} = ${p}`, value);
    }
    if (filters.channel !== undefined) {
      if (!INBOX_CHANNELS.includes(filters.channel)) {
        throw invalidFilter('channel', `channel must be one of ${INBOX_CHANNELS.join(', ')}`);
      }
      where((p) => `channel = ${p}`, filters.channel);
    }
    if (filters.outcome !== undefined) {
      if (!INBOX_OUTCOMES.includes(filters.outcome)) {
        throw invalidFilter('outcome', `outcome must be one of ${INBOX_OUTCOMES.join(', ')}`);
      }
      where((p) => `outcome = ${p}`, filters.outcome);
    }
    if (filters.verified !== undefined) {
      if (typeof filters.verified !== 'boolean')
        throw invalidFilter('verified', 'verified must be true or false');
      where((p) => `verified = ${p}`, filters.verified);
    }
    for (const field of ['receivedFrom', 'receivedTo'] as const) {
      const value = filters[field];
      if (value !== undefined && !isValidDate(value))
        throw invalidFilter(field, `${field} must be a valid time`);
    }
    if (filters.receivedFrom !== undefined) where((p) => `received_at >= ${p}`, filters.receivedFrom);
    if (filters.receivedTo !== undefined) where((p) => `received_at < ${p}`, filters.receivedTo);
    if (page.cursor !== undefined) where((p) => `id < ${p}`, decodeCursor(page.cursor));

    parameters.push(limit + 1);
    const rows = await this.dataSource.query<InboxRow[]>(
      `SELECT ${inboxColumns(LIST_BODY_BYTES)} FROM inbox_notifications
       ${conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`}
       ORDER BY id DESC LIMIT $${parameters.length}`,
      parameters,
    );
    const items = rows
      .slice(0, limit)
      .map((row) => toInboxView(row, this.config.alipay.inputCharset, { whole: false }));
    return {
      items,
      nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1].id) : null,
    };
  }

  /**
   * One notification, its whole body with the exact bytes in base64.
   * @throws InboxError `NOTIFICATION_NOT_FOUND`.
   */
  async get(id: number): Promise<InboxNotificationView> {
    const [view] = await this.fetch([id], true);
    if (view === undefined) {
      throw new InboxError('NOTIFICATION_NOT_FOUND', `no notification ${id} in the inbox`, 'id');
    }
    return view;
  }

  /**
   * Several notifications by id, as lists show them (for an order's history: each event's causing
   * notification). Ids not found are absent from the map.
   */
  async getMany(ids: readonly number[]): Promise<Map<number, InboxNotificationView>> {
    const views = await this.fetch(ids, false);
    return new Map(views.map((view) => [view.id, view]));
  }

  private async fetch(ids: readonly number[], whole: boolean): Promise<InboxNotificationView[]> {
    const valid = [...new Set(ids)].filter((id) => Number.isSafeInteger(id) && id >= 1);
    if (valid.length === 0) return [];
    const rows = await this.dataSource.query<InboxRow[]>(
      `SELECT ${inboxColumns(whole ? undefined : LIST_BODY_BYTES)} FROM inbox_notifications
       WHERE id = ANY($1::bigint[]) ORDER BY id`,
      [valid],
    );
    return rows.map((row) => toInboxView(row, this.config.alipay.inputCharset, { whole }));
  }
}
