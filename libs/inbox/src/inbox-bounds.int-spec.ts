import { verifyNotification } from '@ledger/alipay-protocol';
import { DEMO_ALIPAY, loadConfig } from '@ledger/platform';
import {
  createTestDatabase,
  newTradeNo,
  signedNotification,
  tradeStatusSyncParams,
  type TestDatabase,
} from '@ledger/testing';
import type { RawNotification } from './raw-notification';
import { InboxQueries } from './inbox-queries';
import { InboxStore } from './inbox-store';
import { MAX_STORED_EXPLANATION_BYTES } from './stored-evidence';

// What the inbox stores and what its lists read are bounded (docs/operations.md, "Bounded storage").

function raw(body: Buffer, headers: Record<string, string | string[]> = {}): RawNotification {
  return {
    channel: 'notify',
    receivedAt: new Date(),
    method: 'POST',
    path: '/alipay/notify',
    headers,
    body,
    receivedBytes: body.length,
    truncated: false,
  };
}

/** How the ledger explains the signature of a notification body checked against one MD5 key. */
function explain(body: Buffer, md5Key: string) {
  return verifyNotification(body, {
    signType: 'MD5',
    md5Keys: [md5Key],
    defaultCharset: 'utf-8',
    source: 'notify',
  }).explanation;
}

/**
 * An explanation of tens of kilobytes. The protocol bounds its own explanations (docs/operations.md,
 * "Hostile input"); the store's bound holds whatever it is given, so this one is padded past it.
 */
function largeExplanation() {
  const body = Buffer.from(Array.from({ length: 150 }, (_, i) => `p${i}=${i}`).join('&'));
  const explanation = explain(body, 'k'.repeat(32));
  return {
    body,
    explanation: { ...explanation, hints: Array.from({ length: 60 }, (_, i) => `${i} ${'h'.repeat(400)}`) },
  };
}

describe('the bounds of the inbox on a real database', () => {
  let database: TestDatabase;
  let inbox: InboxStore;
  let queries: InboxQueries;

  beforeAll(async () => {
    database = await createTestDatabase('inbox_bounds');
    inbox = new InboxStore(database.dataSource);
    queries = new InboxQueries(database.dataSource, loadConfig({ LOG_LEVEL: 'fatal' }, { envFile: false }));
  });

  afterAll(async () => {
    await database?.close();
  });

  it('keeps the gist of an unverified explanation and the whole of a verified one', async () => {
    const { body, explanation } = largeExplanation();
    const rejected = await inbox.store(raw(body));
    await inbox.finish(rejected.id, {
      outcome: 'rejected',
      detail: { outcome: 'rejected', reason: 'signature', message: explanation.summary },
      verification: explanation,
      verified: false,
    });
    const stored = (await queries.get(rejected.id)).verification;
    expect(Buffer.byteLength(JSON.stringify(stored))).toBeLessThanOrEqual(MAX_STORED_EXPLANATION_BYTES);
    expect(stored).toMatchObject({
      outcome: explanation.outcome,
      cut: { parameters: explanation.parameterNames.length },
    });

    const verified = await inbox.store(raw(body));
    await inbox.finish(verified.id, {
      outcome: 'no_new_fact',
      detail: { outcome: 'no_new_fact', reason: 'duplicate' },
      verification: explanation,
      verified: true,
    });
    expect((await queries.get(verified.id)).verification).toEqual(explanation);
  });

  it('keeps a verified payment whole in its row, and compresses only larger ones', async () => {
    const layout = async (id: number) => {
      const [row] = await database.dataSource.query<
        { row_bytes: number; verification: string | null; body: string | null }[]
      >(
        `SELECT pg_column_size(i.*) AS row_bytes, pg_column_compression(verification) AS verification,
                pg_column_compression(raw_body) AS body
         FROM inbox_notifications i WHERE id = $1`,
        [id],
      );
      return row;
    };
    const notification = signedNotification(
      tradeStatusSyncParams({
        outTradeNo: 'ROW-1',
        tradeNo: newTradeNo(),
        tradeStatus: 'TRADE_SUCCESS',
        totalFee: '12.34',
      }),
    );
    const explanation = explain(notification.body, DEMO_ALIPAY.md5Key);
    expect(explanation.outcome).toBe('VERIFIED');
    const headers = { 'content-type': notification.contentType, 'user-agent': 'Mozilla/4.0' };
    const id = await inbox.record(raw(notification.body, headers), {
      outcome: 'no_new_fact',
      detail: { outcome: 'no_new_fact', reason: 'duplicate' },
      verification: explanation,
      verified: true,
    });
    const row = await layout(id);
    // Past the 2 KB from which PostgreSQL would compress the evidence and move it out of the row.
    expect(Number(row.row_bytes)).toBeGreaterThan(2_100);
    expect(row).toMatchObject({ verification: null, body: null });

    const refused = await inbox.store({
      ...raw(Buffer.alloc(200 * 1024, 'a')),
      truncated: true,
      receivedBytes: 200 * 1024,
    });
    expect((await layout(refused.id)).body).not.toBeNull();
  });

  it('keeps at most 64 KiB of a refused body and bounds its headers', async () => {
    const body = Buffer.alloc(200 * 1024, 'a');
    const headers = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`x-h${i}`, 'v'.repeat(100)]));
    const { id } = await inbox.store({ ...raw(body, headers), truncated: true, receivedBytes: 3_000_000 });
    const view = await queries.get(id);
    expect(view.body).toMatchObject({ byteLength: 64 * 1024, receivedBytes: 3_000_000, truncated: true });
    expect(Object.keys(view.headers).length).toBeLessThanOrEqual(101);
    expect(view.headers['(cut)']).toContain('of 500 header lines');
  });

  it('lists 20 by default, each with the first 4 KiB of its body; one notification shows all', async () => {
    const body = Buffer.from(`notify_id=big&filler=${'f'.repeat(10_000)}`);
    for (let i = 0; i < 21; i += 1) await inbox.store(raw(body));
    const page = await queries.list();
    expect(page.items).toHaveLength(20);
    expect(page.nextCursor).not.toBeNull();
    expect(page.items[0].body).toMatchObject({ byteLength: body.length, shortened: true });
    expect(Buffer.byteLength(page.items[0].body.text)).toBe(4096);
    const whole = await queries.get(page.items[0].id);
    expect(Buffer.from(whole.body.base64!, 'base64').equals(body)).toBe(true);
    await expect(queries.list({}, { limit: 101 })).rejects.toMatchObject({ code: 'INVALID_FILTER' });
  });
});
