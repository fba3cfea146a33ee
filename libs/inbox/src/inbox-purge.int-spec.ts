import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { LEDGER_EVENT_CATALOGUE } from '@ledger/domain';
import { EventSchemas, EventStore } from '@ledger/event-store';
import { createTestDatabase, describeOnPostgres, type TestDatabase } from '@ledger/testing';
import type { RawNotification } from './raw-notification';
import type { InboxOutcomeDetail } from './inbox-notification';
import { InboxPurge } from './inbox-purge';
import { InboxStore, type InboxFinish } from './inbox-store';

// The purge of unverified notifications against a real database (docs/operations.md, "Bounded storage"):
// what the trigger lets through, what the command deletes and records, and the CLI around it.

const DAY_MS = 24 * 60 * 60 * 1000;
const REPO_ROOT = resolve(__dirname, '../../..');

function raw(receivedAt: Date, body = 'notify_id=n&sign=x'): RawNotification {
  return {
    channel: 'notify',
    receivedAt,
    remoteAddress: '203.0.113.9',
    method: 'POST',
    path: '/alipay/notify',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    contentType: 'application/x-www-form-urlencoded',
    body: Buffer.from(body),
    receivedBytes: body.length,
    truncated: false,
  };
}

const rejected: InboxFinish = {
  outcome: 'rejected',
  detail: { outcome: 'rejected', reason: 'signature', message: 'SIGNATURE_MISMATCH' },
  verified: false,
};
const failed: InboxFinish = {
  outcome: 'failed',
  detail: { outcome: 'failed', reason: 'interrupted', message: 'stopped' },
};
const duplicate: InboxFinish = {
  outcome: 'no_new_fact',
  detail: { outcome: 'no_new_fact', reason: 'duplicate', duplicateOf: 1 } satisfies InboxOutcomeDetail,
  verified: true,
};

describe('purging unverified notifications', () => {
  let database: TestDatabase;
  let inbox: InboxStore;
  let purge: InboxPurge;
  const old = () => new Date(Date.now() - 100 * DAY_MS);

  const ids = async () =>
    (await database.dataSource.query<{ id: string }[]>(`SELECT id FROM inbox_notifications ORDER BY id`)).map(
      (row) => Number(row.id),
    );
  const audits = () =>
    database.dataSource.query<
      {
        run_id: string;
        rows_purged: number;
        bytes_purged: string;
        first_id: string;
        last_id: string;
        operator: string;
        older_than_days: number;
      }[]
    >(`SELECT * FROM inbox_purges ORDER BY id`);
  const stored = async (receivedAt: Date, finish?: InboxFinish) => {
    const { id } = await inbox.store(raw(receivedAt));
    if (finish !== undefined) await inbox.finish(id, finish);
    return id;
  };
  const deleteAll = () => database.dataSource.query(`DELETE FROM inbox_notifications`);

  beforeAll(async () => {
    database = await createTestDatabase('inbox_purge');
    inbox = new InboxStore(database.dataSource);
    purge = new InboxPurge(database.dataSource);
  });

  afterAll(async () => {
    await database?.close();
  });

  it('deletes only old, unverified, finished rows that hold no key', async () => {
    const goneRejected = await stored(old(), rejected);
    const goneFailed = await stored(old(), failed);
    const verified = await stored(old(), duplicate);
    const stillReceived = await stored(old());
    const recent = await stored(new Date(Date.now() - DAY_MS), rejected);
    const keyHolder = await stored(old(), rejected);
    await database.dataSource.transaction((manager) => inbox.claim(manager, 'KEY-1', keyHolder));
    const before = await ids();

    const dry = await purge.purge({ olderThanDays: 90, operator: 'alice', dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, rows: 2, firstId: goneRejected, lastId: goneFailed });
    expect(dry.bytes).toBeGreaterThan(0);
    expect(await ids()).toEqual(before);
    expect(await audits()).toEqual([]);

    const report = await purge.purge({ olderThanDays: 90, operator: 'alice', dryRun: false, batchSize: 1 });
    expect(report).toMatchObject({ rows: 2, bytes: dry.bytes, firstId: goneRejected, lastId: goneFailed });
    expect(report.batches).toBe(2);
    expect(await ids()).toEqual([verified, stillReceived, recent, keyHolder].sort((a, b) => a - b));
    const rows = await audits();
    expect(rows).toHaveLength(2);
    expect(rows.map((row) => [Number(row.first_id), Number(row.last_id), row.rows_purged])).toEqual([
      [goneRejected, goneRejected, 1],
      [goneFailed, goneFailed, 1],
    ]);
    expect(rows.every((row) => row.run_id === report.runId && row.operator === 'alice')).toBe(true);
    expect(rows.every((row) => row.older_than_days === 90)).toBe(true);

    const again = await purge.purge({ olderThanDays: 90, operator: 'alice', dryRun: false });
    expect(again).toMatchObject({ rows: 0, batches: 0, firstId: null });
    expect(await audits()).toHaveLength(2);
  });

  it('still refuses a plain DELETE, even of a row the purge would take', async () => {
    const purgeable = await stored(old(), rejected);
    await expect(deleteAll()).rejects.toThrow(/inbox notifications are kept/);
    await expect(
      database.dataSource.query(`DELETE FROM inbox_notifications WHERE id = $1`, [purgeable]),
    ).rejects.toThrow(/cannot delete notification/);
    expect(await ids()).toContain(purgeable);
  });

  it('refuses a purging transaction that deletes a verified row', async () => {
    const verified = await stored(old(), duplicate);
    await expect(
      database.dataSource.transaction(async (manager) => {
        await manager.query(`SET LOCAL ledger.inbox_purge = 'on'`);
        await manager.query(`DELETE FROM inbox_notifications WHERE id = $1`, [verified]);
      }),
    ).rejects.toThrow(/cannot delete notification/);
    expect(await ids()).toContain(verified);
  });

  it('keeps events immutable, whatever the purging transaction says', async () => {
    const store = new EventStore(database.dataSource, new EventSchemas(LEDGER_EVENT_CATALOGUE));
    await store.append('order-probe-purge', 'any', [{ type: 'OrderPlaced', data: {} }]);
    await expect(
      database.dataSource.transaction(async (manager) => {
        await manager.query(`SET LOCAL ledger.inbox_purge = 'on'`);
        await manager.query(`DELETE FROM events`);
      }),
    ).rejects.toThrow(/events are immutable/);
  });

  it('refuses a retention of less than a day', async () => {
    await expect(purge.purge({ olderThanDays: 0, operator: 'alice', dryRun: false })).rejects.toThrow(
      RangeError,
    );
  });

  const cli = (args: string[]) =>
    spawnSync(
      process.execPath,
      ['-r', '@swc-node/register', 'apps/ledger-cli/src/main.ts', 'purge-unverified', ...args],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, DATABASE_URL: database.url, LOG_LEVEL: 'fatal' },
        timeout: 60_000,
      },
    );

  it('refuses bad options with the usage exit code, touching nothing', () => {
    const bad = cli(['--older-than-days', 'soon']);
    expect(bad.status).toBe(64);
    expect(bad.stderr).toContain('--older-than-days must be a whole number of days');
    expect(cli(['--everything']).status).toBe(64);
  });

  describeOnPostgres('the ledger-cli command on PostgreSQL', () => {
    it('prints what a dry run would purge, deletes it for real, and audits who asked', async () => {
      const purgeable = await stored(old(), rejected);
      const dry = cli(['--older-than-days', '90', '--dry-run']);
      expect(dry.stderr).toBe('');
      expect(dry.status).toBe(0);
      expect(dry.stdout).toMatch(/^would purge \d+ unverified notification\(s\), \d+ bytes, ids \d+ to \d+/);
      expect(await ids()).toContain(purgeable);

      const real = cli(['--older-than-days', '90', '--operator', 'ops-bob']);
      expect(real.status).toBe(0);
      expect(real.stdout).toMatch(/^purged \d+ unverified notification\(s\)/);
      expect(await ids()).not.toContain(purgeable);
      expect((await audits()).at(-1)).toMatchObject({ operator: 'ops-bob' });
    });
  });
});
