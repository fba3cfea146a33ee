import { createTestDatabase, type TestDatabase } from '@ledger/testing';
import { RefundBatchSends } from './refund-batch-sends';

// The sender's durable record of its calls on the real tables: what a restart finds, and two instances
// claiming the same waiting batches at once.

const CLAIM_MS = 60_000;

describe('refund_batch_sends', () => {
  let db: TestDatabase;
  let sends: RefundBatchSends;

  beforeAll(async () => {
    db = await createTestDatabase('refund_batch_sends');
    sends = new RefundBatchSends(db.dataSource);
  });
  afterAll(async () => {
    await db?.close();
  });

  /**
   * A row of the work list, as the `refund_batch_work` consumer writes it: a nopwd batch waits for the
   * gateway's answer while it is submitted or its outcome unknown, and not once a resend was refused.
   */
  const waiting = async (batchNo: string, submittedAt: Date, state = 'submitted', mode = 'nopwd') => {
    await db.dataSource.query(
      `INSERT INTO refund_batch_work (batch_no, mode, submitted_at, awaiting_answer, awaiting_result,
                                      awaiting_confirmation)
       VALUES ($1, $2, $3, $2 = 'nopwd' AND $4 IN ('submitted', 'outcome_unknown'), true, $2 = 'pwd')`,
      [batchNo, mode, submittedAt.toISOString(), state],
    );
  };
  const row = async (batchNo: string) =>
    (
      await db.dataSource.query<
        { in_doubt: boolean; doubt_code: string | null; calls: number; failures: number }[]
      >(`SELECT in_doubt, doubt_code, calls, failures FROM refund_batch_sends WHERE batch_no = $1`, [batchNo])
    )[0];

  it('remembers a call cut short by a crash: the next call finds the batch in doubt', async () => {
    const first = await sends.beginCall('20240501201', 'instance-a', CLAIM_MS);
    expect(first).toMatchObject({ inDoubt: false, failures: 0 });
    // instance-a dies during the call: nothing records its end. Another instance may claim once it lapses.
    expect(await sends.beginCall('20240501201', 'instance-b', CLAIM_MS)).toBeUndefined();
    await db.dataSource.query(
      `UPDATE refund_batch_sends SET claimed_until = now() - interval '1 second' WHERE batch_no = $1`,
      ['20240501201'],
    );
    const next = await sends.beginCall('20240501201', 'instance-b', CLAIM_MS);
    expect(next).toMatchObject({ inDoubt: true, doubtCode: 'INTERRUPTED' });
    expect(next?.doubtDetail).toMatch(/stopped during a call/);
    // A call that provably never left changes nothing of the doubt, and its end is recorded.
    await sends.endCall('20240501201', 'instance-b', {
      reached: false,
      code: 'INVALID_REQUEST',
      detail: 'x',
    });
    expect(await sends.beginCall('20240501201', 'instance-b', CLAIM_MS)).toMatchObject({
      inDoubt: true,
      doubtCode: 'INTERRUPTED',
    });
    expect((await row('20240501201')).calls).toBe(3);
  });

  it('records an unanswered call that may have reached Alipay, and not one that never left', async () => {
    await sends.beginCall('20240501202', 'instance-a', CLAIM_MS);
    await sends.endCall('20240501202', 'instance-a', {
      reached: false,
      code: 'UNREACHABLE',
      detail: 'refused',
    });
    expect((await row('20240501202')).in_doubt).toBe(false);
    await sends.beginCall('20240501202', 'instance-a', CLAIM_MS);
    await sends.endCall('20240501202', 'instance-a', { reached: true, code: 'TIMEOUT', detail: 'no reply' });
    expect(await row('20240501202')).toMatchObject({ in_doubt: true, doubt_code: 'TIMEOUT' });
    // A later decisive answer's end keeps the doubt on record (it was read with the claim).
    await sends.beginCall('20240501202', 'instance-a', CLAIM_MS);
    await sends.endCall('20240501202', 'instance-a');
    expect(await row('20240501202')).toMatchObject({ in_doubt: true, doubt_code: 'TIMEOUT' });
  });

  it('gives each waiting batch to one of two instances claiming at once, keeps the backoff across restarts', async () => {
    const now = new Date('2024-05-01T03:00:00.000Z');
    const batchNos = Array.from({ length: 40 }, (_, i) => `2024050130${String(i).padStart(3, '0')}`);
    for (const [i, batchNo] of batchNos.entries()) {
      await waiting(batchNo, new Date(now.getTime() - 600_000 + i));
    }
    // Not due: too young, a pwd batch, an answered batch.
    await waiting('20240501399', now);
    await waiting('20240501398', new Date(now.getTime() - 600_000), 'submitted', 'pwd');
    await waiting('20240501397', new Date(now.getTime() - 600_000), 'accepted');

    const [a, b] = await Promise.all([
      sends.claimDue(now, 120_000, 100, 'instance-a', CLAIM_MS),
      sends.claimDue(now, 120_000, 100, 'instance-b', CLAIM_MS),
    ]);
    const claimed = [...a, ...b].map((claim) => claim.batchNo);
    expect(claimed.filter((batchNo) => batchNos.includes(batchNo)).sort()).toEqual(batchNos);
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed).not.toEqual(expect.arrayContaining(['20240501399', '20240501398', '20240501397']));
    // Claimed batches are not claimed again while the claims run.
    expect(await sends.claimDue(now, 120_000, 100, 'instance-c', CLAIM_MS)).toEqual([]);

    // instance-a resends its first batch without an answer: due again only after its backoff.
    const [first] = a.length > 0 ? a : b;
    const holder = a.length > 0 ? 'instance-a' : 'instance-b';
    await sends.release(first.batchNo, holder, 300_000);
    for (const claim of [...a, ...b]) {
      if (claim.batchNo !== first.batchNo) {
        await sends.release(claim.batchNo, a.includes(claim) ? 'instance-a' : 'instance-b');
      }
    }
    // A new instance (a restart) reads the same backoff from the table.
    const restarted = new RefundBatchSends(db.dataSource);
    const soon = await restarted.claimDue(now, 120_000, 100, 'instance-d', CLAIM_MS);
    expect(soon.map((claim) => claim.batchNo)).not.toContain(first.batchNo);
    await Promise.all(soon.map((claim) => restarted.release(claim.batchNo, 'instance-d')));
    const later = await restarted.claimDue(
      new Date(Date.now() + 301_000),
      120_000,
      100,
      'instance-d',
      CLAIM_MS,
    );
    expect(later.find((claim) => claim.batchNo === first.batchNo)).toMatchObject({ failures: 1 });
  });

  it('skips a batch whose resend was refused while in doubt', async () => {
    const at = new Date('2024-05-01T04:00:00.000Z');
    await waiting('20240501401', new Date(at.getTime() - 600_000), 'outcome_unknown');
    await waiting('20240501402', new Date(at.getTime() - 600_000), 'outcome_unknown');
    // What the consumer does on `RefundBatchResendRejected`.
    await db.dataSource.query(
      `UPDATE refund_batch_work SET awaiting_answer = false WHERE batch_no = '20240501402'`,
    );
    const claimed = (await sends.claimDue(at, 120_000, 100, 'instance-e', CLAIM_MS)).map((c) => c.batchNo);
    expect(claimed).toContain('20240501401');
    expect(claimed).not.toContain('20240501402');
  });
});
