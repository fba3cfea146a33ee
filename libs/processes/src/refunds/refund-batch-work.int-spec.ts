import { LEDGER_EVENT_CATALOGUE, refundBatchStreamId } from '@ledger/domain';
import { EventSchemas, EventStore, Projector, type NewEvent } from '@ledger/event-store';
import { createTestDatabase, type TestDatabase } from '@ledger/testing';
import { REFUND_BATCH_WORK, RefundBatchWork, refundBatchWork } from './refund-batch-work';
import { RefundBatchSends } from './refund-batch-sends';

// The refund processes' consumer on the real tables: batches that exist before it first runs are enrolled
// from the history, a replay from position 0 changes nothing that was settled or claimed, two instances
// claim each due batch once, and a restarted consumer goes on from its checkpoint.

interface WorkRow {
  batch_no: string;
  awaiting_answer: boolean;
  awaiting_result: boolean;
  awaiting_confirmation: boolean;
}

const HOUR = 3_600_000;

describe('the refund_batch_work consumer', () => {
  let db: TestDatabase;
  let schemas: EventSchemas;
  let store: EventStore;
  let work: RefundBatchWork;
  let sends: RefundBatchSends;
  const running: Projector[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('refund_batch_work');
    schemas = new EventSchemas(LEDGER_EVENT_CATALOGUE);
    store = new EventStore(db.dataSource, schemas);
    work = new RefundBatchWork(db.dataSource);
    sends = new RefundBatchSends(db.dataSource);
  });
  afterAll(async () => {
    for (const projector of running) await projector.stop();
    await db?.close();
  });

  const started = async (): Promise<Projector> => {
    const projector = new Projector(db.dataSource, [refundBatchWork], { schemas, idlePollMs: 50 });
    running.push(projector);
    await projector.start();
    return projector;
  };

  /** Waits for `projector`'s consumer to pass the store's last event. */
  const consumed = async (projector: Projector): Promise<void> => {
    const [last] = (await store.readAll(0, 100_000)).slice(-1);
    await projector.waitFor(
      REFUND_BATCH_WORK,
      { transactionId: last.transactionId, position: last.globalPosition },
      10_000,
    );
  };

  const submittedAt = new Date('2024-06-01T02:00:00.000Z');
  const append = (batchNo: string, events: NewEvent[]) =>
    store.append(refundBatchStreamId(batchNo), 'any', events);
  const submitted = (batchNo: string, mode: 'pwd' | 'nopwd', at = submittedAt): NewEvent => ({
    type: 'RefundBatchSubmitted',
    data: {
      batchNo,
      mode,
      items: [{ outTradeNo: `O${batchNo}`, tradeNo: `T${batchNo}`, amount: 100, reason: 'r' }],
      batchNum: 1,
      totalAmount: 100,
      submittedAt: at.toISOString(),
    },
  });
  const at = new Date(submittedAt.getTime() + 60_000).toISOString();

  const rows = async (): Promise<Record<string, Omit<WorkRow, 'batch_no'>>> =>
    Object.fromEntries(
      (
        await db.dataSource.query<WorkRow[]>(
          `SELECT batch_no, awaiting_answer, awaiting_result, awaiting_confirmation FROM refund_batch_work`,
        )
      ).map(({ batch_no, ...waits }) => [batch_no, waits]),
    );

  const waits = (answer: boolean, result: boolean, confirmation: boolean) => ({
    awaiting_answer: answer,
    awaiting_result: result,
    awaiting_confirmation: confirmation,
  });

  // Batch numbers: the Beijing date of their submission, then a serial.
  const b = (n: number) => `20240601${String(n).padStart(3, '0')}`;

  it('enrols the batches of the history on its first start, each with what it still waits for', async () => {
    // Written before the consumer ever ran: what a deployment upgrading to it holds.
    await append(b(1), [submitted(b(1), 'nopwd')]);
    await append(b(2), [
      submitted(b(2), 'nopwd'),
      { type: 'RefundBatchAccepted', data: { batchNo: b(2), reply: 'P', acceptedAt: at } },
    ]);
    await append(b(3), [
      submitted(b(3), 'nopwd'),
      { type: 'RefundBatchOutcomeUnknown', data: { batchNo: b(3), code: 'TIMEOUT', detail: 'x', at } },
    ]);
    await append(b(4), [
      submitted(b(4), 'nopwd'),
      { type: 'RefundBatchOutcomeUnknown', data: { batchNo: b(4), code: 'TIMEOUT', detail: 'x', at } },
      { type: 'RefundBatchResendRejected', data: { batchNo: b(4), code: 'F', rejectedAt: at } },
    ]);
    await append(b(5), [submitted(b(5), 'pwd')]);
    await append(b(6), [
      submitted(b(6), 'pwd'),
      {
        type: 'RefundBatchCancelled',
        data: { batchNo: b(6), operator: 'ops', reason: 'typo', cancelledAt: at },
      },
    ]);
    await append(b(7), [
      submitted(b(7), 'nopwd'),
      { type: 'RefundBatchRejected', data: { batchNo: b(7), code: 'NOT_THIS', rejectedAt: at } },
    ]);
    await append(b(8), [
      submitted(b(8), 'nopwd'),
      { type: 'RefundBatchAccepted', data: { batchNo: b(8), reply: 'T', acceptedAt: at } },
      {
        type: 'AnomalyDetected',
        data: { batchNo: b(8), kind: 'refund_result_missing', detail: 'late', detectedAt: at },
      },
    ]);
    await append(b(9), [
      submitted(b(9), 'nopwd'),
      { type: 'RefundBatchOutcomeUnknown', data: { batchNo: b(9), code: 'TIMEOUT', detail: 'x', at } },
      {
        type: 'RefundBatchOutcomeMarked',
        data: { batchNo: b(9), accepted: true, operator: 'ops', reason: 'console', markedAt: at },
      },
    ]);
    await append(b(10), [
      submitted(b(10), 'pwd'),
      {
        type: 'RefundBatchCompleted',
        data: { batchNo: b(10), successNum: 1, records: [], anomalies: [], notifyId: 'n', notifyTime: at },
      },
    ]);
    // An order's anomaly is none of the consumer's business.
    await store.append('order-ORDER-ANOMALY-1', 'any', [
      {
        type: 'AnomalyDetected',
        data: { outTradeNo: 'ORDER-ANOMALY-1', kind: 'refund_result_missing', detail: 'x', detectedAt: at },
      },
    ]);

    await consumed(await started());
    expect(await rows()).toEqual({
      [b(1)]: waits(true, true, false),
      [b(2)]: waits(false, true, false),
      [b(3)]: waits(true, true, false),
      [b(4)]: waits(false, true, false),
      [b(5)]: waits(false, true, true),
      [b(6)]: waits(false, false, false),
      [b(7)]: waits(false, false, false),
      [b(8)]: waits(false, false, false),
      [b(9)]: waits(false, true, false),
      [b(10)]: waits(false, false, false),
    });
  });

  it('changes nothing on a replay from position 0: settled waits stay settled, claims and backoff stay', async () => {
    const now = new Date(submittedAt.getTime() + 49 * HOUR);
    const [resend] = await sends.claimDue(now, 120_000, 100, 'instance-a', 60_000);
    await sends.release(resend.batchNo, 'instance-a', 600_000);
    const checked = await work.claimDue('result', now, HOUR, 100, 300_000);
    expect(checked.sort()).toEqual([b(1), b(2), b(3), b(4), b(5), b(9)].sort());
    const before = await rows();
    const claimsBefore = await db.dataSource.query(
      `SELECT batch_no, check_after, expire_after FROM refund_batch_work ORDER BY batch_no`,
    );

    for (const projector of running.splice(0)) await projector.stop();
    await db.dataSource.query(
      `UPDATE projection_checkpoints SET transaction_id = '0', position = 0 WHERE projection = $1`,
      [REFUND_BATCH_WORK],
    );
    await consumed(await started());

    expect(await rows()).toEqual(before);
    expect(
      await db.dataSource.query(
        `SELECT batch_no, check_after, expire_after FROM refund_batch_work ORDER BY batch_no`,
      ),
    ).toEqual(claimsBefore);
    expect(
      (
        await db.dataSource.query<{ failures: number }[]>(
          `SELECT failures FROM refund_batch_sends WHERE batch_no = $1`,
          [resend.batchNo],
        )
      )[0].failures,
    ).toBe(1);
    // The batch is not due again before its backoff, whatever the replay did.
    expect(
      (await sends.claimDue(now, 120_000, 100, 'instance-a', 60_000)).map((c) => c.batchNo),
    ).not.toContain(resend.batchNo);
  });

  it('gives each due batch to one of two instances claiming at once, once', async () => {
    const many = Array.from({ length: 30 }, (_, i) => b(100 + i));
    for (const batchNo of many) await append(batchNo, [submitted(batchNo, 'pwd')]);
    const [projector] = running;
    await consumed(projector);

    const now = new Date(submittedAt.getTime() + 49 * HOUR);
    const [a, c] = await Promise.all([
      work.claimDue('expiry', now, 48 * HOUR, 100, 300_000),
      work.claimDue('expiry', now, 48 * HOUR, 100, 300_000),
    ]);
    const claimed = [...a, ...c];
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.sort()).toEqual([b(5), ...many].sort());
    // Claimed: out of reach until the claims lapse, then due again (nothing ended their wait).
    expect(await work.claimDue('expiry', now, 48 * HOUR, 100, 300_000)).toEqual([]);
    // The claims lapse by the database's clock (the instances that held them died).
    await db.dataSource.query(`UPDATE refund_batch_work SET expire_after = now() - interval '1 second'`);
    expect((await work.claimDue('expiry', now, 48 * HOUR, 100, 300_000)).sort()).toEqual(claimed.sort());
    // A claim given back (its command failed) is due again at once, the others stay claimed.
    await Promise.all(claimed.map((batchNo) => work.release('expiry', batchNo)));
    await work.claimDue('expiry', now, 48 * HOUR, 100, 300_000);
    await work.release('expiry', b(5));
    expect(await work.claimDue('expiry', now, 48 * HOUR, 100, 300_000)).toEqual([b(5)]);
    // Too young for an expiry: none.
    expect(
      await work.claimDue('expiry', new Date(submittedAt.getTime() + 47 * HOUR), 48 * HOUR, 100, 1),
    ).toEqual([]);
  });

  it('goes on from its checkpoint after a restart: later events end the waits of earlier batches', async () => {
    for (const projector of running.splice(0)) await projector.stop();
    // Written while no consumer runs.
    await append(b(5), [
      { type: 'RefundBatchExpired', data: { batchNo: b(5), expireAfterMs: 48 * HOUR, expiredAt: at } },
    ]);
    await append(b(1), [
      { type: 'RefundBatchAccepted', data: { batchNo: b(1), reply: 'T', acceptedAt: at } },
    ]);
    const fresh = submittedAt.getTime() + HOUR;
    await append(b(200), [submitted(b(200), 'nopwd', new Date(fresh))]);

    await consumed(await started());
    const after = await rows();
    expect(after[b(5)]).toEqual(waits(false, false, false));
    expect(after[b(1)]).toEqual(waits(false, true, false));
    expect(after[b(200)]).toEqual(waits(true, true, false));
    const resends = await sends.claimDue(new Date(fresh + 120_000), 120_000, 100, 'instance-b', 60_000);
    expect(resends.map((claim) => claim.batchNo)).toEqual([b(200)]);
  });
});
