import { CommandBus } from '@nestjs/cqrs';
import { Test, type TestingModule } from '@nestjs/testing';
import { AlipayGatewayModule } from '@ledger/alipay-gateway';
import {
  CommandsModule,
  CompleteDeliveryCommand,
  PlaceOrderCommand,
  RecordTradeStatusCommand,
} from '@ledger/commands';
import { LEDGER_EVENT_CATALOGUE, type RecordTradeStatus } from '@ledger/domain';
import { EventSchemas, EventStore, EventStoreModule, Projector } from '@ledger/event-store';
import { DEMO_ALIPAY, LedgerLogger, PlatformModule, loadConfig } from '@ledger/platform';
import { createTestDatabase, newTradeNo, type TestDatabase } from '@ledger/testing';
import { DataSource } from 'typeorm';
import { WebhookQueries } from '../webhooks/webhook-queries';
import { FULFILMENT_OUTBOX, fulfilmentOutbox, webhookIdOf } from './fulfilment-outbox';

// The fulfilment consumer (docs/fulfilment.md, "The consumer"): each webhook and each shipping task is
// enqueued once, with the order's view as of its event, and a consumer started again (another instance,
// a restart) enqueues nothing twice. Its senders are off: only the consumer runs here.

interface MessageRow {
  id: string;
  event_type: string;
  stream_version: number;
  payload: string;
  state: string;
}

describe('the fulfilment consumer', () => {
  let database: TestDatabase;
  let module: TestingModule;
  let bus: CommandBus;
  let store: EventStore;
  let dataSource: DataSource;
  let schemas: EventSchemas;
  let projector: Projector;
  const logger = new LedgerLogger('silent');

  beforeAll(async () => {
    database = await createTestDatabase('fulfilment_outbox');
    const config = loadConfig(
      { LEDGER_MODE: 'demo', ADMIN_TOKEN: 'fulfilment-outbox-admin-token-0001', FULFILMENT_WORKER: 'false' },
      { envFile: false },
    );
    module = await Test.createTestingModule({
      imports: [
        PlatformModule.forRoot({ config, database, logger }),
        EventStoreModule.forRoot({ catalogue: LEDGER_EVENT_CATALOGUE }),
        CommandsModule,
        AlipayGatewayModule,
      ],
    })
      .setLogger(logger)
      .compile();
    await module.init();
    bus = module.get(CommandBus);
    store = module.get(EventStore);
    dataSource = database.dataSource;
    schemas = module.get(EventSchemas);
    projector = new Projector(dataSource, [fulfilmentOutbox(store)], { schemas });
    await projector.start();
  });

  afterAll(async () => {
    await projector?.stop();
    await module?.close();
    await database?.close();
  });

  let serial = 0;
  const notice = (
    outTradeNo: string,
    tradeNo: string,
    tradeStatus: RecordTradeStatus['tradeStatus'],
    totalFee = 2599,
  ) =>
    new RecordTradeStatusCommand({
      type: 'RecordTradeStatus',
      outTradeNo,
      tradeNo,
      tradeStatus,
      totalFee,
      sellerId: DEMO_ALIPAY.partner,
      buyer: { id: '2088102122524333' },
      times: { gmtPayment: new Date().toISOString() },
      notifyId: `${outTradeNo}-${tradeStatus}`,
      notifyTime: new Date().toISOString(),
      source: 'notify',
    });

  async function placed(service: 'create_direct_pay_by_user' | 'trade_create_by_buyer'): Promise<string> {
    const outTradeNo = `OUTBOX-${process.pid}-${++serial}`;
    await bus.execute(
      new PlaceOrderCommand({
        type: 'PlaceOrder',
        outTradeNo,
        subject: 'A teapot',
        totalFee: 2599,
        service,
        sellerId: DEMO_ALIPAY.partner,
        requestParameters: { out_trade_no: outTradeNo, service },
        placedAt: new Date().toISOString(),
      }),
    );
    return outTradeNo;
  }

  /** Waits for the consumer to pass the store's last event. */
  async function consumed(): Promise<void> {
    const [last] = (await store.readAll(0, 100_000)).slice(-1);
    await projector.waitFor(
      FULFILMENT_OUTBOX,
      { transactionId: last.transactionId, position: last.globalPosition },
      10_000,
    );
  }

  const messagesOf = (outTradeNo: string) =>
    dataSource.query<MessageRow[]>(
      `SELECT id, event_type, stream_version, payload, state FROM webhook_messages WHERE subject = $1
       ORDER BY stream_version, event_type`,
      [outTradeNo],
    );

  it('enqueues each webhook once, with the view as of its event, and the shipping of an escrow delivery', async () => {
    const outTradeNo = await placed('trade_create_by_buyer');
    const tradeNo = newTradeNo();
    await bus.execute(notice(outTradeNo, tradeNo, 'WAIT_BUYER_PAY'));
    await bus.execute(notice(outTradeNo, tradeNo, 'WAIT_SELLER_SEND_GOODS'));
    await bus.execute(
      new CompleteDeliveryCommand({
        type: 'CompleteDelivery',
        outTradeNo,
        deliveredAt: new Date().toISOString(),
      }),
    );
    await consumed();

    const messages = await messagesOf(outTradeNo);
    expect(messages.map((m) => [m.stream_version, m.event_type])).toEqual([
      [3, 'order.delivery_requested'],
      [3, 'order.paid'],
      [4, 'order.delivered'],
    ]);
    for (const message of messages) {
      expect(message.id).toBe(webhookIdOf(`order-${outTradeNo}`, message.stream_version, message.event_type));
      expect(message.state).toBe('pending');
    }
    const requested = JSON.parse(messages[0].payload) as { type: string; data: Record<string, unknown> };
    // The view as of the payment, not as of the later delivery.
    expect(requested).toMatchObject({
      type: 'order.delivery_requested',
      data: {
        outTradeNo,
        tradeNo,
        paymentType: 'escrow',
        paidFee: '25.99',
        delivery: { state: 'pending' },
        version: 3,
      },
    });
    expect(JSON.parse(messages[2].payload)).toMatchObject({
      data: { delivery: { state: 'delivered' }, version: 4 },
    });
    const tasks = await dataSource.query<{ out_trade_no: string }[]>(
      `SELECT out_trade_no FROM shipping_tasks WHERE out_trade_no = $1`,
      [outTradeNo],
    );
    expect(tasks).toHaveLength(1);
  });

  it('asks no delivery of an anomalous order, and says what the anomaly is', async () => {
    const outTradeNo = await placed('create_direct_pay_by_user');
    await bus.execute(notice(outTradeNo, newTradeNo(), 'TRADE_SUCCESS', 1));
    await consumed();
    const messages = await messagesOf(outTradeNo);
    expect(messages.map((m) => m.event_type)).toEqual(['order.anomaly_detected']);
    expect(JSON.parse(messages[0].payload)).toMatchObject({
      data: { delivery: { state: 'blocked' }, details: { kind: expect.any(String) } },
    });
  });

  it('enqueues nothing twice when another consumer takes over from the checkpoint', async () => {
    const outTradeNo = await placed('create_direct_pay_by_user');
    await bus.execute(notice(outTradeNo, newTradeNo(), 'TRADE_SUCCESS'));
    await consumed();
    const before = await dataSource.query<{ count: string }[]>(
      `SELECT count(*) AS count FROM webhook_messages`,
    );
    await projector.stop();
    projector = new Projector(dataSource, [fulfilmentOutbox(store)], { schemas });
    await projector.start();
    const later = await placed('create_direct_pay_by_user');
    await bus.execute(notice(later, newTradeNo(), 'TRADE_SUCCESS'));
    await consumed();
    const after = await dataSource.query<{ count: string }[]>(
      `SELECT count(*) AS count FROM webhook_messages`,
    );
    // The later order's order.paid and order.delivery_requested, nothing else.
    expect(Number(after[0].count) - Number(before[0].count)).toBe(2);
    expect((await messagesOf(outTradeNo)).map((m) => m.event_type).sort()).toEqual([
      'order.delivery_requested',
      'order.paid',
    ]);
  });

  it('counts the webhooks not settled yet, and the dead ones, by state', async () => {
    const webhooks = new WebhookQueries(dataSource);
    const before = await webhooks.unsettledCounts();
    const outTradeNo = await placed('create_direct_pay_by_user');
    await bus.execute(notice(outTradeNo, newTradeNo(), 'TRADE_SUCCESS'));
    await consumed();
    expect(await webhooks.unsettledCounts()).toEqual({ ...before, pending: before.pending + 2 });

    const [paid, delivery] = await messagesOf(outTradeNo).then((rows) =>
      ['order.paid', 'order.delivery_requested'].map((type) => rows.find((row) => row.event_type === type)!),
    );
    await dataSource.query(`UPDATE webhook_messages SET state = 'succeeded' WHERE id = $1`, [paid.id]);
    await dataSource.query(`UPDATE webhook_messages SET state = 'dead' WHERE id = $1`, [delivery.id]);
    expect(await webhooks.unsettledCounts()).toEqual({ ...before, dead: before.dead + 1 });
  });
});
