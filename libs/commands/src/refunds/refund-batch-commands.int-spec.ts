import { DomainError, type RecordTradeStatus, type SubmitRefundBatch } from '@ledger/domain';
import { EventStore } from '@ledger/event-store';
import { DEMO_ALIPAY } from '@ledger/platform';
import { createTestDatabase, startCommandPath, type CommandPath, type TestDatabase } from '@ledger/testing';
import type { CommandBus } from '@nestjs/cqrs';
import { PlaceOrderCommand, RecordTradeStatusCommand } from '../orders/order-stream-commands';
import type { CommandContext } from '../stream/command-step';
import type { StreamReads } from '../stream/stream-reads';
import {
  AnswerRefundBatchCommand,
  CompleteRefundBatchCommand,
  SubmitRefundBatchCommand,
} from './refund-batch-commands';

const SUBMITTED_AT = '2024-05-01T02:00:00.000Z'; // 10:00 in Beijing, so batch numbers start 20240501
let serial = 100;
const nextBatchNo = () => `20240501${++serial}`;

function paid(outTradeNo: string, tradeNo: string): RecordTradeStatus {
  return {
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
  };
}

function submit(batchNo: string, items: SubmitRefundBatch['items']): SubmitRefundBatch {
  return { type: 'SubmitRefundBatch', batchNo, mode: 'nopwd', items, submittedAt: SUBMITTED_AT };
}

describe('the refund batch stream commands on the bus', () => {
  let database: TestDatabase;
  let store: EventStore;
  let bus: CommandBus;
  let reads: StreamReads;
  let path: CommandPath;
  const types = async (streamId: string) => (await store.readStream(streamId)).map((event) => event.type);
  const submitBatch = (command: SubmitRefundBatch, context?: CommandContext) =>
    bus.execute(new SubmitRefundBatchCommand(command, context));

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
    await bus.execute(new RecordTradeStatusCommand(paid(outTradeNo, tradeNo)));
  }

  beforeAll(async () => {
    database = await createTestDatabase('refund_batch_writer');
    path = await startCommandPath(database);
    ({ store, bus, reads } = path);
    await paidOrder('RB-A', '2024050122000000000000000001');
    await paidOrder('RB-B', '2024050122000000000000000002');
    await paidOrder('RB-RACE', '2024050122000000000000000003');
  });

  afterAll(async () => {
    await path?.close();
    await database?.close();
  });

  it('submits a batch with its reservations in one transaction, once', async () => {
    const batchNo = nextBatchNo();
    const command = submit(batchNo, [
      { outTradeNo: 'RB-B', tradeNo: '2024050122000000000000000002', amount: 200, reason: 'broken' },
      { outTradeNo: 'RB-A', tradeNo: '2024050122000000000000000001', amount: 300, reason: 'late' },
    ]);
    const decision = await submitBatch(command, { causationId: 'api:req-1' });
    if (decision.kind !== 'appended') throw new Error(`expected an append, got ${decision.kind}`);

    expect(decision.events.map((event) => event.type)).toEqual(['RefundBatchSubmitted']);
    expect(decision.orders.map((order) => order.streamId)).toEqual(['order-RB-A', 'order-RB-B']);
    const events = [
      ...(await store.readStream(`refund-batch-${batchNo}`)),
      ...(await store.readStream('order-RB-A')),
      ...(await store.readStream('order-RB-B')),
    ].filter((event) => event.type !== 'OrderPlaced' && event.type !== 'PaymentSucceeded');
    expect(new Set(events.map((event) => event.transactionId))).toEqual(new Set([decision.transactionId]));
    expect(Math.max(...events.map((event) => event.globalPosition))).toBe(decision.position);
    expect(Math.min(...events.map((event) => event.globalPosition))).toBe(decision.firstPosition);
    expect(events.every((event) => event.metadata.causationId === 'api:req-1')).toBe(true);
    expect((await reads.order('RB-A')).state.batchRefunds).toMatchObject([{ batchNo, status: 'reserved' }]);

    const again = await submitBatch(command);
    expect(again.events).toEqual([]);
    expect(await types('order-RB-A')).toEqual(['OrderPlaced', 'PaymentSucceeded', 'RefundRequested']);
  });

  it('writes nothing at all when one record is refused', async () => {
    const batchNo = nextBatchNo();
    const refused = submitBatch(
      submit(batchNo, [
        { outTradeNo: 'RB-A', tradeNo: '2024050122000000000000000001', amount: 100, reason: 'ok' },
        { outTradeNo: 'RB-B', tradeNo: '2024050122000000000000000002', amount: 900, reason: 'too much' },
      ]),
    );
    await expect(refused).rejects.toBeInstanceOf(DomainError);
    await expect(refused).rejects.toMatchObject({ code: 'REFUND_EXCEEDS_REFUNDABLE' });
    expect(await store.streamVersion(`refund-batch-${batchNo}`)).toBe(0);
    expect(await types('order-RB-A')).toEqual(['OrderPlaced', 'PaymentSucceeded', 'RefundRequested']);
  });

  it('releases every reservation when the gateway rejects the batch', async () => {
    const batchNo = nextBatchNo();
    await submitBatch(
      submit(batchNo, [
        { outTradeNo: 'RB-B', tradeNo: '2024050122000000000000000002', amount: 700, reason: 'x' },
      ]),
    );
    const rejected = await bus.execute(
      new AnswerRefundBatchCommand({
        type: 'RejectRefundBatch',
        batchNo,
        code: 'BATCH_NUM_NOT_EQUAL_TOTAL',
        rejectedAt: SUBMITTED_AT,
      }),
    );
    expect(rejected.events.map((event) => event.type)).toEqual(['RefundBatchRejected']);
    expect(rejected.orders.flatMap((order) => order.events.map((event) => event.type))).toEqual([
      'RefundFailed',
    ]);
    // 1000 paid, 200 still reserved by the first batch: 800 refundable again.
    const retry = await submitBatch(
      submit(nextBatchNo(), [
        { outTradeNo: 'RB-B', tradeNo: '2024050122000000000000000002', amount: 800, reason: 'x' },
      ]),
    );
    expect(retry.events).toHaveLength(1);
  });

  it('records each result on its order when the batch completes', async () => {
    const batchNo = nextBatchNo();
    await paidOrder('RB-C', '2024050122000000000000000004');
    await paidOrder('RB-D', '2024050122000000000000000005');
    await submitBatch(
      submit(batchNo, [
        { outTradeNo: 'RB-C', tradeNo: '2024050122000000000000000004', amount: 1000, reason: 'all' },
        { outTradeNo: 'RB-D', tradeNo: '2024050122000000000000000005', amount: 400, reason: 'part' },
      ]),
    );
    const completion = {
      type: 'CompleteRefundBatch' as const,
      batchNo,
      successNum: 1,
      results: [
        { tradeNo: '2024050122000000000000000004', amount: 1000, code: 'SUCCESS' },
        { tradeNo: '2024050122000000000000000005', amount: 400, code: 'REFUND_AMOUNT_NOT_VALID' },
      ],
      notifyId: 'refund-notify-1',
      notifyTime: '2024-05-01T02:05:00.000Z',
    };
    const completed = await bus.execute(new CompleteRefundBatchCommand(completion));
    expect(completed.events.map((event) => event.type)).toEqual(['RefundBatchCompleted']);
    expect(await types('order-RB-C')).toEqual([
      'OrderPlaced',
      'PaymentSucceeded',
      'RefundRequested',
      'RefundSucceeded',
    ]);
    expect(await types('order-RB-D')).toEqual([
      'OrderPlaced',
      'PaymentSucceeded',
      'RefundRequested',
      'RefundFailed',
    ]);

    expect((await bus.execute(new CompleteRefundBatchCommand(completion))).events).toEqual([]);
    expect(await types('order-RB-C')).toHaveLength(4);
  });

  it('lets one of two batches racing for the last refundable yuan through', async () => {
    const racers = Array.from({ length: 6 }, () =>
      submitBatch(
        submit(nextBatchNo(), [
          { outTradeNo: 'RB-RACE', tradeNo: '2024050122000000000000000003', amount: 600, reason: 'race' },
        ]),
      ),
    );
    const settled = await Promise.allSettled(racers);
    const won = settled.filter((result) => result.status === 'fulfilled');
    const lost = settled.flatMap((result) =>
      result.status === 'rejected' ? [result.reason as unknown] : [],
    );
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(5);
    expect(lost.every((error) => (error as DomainError).code === 'REFUND_EXCEEDS_REFUNDABLE')).toBe(true);
    expect((await types('order-RB-RACE')).filter((type) => type === 'RefundRequested')).toHaveLength(1);
  });
});
