import { DomainError, type PlaceOrder, type RecordTradeStatus } from '@ledger/domain';
import { EventStore } from '@ledger/event-store';
import { DEMO_ALIPAY } from '@ledger/platform';
import { createTestDatabase, startCommandPath, type CommandPath, type TestDatabase } from '@ledger/testing';
import type { CommandBus } from '@nestjs/cqrs';
import type { StreamReads } from '../stream/stream-reads';
import {
  CompleteDeliveryCommand,
  PlaceOrderCommand,
  RecordTradeStatusCommand,
} from './order-stream-commands';

function placeOrder(outTradeNo: string, overrides: Partial<PlaceOrder> = {}): PlaceOrder {
  return {
    type: 'PlaceOrder',
    outTradeNo,
    subject: 'A teapot',
    totalFee: 1234,
    service: 'create_direct_pay_by_user',
    sellerId: DEMO_ALIPAY.partner,
    requestParameters: { out_trade_no: outTradeNo, total_fee: '12.34' },
    placedAt: '2024-05-01T02:00:00.000Z',
    ...overrides,
  };
}

function paid(outTradeNo: string): RecordTradeStatus {
  return {
    type: 'RecordTradeStatus',
    outTradeNo,
    tradeNo: '2024050122001400000000000001',
    tradeStatus: 'TRADE_SUCCESS',
    totalFee: 1234,
    sellerId: DEMO_ALIPAY.partner,
    buyer: { id: '2088102122524333' },
    times: { gmtPayment: '2024-05-01T02:01:00.000Z' },
    notifyId: `notify-${outTradeNo}`,
    notifyTime: '2024-05-01T02:01:00.000Z',
    source: 'notify',
  };
}

describe('the order stream commands on the bus', () => {
  let database: TestDatabase;
  let store: EventStore;
  let bus: CommandBus;
  let reads: StreamReads;
  let path: CommandPath;

  beforeAll(async () => {
    database = await createTestDatabase('order_commands');
    path = await startCommandPath(database);
    ({ store, bus, reads } = path);
  });

  afterAll(async () => {
    await path?.close();
    await database?.close();
  });

  it('places an order once, with where it landed and who asked', async () => {
    const first = await bus.execute(new PlaceOrderCommand(placeOrder('OC-1'), { causationId: 'api:req-1' }));
    if (first.kind !== 'appended') throw new Error(`expected an append, got ${first.kind}`);
    expect(first).toMatchObject({
      streamId: 'order-OC-1',
      version: 1,
      events: [{ type: 'OrderPlaced', version: 1 }],
    });
    expect(first.transactionId).toMatch(/^\d+$/);
    expect(first.position).toBe(first.firstPosition);
    expect(first.state.placed?.totalFee).toBe(1234);

    const [stored] = await store.readStream('order-OC-1');
    expect(stored.globalPosition).toBe(first.position);
    expect(stored.metadata).toMatchObject({ causationId: 'api:req-1', correlationId: 'api:req-1' });
  });

  it('appends nothing for the same order again, and refuses another order under the same number', async () => {
    const again = await bus.execute(
      new PlaceOrderCommand(placeOrder('OC-1', { placedAt: '2024-05-02T00:00:00.000Z' })),
    );
    expect(again).toEqual({
      kind: 'no_new_fact',
      streamId: 'order-OC-1',
      version: 1,
      events: [],
      state: again.state,
    });

    const conflict = bus.execute(new PlaceOrderCommand(placeOrder('OC-1', { totalFee: 999 })));
    await expect(conflict).rejects.toBeInstanceOf(DomainError);
    await expect(conflict).rejects.toMatchObject({ code: 'ORDER_CONFLICT' });
    expect(await store.streamVersion('order-OC-1')).toBe(1);
  });

  it('decides again after losing a race: concurrent deliveries record one DeliveryCompleted', async () => {
    await bus.execute(new PlaceOrderCommand(placeOrder('OC-2')));
    await bus.execute(new RecordTradeStatusCommand(paid('OC-2')));
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        bus.execute(
          new CompleteDeliveryCommand({
            type: 'CompleteDelivery',
            outTradeNo: 'OC-2',
            deliveredAt: `2024-05-01T03:00:0${i}.000Z`,
          }),
        ),
      ),
    );
    expect(results.filter((result) => result.events.length > 0)).toHaveLength(1);
    const types = (await store.readStream('order-OC-2')).map((event) => event.type);
    expect(types).toEqual(['OrderPlaced', 'PaymentSucceeded', 'DeliveryCompleted']);
    expect(results.every((result) => result.state.delivered)).toBe(true);
  });

  it("passes the decider's refusal through, appending nothing", async () => {
    await bus.execute(new PlaceOrderCommand(placeOrder('OC-3')));
    await expect(
      bus.execute(
        new CompleteDeliveryCommand({
          type: 'CompleteDelivery',
          outTradeNo: 'OC-3',
          deliveredAt: '2024-05-01T03:00:00.000Z',
        }),
      ),
    ).rejects.toMatchObject({ code: 'DELIVERY_NOT_DUE' });
    expect((await reads.order('OC-3')).version).toBe(1);
  });

  it('loads an order that does not exist as an empty stream, and refuses an impossible number', async () => {
    expect(await reads.order('NEVER-PLACED')).toMatchObject({ version: 0, state: { paid: false } });
    await expect(reads.order('no spaces allowed')).rejects.toMatchObject({ code: 'INVALID_OUT_TRADE_NO' });
  });
});
