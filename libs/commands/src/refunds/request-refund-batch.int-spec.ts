import { DomainError } from '@ledger/domain';
import { DEMO_ALIPAY } from '@ledger/platform';
import { createTestDatabase, startCommandPath, type CommandPath, type TestDatabase } from '@ledger/testing';
import { QueryBus, type CommandBus } from '@nestjs/cqrs';
import { CommandError } from '../command-error';
import { PlaceOrderCommand, RecordTradeStatusCommand } from '../orders/order-stream-commands';
import type { StreamReads } from '../stream/stream-reads';
import { PreviewRefundBatchQuery } from './preview-refund-batch';
import { RequestRefundBatchCommand, allocateBatchNo, type RefundRequest } from './request-refund-batch';

// 01:30 on 2 May in Beijing, still 1 May by UTC.
const EARLY_BEIJING = new Date('2024-05-01T17:30:00.000Z');

describe('RequestRefundBatchCommand', () => {
  let database: TestDatabase;
  let bus: CommandBus;
  let reads: StreamReads;
  let path: CommandPath;
  const submit = (refund: RefundRequest, now?: Date) =>
    bus.execute(new RequestRefundBatchCommand(refund, {}, now));

  async function paidOrder(outTradeNo: string, tradeNo: string): Promise<void> {
    await bus.execute(
      new PlaceOrderCommand({
        type: 'PlaceOrder',
        outTradeNo,
        subject: 'A teapot',
        totalFee: 1000,
        service: 'create_direct_pay_by_user',
        sellerId: DEMO_ALIPAY.partner,
        requestParameters: { out_trade_no: outTradeNo, total_fee: '10.00' },
        placedAt: '2024-05-01T00:00:00.000Z',
      }),
    );
    await bus.execute(
      new RecordTradeStatusCommand({
        type: 'RecordTradeStatus',
        outTradeNo,
        tradeNo,
        tradeStatus: 'TRADE_SUCCESS',
        totalFee: 1000,
        sellerId: DEMO_ALIPAY.partner,
        buyer: { id: '2088102122524333' },
        times: { gmtPayment: '2024-05-01T01:00:00.000Z' },
        notifyId: `notify-${outTradeNo}`,
        notifyTime: '2024-05-01T01:00:00.000Z',
        source: 'notify',
      }),
    );
  }

  const request = (outTradeNo: string, amount: number, idempotencyKey?: string): RefundRequest => ({
    mode: 'nopwd',
    items: [{ outTradeNo, amount, reason: 'broken' }],
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
  });

  beforeAll(async () => {
    database = await createTestDatabase('refund_submissions');
    path = await startCommandPath(database);
    ({ bus, reads } = path);
    await paidOrder('RS-A', '2024050122000000000000000001');
    await paidOrder('RS-B', '2024050122000000000000000002');
    await paidOrder('RS-C', '2024050122000000000000000003');
  });

  afterAll(async () => {
    await path?.close();
    await database?.close();
  });

  it('dates batch_no by the Beijing day and never hands out a serial twice', async () => {
    const numbers = await Promise.all(
      Array.from({ length: 20 }, () => allocateBatchNo(database.dataSource, EARLY_BEIJING)),
    );
    expect(new Set(numbers).size).toBe(20);
    for (const batchNo of numbers) expect(batchNo).toMatch(/^20240502[0-9]{8}$/);
  });

  it('records the batch at the instant its batch_no is dated by, with the order trade', async () => {
    const { created, batch } = await submit(request('RS-A', 100), EARLY_BEIJING);
    expect(created).toBe(true);
    expect(batch.batchNo.startsWith('20240502')).toBe(true);
    expect(batch.submitted).toMatchObject({
      submittedAt: EARLY_BEIJING.toISOString(),
      items: [{ outTradeNo: 'RS-A', tradeNo: '2024050122000000000000000001', amount: 100 }],
    });
    expect(await reads.refundBatchView(batch.batchNo)).toEqual(batch);
  });

  it('previews a batch without writing: each record with what its order can still refund, every refusal named', async () => {
    await paidOrder('RS-PREVIEW', '2024050122000000000000000009');
    await submit(request('RS-PREVIEW', 300));
    const before = await database.dataSource.query(`SELECT max(global_position) AS last FROM events`);
    const preview = await path.module.get(QueryBus).execute(
      new PreviewRefundBatchQuery([
        { outTradeNo: 'RS-PREVIEW', amount: 700, reason: '协商退款' },
        { outTradeNo: 'RS-PREVIEW', amount: 1, reason: 'twice' },
        { outTradeNo: 'RS-NOWHERE', amount: 100, reason: 'unknown' },
        { outTradeNo: 'RS-C', amount: 1001, reason: 'too much' },
      ]),
    );
    expect(preview).toMatchObject({
      acceptable: false,
      totalAmount: 1802,
      records: [
        {
          outTradeNo: 'RS-PREVIEW',
          tradeNo: '2024050122000000000000000009',
          subject: 'A teapot',
          paidFee: 1000,
          reservedFee: 300,
          refundableFee: 700,
          refusal: null,
        },
        { refusal: { code: 'INVALID_BATCH', message: expect.stringContaining('row 1') } },
        { refusal: { code: 'ORDER_NOT_FOUND' } },
        { refundableFee: 1000, refusal: { code: 'REFUND_EXCEEDS_REFUNDABLE' } },
      ],
    });
    expect(await database.dataSource.query(`SELECT max(global_position) AS last FROM events`)).toEqual(
      before,
    );
    const fine = await path.module
      .get(QueryBus)
      .execute(new PreviewRefundBatchQuery([{ outTradeNo: 'RS-PREVIEW', amount: 700, reason: 'rest' }]));
    expect(fine.acceptable).toBe(true);
  });

  it('names the record the ledger refuses and writes nothing', async () => {
    const refused = submit({
      mode: 'pwd',
      items: [
        { outTradeNo: 'RS-B', amount: 100, reason: 'ok' },
        { outTradeNo: 'RS-B-NEVER', amount: 100, reason: 'unknown' },
      ],
    });
    await expect(refused).rejects.toBeInstanceOf(DomainError);
    await expect(refused).rejects.toMatchObject({
      code: 'ORDER_NOT_FOUND',
      field: 'items[1].outTradeNo',
      message: 'items[1]: order RS-B-NEVER was never placed',
    });
    expect((await reads.order('RS-B')).state.batchRefunds).toEqual([]);
  });

  describe('with an Idempotency-Key', () => {
    const keyRow = async (key: string) =>
      (
        await database.dataSource.query<{ batch_no: string }[]>(
          `SELECT batch_no FROM refund_submission_keys WHERE idempotency_key = $1`,
          [key],
        )
      ).at(0);

    it('answers the batch the key made, and refuses the key with another request', async () => {
      const first = await submit(request('RS-B', 200, 'k-1'));
      const again = await submit(request('RS-B', 200, 'k-1'));
      expect(again).toEqual({ created: false, batch: first.batch });
      await expect(submit(request('RS-B', 300, 'k-1'))).rejects.toMatchObject({
        code: 'IDEMPOTENCY_KEY_REUSED',
      });
      expect((await reads.order('RS-B')).state.batchRefunds).toHaveLength(1);
    });

    it('frees the key when the ledger refuses the request', async () => {
      await expect(submit(request('RS-C', 5_000, 'k-2'))).rejects.toMatchObject({
        code: 'REFUND_EXCEEDS_REFUNDABLE',
        field: 'items[0].amount',
      });
      expect(await keyRow('k-2')).toBeUndefined();
      expect((await submit(request('RS-C', 100, 'k-2'))).created).toBe(true);
    });

    /**
     * What a crash between binding a key and appending its batch leaves: `key` bound `ageSeconds` ago to a
     * batch never recorded, for the same request as the key `like` (the hash leaves the key out).
     */
    const bindKey = (key: string, like: string, batchNo: string, ageSeconds: number) =>
      database.dataSource.query(
        `INSERT INTO refund_submission_keys (idempotency_key, request_hash, batch_no, created_at)
         SELECT $1, request_hash, $3, now() - make_interval(secs => $4) FROM refund_submission_keys
         WHERE idempotency_key = $2`,
        [key, like, batchNo, ageSeconds],
      );

    it('tells a retry to wait while the first request may still be submitting', async () => {
      await bindKey('k-3', 'k-2', '20240502999998', 0);
      const waiting = submit(request('RS-C', 100, 'k-3'));
      await expect(waiting).rejects.toBeInstanceOf(CommandError);
      await expect(waiting).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_USE' });
    });

    it('takes over a submission that died before its append, under a batch_no dated today', async () => {
      const stale = '20240101999999';
      await bindKey('k-4', 'k-2', stale, 60);
      const taken = await submit(request('RS-C', 100, 'k-4'));
      expect(taken.created).toBe(true);
      expect(taken.batch.batchNo).not.toBe(stale);
      expect(await keyRow('k-4')).toEqual({ batch_no: taken.batch.batchNo });
      expect(await submit(request('RS-C', 100, 'k-4'))).toEqual({
        created: false,
        batch: taken.batch,
      });
    });
  });
});
