import { formatYuan } from '@ledger/alipay-protocol';
import { RequestRefundBatchCommand } from '@ledger/commands';
import { RefundOverdueCheck, RefundResender } from '@ledger/processes';
import { ProjectionsService } from '@ledger/projections';
import { newTradeNo } from '@ledger/testing';
import {
  ADMIN_TOKEN,
  newOutTradeNo,
  notify,
  startLedger,
  tradeNotification,
  type RunningLedger,
} from './alipay-notify.fixture';
import { paidOrder, postRefunds, PUBLIC_BASE_URL, streamTypes } from './refunds.fixture';

jest.setTimeout(180_000);

const NOPWD = 'refund_fastpay_by_platform_nopwd';
const HOUR = 3_600_000;

/** The fields of the admin answers these tests read. */
interface AdminBody {
  message?: string;
  state?: string;
  delivery: { state: string };
  anomalies: unknown[];
  events: HistoryEntry[];
  items: { batchNo: string }[];
}

interface HistoryEntry {
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

describe('operator resolutions', () => {
  let running: RunningLedger;

  beforeAll(async () => {
    running = await startLedger('resolutions', {
      PUBLIC_BASE_URL,
      REFUND_PWD_BATCH_EXPIRE_AFTER_HOURS: '48',
    });
  });
  afterAll(async () => {
    await running?.close();
  });
  afterEach(() => {
    running.gateway.reset();
  });

  const admin = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const response = await fetch(`${running.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as AdminBody };
  };
  const history = async (outTradeNo: string): Promise<HistoryEntry[]> =>
    (await admin('GET', `/admin/orders/${outTradeNo}/history`)).body.events;
  const submit = (mode: 'pwd' | 'nopwd', outTradeNo: string, amount: number) =>
    postRefunds(running, {
      mode,
      items: [{ outTradeNo, amount: formatYuan(amount), reason: 'resolution test' }],
    });
  /**
   * A GET of `path` once `ready` holds: an endpoint answers after waiting up to 2 s for the projections,
   * which a loaded machine can exceed; the streams themselves are asserted directly.
   */
  const viewOnce = async (path: string, ready: (body: AdminBody) => boolean) => {
    let view = await admin('GET', path);
    for (let tries = 0; tries < 100 && !ready(view.body); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      view = await admin('GET', path);
    }
    return view.body;
  };
  const batchStream = (batchNo: string) => streamTypes(running, `refund-batch-${batchNo}`);

  /** A paid order, then a notice naming another trade: a trade_no_mismatch that blocks its delivery. */
  const anomalousOrder = async (label: string): Promise<string> => {
    const order = newOutTradeNo(label);
    await paidOrder(running, order, 1_000);
    const other = tradeNotification({
      outTradeNo: order,
      tradeNo: newTradeNo(),
      tradeStatus: 'TRADE_SUCCESS',
      totalFee: '10.00',
    });
    expect((await notify(running, other)).text).toBe('success');
    const view = await admin('GET', `/admin/orders/${order}`);
    expect(view.body.delivery.state).toBe('blocked');
    return order;
  };

  describe('anomalies', () => {
    it('accept: the order proceeds, and the resolution is in its history with who and why', async () => {
      const order = await anomalousOrder('RES-ACCEPT');
      const resolved = await admin('POST', `/admin/orders/${order}/anomalies/resolve`, {
        decision: 'accept',
        operator: 'ops-alice',
        reason: 'the second trade is a duplicate payment Alipay refunded by itself',
      });
      expect(resolved.status).toBe(200);
      const view = await viewOnce(`/admin/orders/${order}`, (b) => b.delivery.state !== 'blocked');
      expect(view.delivery.state).toBe('pending');
      expect(view.anomalies).toEqual([
        expect.objectContaining({ kind: 'trade_no_mismatch', resolution: 'accepted' }),
      ]);
      const events = await history(order);
      expect(events.at(-1)).toMatchObject({
        type: 'AnomalyResolved',
        data: {
          decision: 'accept',
          operator: 'ops-alice',
          reason: 'the second trade is a duplicate payment Alipay refunded by itself',
          kinds: ['trade_no_mismatch'],
        },
        metadata: { causationId: expect.stringMatching(/^admin:/), recordedAt: expect.any(String) },
      });
      // Nothing left to resolve.
      const again = await admin('POST', `/admin/orders/${order}/anomalies/resolve`, {
        decision: 'accept',
        operator: 'ops-alice',
        reason: 'again',
      });
      expect(again.status).toBe(409);
      expect(again.body.message).toMatch(/already resolved/);
    });

    it('confirm: the order stays blocked, on record', async () => {
      const order = await anomalousOrder('RES-CONFIRM');
      const resolved = await admin('POST', `/admin/orders/${order}/anomalies/resolve`, {
        decision: 'confirm',
        operator: 'ops-bob',
        reason: 'a payment on another trade: do not ship',
      });
      expect(resolved.status).toBe(200);
      expect(resolved.body.delivery.state).toBe('blocked');
      expect((await history(order)).at(-1)).toMatchObject({
        type: 'AnomalyResolved',
        data: { decision: 'confirm', operator: 'ops-bob', reason: 'a payment on another trade: do not ship' },
      });
    });

    it('refuses a resolution without who or why, or with an unknown decision, naming the field', async () => {
      const order = await anomalousOrder('RES-BAD');
      for (const [body, field] of [
        [{ decision: 'accept', operator: 'ops' }, 'reason'],
        [{ decision: 'accept', operator: 'ops', reason: '   ' }, 'reason'],
        [{ decision: 'accept', reason: 'why' }, 'operator'],
        [{ decision: 'accept', operator: ' ops', reason: 'why' }, 'operator'],
        [{ decision: 'maybe', operator: 'ops', reason: 'why' }, 'decision'],
      ] as const) {
        const response = await admin('POST', `/admin/orders/${order}/anomalies/resolve`, body);
        expect(response.status).toBe(400);
        expect(response.body.message).toMatch(new RegExp(`^${field}`));
      }
      expect(
        (
          await admin('POST', '/admin/orders/NEVER-PLACED-X/anomalies/resolve', {
            decision: 'accept',
            operator: 'ops',
            reason: 'why',
          })
        ).status,
      ).toBe(404);
      expect((await history(order)).map((e) => e.type)).not.toContain('AnomalyResolved');
    });
  });

  describe('pwd batches never confirmed', () => {
    it('cancel: the batch is cancelled, each reservation released with who and why, the amount refundable again', async () => {
      const order = newOutTradeNo('RES-PWD-CANCEL');
      await paidOrder(running, order, 1_000);
      const { body: batch } = await submit('pwd', order, 1_000);
      expect((await submit('pwd', order, 1_000)).status).toBe(409);

      const cancelled = await admin('POST', `/admin/refund-batches/${batch.batchNo as string}/cancel`, {
        operator: 'ops-carol',
        reason: 'the customer withdrew the request',
      });
      expect(cancelled.status).toBe(200);
      const cancelledView = await viewOnce(
        `/admin/refund-batches/${batch.batchNo as string}`,
        (b) => b.state === 'cancelled',
      );
      expect(cancelledView).toMatchObject({
        state: 'cancelled',
        resolution: {
          action: 'cancelled',
          operator: 'ops-carol',
          reason: 'the customer withdrew the request',
        },
      });
      expect(await batchStream(batch.batchNo as string)).toEqual([
        'RefundBatchSubmitted',
        'RefundBatchCancelled',
      ]);
      expect((await history(order)).at(-1)).toMatchObject({
        type: 'RefundFailed',
        data: {
          batchNo: batch.batchNo,
          code: 'CANCELLED',
          operator: 'ops-carol',
          reason: 'the customer withdrew the request',
        },
      });
      // The same cancellation again adds nothing; the whole amount is refundable again.
      const again = await admin('POST', `/admin/refund-batches/${batch.batchNo as string}/cancel`, {
        operator: 'ops-carol',
        reason: 'again',
      });
      expect(again.status).toBe(200);
      expect(await batchStream(batch.batchNo as string)).toHaveLength(2);
      expect((await submit('pwd', order, 1_000)).status).toBe(201);
    });

    it('refuses to cancel a nopwd batch', async () => {
      const order = newOutTradeNo('RES-NOPWD-CANCEL');
      await paidOrder(running, order, 1_000);
      running.gateway.scriptNext(NOPWD, 'T');
      const { body: batch } = await submit('nopwd', order, 500);
      const refused = await admin('POST', `/admin/refund-batches/${batch.batchNo as string}/cancel`, {
        operator: 'ops',
        reason: 'why',
      });
      expect(refused.status).toBe(409);
      expect(refused.body.message).toMatch(/nopwd/);
    });

    it('expires after REFUND_PWD_BATCH_EXPIRE_AFTER_HOURS, releasing its reservation', async () => {
      const order = newOutTradeNo('RES-PWD-EXPIRE');
      await paidOrder(running, order, 1_000);
      const { body: batch } = await submit('pwd', order, 1_000);
      const check = running.ledger.app.get(RefundOverdueCheck);
      expect(await check.expireOnce(new Date(Date.now() + 47 * HOUR))).not.toContain(batch.batchNo);
      expect(await check.expireOnce(new Date(Date.now() + 49 * HOUR))).toContain(batch.batchNo);
      expect(await check.expireOnce(new Date(Date.now() + 50 * HOUR))).not.toContain(batch.batchNo);

      expect(await batchStream(batch.batchNo as string)).toEqual([
        'RefundBatchSubmitted',
        'RefundBatchExpired',
      ]);
      expect((await history(order)).at(-1)).toMatchObject({
        type: 'RefundFailed',
        data: { code: 'EXPIRED', operator: 'ledger', reason: expect.stringContaining('within 48 hours') },
      });
      const view = await viewOnce(
        `/admin/refund-batches/${batch.batchNo as string}`,
        (b) => b.state === 'expired',
      );
      expect(view).toMatchObject({
        state: 'expired',
        resolution: { action: 'expired', operator: 'ledger' },
      });
      expect((await submit('pwd', order, 1_000)).status).toBe(201);
    });
  });

  describe('a nopwd batch whose outcome is unknown', () => {
    it('a rejected resend after a timed-out call releases nothing; the operator marks it accepted', async () => {
      const order = newOutTradeNo('RES-TIMEOUT-F');
      await paidOrder(running, order, 1_000);
      // The first call reaches Alipay and is accepted, but its answer comes after the ledger gave up (10 s);
      // the resend is refused for its date.
      running.gateway.scriptNext(NOPWD, { delayMs: 10_500, then: 'T' }, { error: 'BATCH_NO_DATE_ERROR' });
      const { status, body: batch } = await submit('nopwd', order, 1_000);
      expect(status).toBe(202);
      expect(batch.state).toBe('outcome_unknown');
      const batchNo = batch.batchNo as string;
      expect(await batchStream(batchNo)).toEqual([
        'RefundBatchSubmitted',
        'RefundBatchOutcomeUnknown',
        'RefundBatchResendRejected',
      ]);
      // Held: nothing released on the order, nothing refundable, and the resender does not send it again.
      expect((await history(order)).map((e) => e.type)).not.toContain('RefundFailed');
      expect((await submit('nopwd', order, 100)).status).toBe(409);
      expect(await running.ledger.app.get(RefundResender).runOnce(Date.now() + 600_000)).toBe(0);
      const view = await viewOnce(
        `/admin/refund-batches/${batchNo}`,
        (b) => (b as { unanswered?: { resendRejection?: unknown } }).unanswered?.resendRejection != null,
      );
      expect(view).toMatchObject({
        state: 'outcome_unknown',
        unanswered: { code: 'UNANSWERED_CALL', resendRejection: { code: 'BATCH_NO_DATE_ERROR' } },
      });
      const listed = await admin('GET', '/admin/refund-batches?state=outcome_unknown&limit=100');
      expect(listed.body.items.map((b) => b.batchNo)).toContain(batchNo);

      const marked = await admin('POST', `/admin/refund-batches/${batchNo}/outcome`, {
        accepted: true,
        operator: 'ops-dan',
        reason: 'the console lists the batch as accepted on 2 May',
      });
      expect(marked.status).toBe(200);
      const markedView = await viewOnce(`/admin/refund-batches/${batchNo}`, (b) => b.state === 'accepted');
      expect(markedView).toMatchObject({
        state: 'accepted',
        resolution: { action: 'marked_accepted', operator: 'ops-dan' },
      });
      expect((await history(order)).map((e) => e.type)).not.toContain('RefundFailed');
      // Settled: a second, different mark is refused.
      const contradicting = await admin('POST', `/admin/refund-batches/${batchNo}/outcome`, {
        accepted: false,
        operator: 'ops-dan',
        reason: 'changed my mind',
      });
      expect(contradicting.status).toBe(409);
    });

    it('after dropped connections, a refused resend releases nothing until the operator marks it not accepted', async () => {
      const order = newOutTradeNo('RES-DOWN-F');
      await paidOrder(running, order, 1_000);
      running.gateway.scriptNext(NOPWD, 'down', 'down', 'down');
      const { status, body: batch } = await submit('nopwd', order, 600);
      expect(status).toBe(202);
      expect(batch.state).toBe('outcome_unknown');
      const batchNo = batch.batchNo as string;

      running.gateway.scriptNext(NOPWD, { error: 'TRADE_STATUS_ERROR' });
      expect(await running.ledger.app.get(RefundResender).runOnce(Date.now() + 600_000)).toBe(1);
      expect(await batchStream(batchNo)).toEqual([
        'RefundBatchSubmitted',
        'RefundBatchOutcomeUnknown',
        'RefundBatchResendRejected',
      ]);
      expect((await history(order)).map((e) => e.type)).not.toContain('RefundFailed');
      expect((await submit('nopwd', order, 500)).status).toBe(409);

      const marked = await admin('POST', `/admin/refund-batches/${batchNo}/outcome`, {
        accepted: false,
        operator: 'ops-erin',
        reason: 'no such batch in the console on 2 May',
      });
      expect(marked.status).toBe(200);
      const markedView = await viewOnce(`/admin/refund-batches/${batchNo}`, (b) => b.state === 'rejected');
      expect(markedView).toMatchObject({
        state: 'rejected',
        error: 'NOT_ACCEPTED',
        resolution: {
          action: 'marked_not_accepted',
          operator: 'ops-erin',
          reason: 'no such batch in the console on 2 May',
        },
      });
      expect((await history(order)).at(-1)).toMatchObject({
        type: 'RefundFailed',
        data: {
          batchNo,
          code: 'NOT_ACCEPTED',
          operator: 'ops-erin',
          reason: 'no such batch in the console on 2 May',
        },
      });
      running.gateway.scriptNext(NOPWD, 'T');
      expect((await submit('nopwd', order, 500)).status).toBe(201);
    });

    it('a crash during a call counts as unanswered: a later refusal releases nothing', async () => {
      const order = newOutTradeNo('RES-CRASH-F');
      await paidOrder(running, order, 1_000);
      const { batch, decision } = await running.commands.execute(
        new RequestRefundBatchCommand({
          mode: 'nopwd',
          items: [{ outTradeNo: order, amount: 700, reason: 'crash' }],
        }),
      );
      await running.ledger.app
        .get(ProjectionsService)
        .waitForProjections({ transactionId: decision!.transactionId, position: decision!.position }, 5_000);
      // What an instance killed during its call leaves: the call written down, its end never, its claim lapsed.
      await running.database.dataSource.query(
        `INSERT INTO refund_batch_sends (batch_no, calls, call_started_at, claimed_by, claimed_until)
         VALUES ($1, 1, now() - interval '5 minutes', 'dead-instance', now() - interval '1 minute')`,
        [batch.batchNo],
      );
      running.gateway.scriptNext(NOPWD, { error: 'BATCH_NO_DATE_ERROR' });
      expect(
        await running.ledger.app.get(RefundResender).runOnce(Date.now() + 600_000),
      ).toBeGreaterThanOrEqual(1);
      expect(await batchStream(batch.batchNo)).toEqual([
        'RefundBatchSubmitted',
        'RefundBatchOutcomeUnknown',
        'RefundBatchResendRejected',
      ]);
      expect((await history(order)).map((e) => e.type)).not.toContain('RefundFailed');
    });

    it('refuses to mark a batch whose outcome is known', async () => {
      const order = newOutTradeNo('RES-MARK-KNOWN');
      await paidOrder(running, order, 1_000);
      running.gateway.scriptNext(NOPWD, 'T');
      const { body: batch } = await submit('nopwd', order, 300);
      const refused = await admin('POST', `/admin/refund-batches/${batch.batchNo as string}/outcome`, {
        accepted: false,
        operator: 'ops',
        reason: 'why',
      });
      expect(refused.status).toBe(409);
      expect(refused.body.message).toMatch(/accepted: only a nopwd batch whose outcome is unknown/);
    });
  });
});
