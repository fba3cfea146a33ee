import { verifyNotification } from '@ledger/alipay-protocol';
import { LedgerConfig, loadConfig } from '@ledger/platform';
import {
  createTestDatabase,
  signedNotification,
  tradeStatusSyncParams,
  type SignedNotification,
  type TestDatabase,
} from '@ledger/testing';
import { InboxSignatureAudit } from './inbox-signature-audit';
import { InboxStore } from './inbox-store';

const FORGED_KEY = `forged-key-${'0'.repeat(21)}`;

describe('InboxSignatureAudit', () => {
  let database: TestDatabase;
  let inbox: InboxStore;
  const config = () => loadConfig({ LEDGER_MODE: 'demo', LOG_LEVEL: 'fatal' }, { envFile: false });
  const audit = (md5Keys?: string[]) => {
    const demo = config();
    const keys =
      md5Keys === undefined ? demo : new LedgerConfig({ ...demo, alipay: { ...demo.alipay, md5Keys } });
    return new InboxSignatureAudit(database.dataSource, keys).audit();
  };

  /** Stores a notification with the verdict the pipeline gives it under the demo configuration. */
  async function stored(notification: SignedNotification, contentType?: string): Promise<number> {
    const { alipay } = config();
    const verification = verifyNotification(notification.body, {
      signType: alipay.signType,
      md5Keys: alipay.md5Keys,
      defaultCharset: alipay.inputCharset,
      ...(contentType === undefined ? {} : { contentType }),
      source: 'notify',
    });
    const { id } = await inbox.store({
      channel: 'notify',
      receivedAt: new Date(),
      method: 'POST',
      path: '/alipay/notify',
      headers: {},
      ...(contentType === undefined ? {} : { contentType }),
      body: notification.body,
      receivedBytes: notification.body.length,
      truncated: false,
    });
    await inbox.finish(id, {
      outcome: verification.ok ? 'no_new_fact' : 'rejected',
      detail: verification.ok
        ? { outcome: 'no_new_fact', reason: 'duplicate' }
        : { outcome: 'rejected', reason: 'signature', message: verification.explanation.summary },
      verification: verification.explanation,
      verified: verification.ok,
    });
    return id;
  }
  const paid = (subject: string) =>
    tradeStatusSyncParams({
      outTradeNo: 'AUDIT-1',
      tradeNo: '2024050122001004370000001',
      tradeStatus: 'TRADE_SUCCESS',
      totalFee: '1.00',
      subject,
    });

  let genuine: number;
  let forged: number;
  let gbk: number;

  beforeAll(async () => {
    database = await createTestDatabase('signature_audit');
    inbox = new InboxStore(database.dataSource);
    genuine = await stored(signedNotification(paid('龙井绿茶')));
    forged = await stored(signedNotification(paid('forged'), FORGED_KEY));
    // GBK bytes with no charset named anywhere: verification read them in the configured charset of the day.
    const gbkNotification = signedNotification(paid('碧螺春'), undefined, 'gbk');
    gbk = await stored(gbkNotification);
    await database.dataSource.query(
      `UPDATE inbox_notifications SET verification = jsonb_set(verification, '{charset}', '"gbk"') WHERE id = $1`,
      [gbk],
    );
    // Refused before verification: nothing to verify again.
    await inbox.store({
      channel: 'notify',
      receivedAt: new Date(),
      method: 'POST',
      path: '/alipay/notify',
      headers: {},
      body: Buffer.alloc(10),
      receivedBytes: 5_000_000,
      truncated: true,
    });
  });
  afterAll(async () => {
    await database?.close();
  });

  it('finds every stored verdict again, in the charset verification chose', async () => {
    const report = await audit();
    expect(report).toEqual({ checked: 3, verified: 2, skipped: 1, differences: [], differenceCount: 0 });
    expect([genuine, forged, gbk]).toHaveLength(3);
  });

  it('reports a body altered after it was stored', async () => {
    await database.dataSource.transaction(async (session) => {
      await session.query(`ALTER TABLE inbox_notifications DISABLE TRIGGER inbox_keep_raw`);
      await session.query(
        `UPDATE inbox_notifications
         SET raw_body = convert_to(replace(convert_from(raw_body, 'UTF8'), 'total_fee=1.00', 'total_fee=9.00'), 'UTF8')
         WHERE id = $1`,
        [genuine],
      );
      await session.query(`ALTER TABLE inbox_notifications ENABLE TRIGGER inbox_keep_raw`);
    });

    const report = await audit();

    expect(report).toMatchObject({ checked: 3, verified: 1, differenceCount: 1 });
    expect(report.differences).toEqual([
      {
        inboxId: genuine,
        channel: 'notify',
        receivedAt: expect.any(String),
        stored: 'VERIFIED',
        now: 'SIGNATURE_MISMATCH',
        storedCharset: 'utf-8',
        nowCharset: 'utf-8',
        summary: expect.any(String),
      },
    ]);
  });

  it('reports every verified notification when the key that signed them is no longer configured', async () => {
    const report = await audit([FORGED_KEY]);
    // The forged one verifies under its own key now: a change too.
    expect(report.differences.map((d) => [d.inboxId, d.stored, d.now])).toEqual([
      [genuine, 'VERIFIED', 'SIGNATURE_MISMATCH'],
      [forged, 'SIGNATURE_MISMATCH', 'VERIFIED'],
      [gbk, 'VERIFIED', 'SIGNATURE_MISMATCH'],
    ]);
  });
});
