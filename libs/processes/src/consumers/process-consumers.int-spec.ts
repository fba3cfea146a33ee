import { LEDGER_EVENT_CATALOGUE, refundBatchStreamId } from '@ledger/domain';
import { EventSchemas, EventStore } from '@ledger/event-store';
import { ForegroundWork, LedgerLogger, loadConfig } from '@ledger/platform';
import { createTestDatabase, type TestDatabase } from '@ledger/testing';
import { ProcessConsumers } from './process-consumers';

// The process managers' projector on an instance that runs no fulfilment: the refund work list is still
// kept, and the fulfilment outbox's lag still reads.

describe('the process managers consumers without FULFILMENT_WORKER', () => {
  let db: TestDatabase;
  let consumers: ProcessConsumers;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase('process_consumers');
    const schemas = new EventSchemas(LEDGER_EVENT_CATALOGUE);
    store = new EventStore(db.dataSource, schemas);
    const config = loadConfig(
      { LEDGER_MODE: 'demo', ADMIN_TOKEN: 'process-consumers-admin-token-0001', FULFILMENT_WORKER: 'false' },
      { envFile: false },
    );
    consumers = new ProcessConsumers(
      db.dataSource,
      schemas,
      store,
      new LedgerLogger('silent'),
      config,
      new ForegroundWork(),
    );
    await consumers.onApplicationBootstrap();
  });
  afterAll(async () => {
    await consumers?.beforeApplicationShutdown();
    await db?.close();
  });

  it('enrols a submitted batch before a pass reads the list, and reports both consumers lag', async () => {
    const batchNo = '20240601901';
    await store.append(refundBatchStreamId(batchNo), 'no_stream', [
      {
        type: 'RefundBatchSubmitted',
        data: {
          batchNo,
          mode: 'nopwd',
          items: [{ outTradeNo: 'O1', tradeNo: 'T1', amount: 100, reason: 'r' }],
          batchNum: 1,
          totalAmount: 100,
          submittedAt: '2024-06-01T02:00:00.000Z',
        },
      },
    ]);
    await consumers.refundWorkCaughtUp(10_000);
    expect(
      await db.dataSource.query(`SELECT awaiting_answer FROM refund_batch_work WHERE batch_no = $1`, [
        batchNo,
      ]),
    ).toEqual([{ awaiting_answer: true }]);
    expect((await consumers.refundWorkLag()).events).toBe(0);
    // Nothing runs the outbox here: its lag counts the event, and nothing was enqueued.
    expect((await consumers.fulfilmentLag()).events).toBe(1);
    expect(await db.dataSource.query(`SELECT 1 FROM webhook_messages`)).toEqual([]);
    // Both are read, the one this instance does not run too.
    expect(await consumers.parked(10)).toEqual([
      { projection: 'fulfilment_outbox', events: 0, streams: 0, first: [] },
      { projection: 'refund_batch_work', events: 0, streams: 0, first: [] },
    ]);
  });
});
