import { tmpdir } from 'node:os';
import { RequestRefundBatchCommand } from '@ledger/commands';
import { loadConfig, openDatabase, type LedgerDatabase } from '@ledger/platform';
import { ProjectionsService } from '@ledger/projections';
import { RefundResender } from '@ledger/processes';
import { describeOnPostgres } from '@ledger/testing';
import { createLedgerApp, type LedgerApp } from '../apps/ledger/src/ledger-app';
import { ADMIN_TOKEN, newOutTradeNo, startLedger, type RunningLedger } from './alipay-notify.fixture';
import { paidOrder, PUBLIC_BASE_URL, streamTypes } from './refunds.fixture';

jest.setTimeout(240_000);

const NOPWD = 'refund_fastpay_by_platform_nopwd';

// Two ledgers on one PostgreSQL resend the same waiting nopwd batches at once: each batch is claimed by one
// of them (refund_batch_sends), so each is sent once per pass, and each answer recorded once.
describeOnPostgres('two ledgers resending nopwd batches', () => {
  let first: RunningLedger;
  let secondDatabase: LedgerDatabase;
  let second: LedgerApp;

  beforeAll(async () => {
    first = await startLedger('resend_instances', { PUBLIC_BASE_URL });
    secondDatabase = await openDatabase({ databaseUrl: first.database.url!, dataDir: tmpdir() });
    second = await createLedgerApp(
      loadConfig(
        {
          LEDGER_MODE: 'demo',
          ADMIN_TOKEN,
          ALIPAY_GATEWAY: first.gateway.url,
          LOG_LEVEL: 'fatal',
          FULFILMENT_WORKER: 'false',
          PUBLIC_BASE_URL,
        },
        { envFile: false },
      ),
      { database: secondDatabase },
    );
    await second.app.init();
  });
  afterAll(async () => {
    await second?.close();
    await secondDatabase?.close();
    await first?.close();
  });

  it('sends each waiting batch once per pass, whichever ledger claims it', async () => {
    const batchNos: string[] = [];
    for (let i = 0; i < 12; i++) {
      const order = newOutTradeNo(`RESEND-2X-${i}`);
      await paidOrder(first, order, 1_000);
      // Recorded, never sent: what a crash right after the commit leaves.
      const { batch, decision } = await first.commands.execute(
        new RequestRefundBatchCommand({
          mode: 'nopwd',
          items: [{ outTradeNo: order, amount: 500, reason: 'r' }],
        }),
      );
      await first.ledger.app
        .get(ProjectionsService)
        .waitForProjections({ transactionId: decision!.transactionId, position: decision!.position }, 5_000);
      batchNos.push(batch.batchNo);
    }
    const later = Date.now() + 600_000;
    const [a, b] = await Promise.all([
      first.ledger.app.get(RefundResender).runOnce(later),
      second.app.get(RefundResender).runOnce(later),
    ]);
    expect(a + b).toBe(batchNos.length);
    for (const batchNo of batchNos) {
      expect(first.gateway.requestsFor(NOPWD, batchNo)).toHaveLength(1);
      expect(await streamTypes(first, `refund-batch-${batchNo}`)).toEqual([
        'RefundBatchSubmitted',
        'RefundBatchAccepted',
      ]);
    }
    // Nothing is left to send: another pass of either calls nothing.
    expect(await second.app.get(RefundResender).runOnce(later)).toBe(0);
  });
});
