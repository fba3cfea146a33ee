import { CommandBus } from '@nestjs/cqrs';
import { Test, type TestingModule } from '@nestjs/testing';
import { AlipayGatewayModule } from '@ledger/alipay-gateway';
import { LEDGER_EVENT_CATALOGUE, type PaymentService, type RecordTradeStatus } from '@ledger/domain';
import { EventStore, EventStoreModule, type RecordedEvent } from '@ledger/event-store';
import { formatBatchNo } from '@ledger/alipay-protocol';
import {
  CommandsModule,
  CompleteDeliveryCommand,
  CompleteRefundBatchCommand,
  PlaceOrderCommand,
  RecordTradeStatusCommand,
  SubmitRefundBatchCommand,
  type OrderDecision,
} from '@ledger/commands';
import { DEMO_ALIPAY, LedgerLogger, PlatformModule, loadConfig } from '@ledger/platform';
import { OrderQueries, ProjectionsModule, ProjectionsService } from '@ledger/projections';
import {
  createTestDatabase,
  newTradeNo,
  startFakeAlipayGateway,
  type FakeAlipayGateway,
  type TestDatabase,
} from '@ledger/testing';
import {
  FulfilmentHook,
  type DeliveryReceipt,
  type FulfilmentOrder,
  type ReturnReceipt,
} from './fulfilment-hook';
import { DEFAULT_FULFILMENT_OPTIONS, FULFILMENT_OPTIONS, type FulfilmentOptions } from './fulfilment-options';
import { FulfilmentModule } from './fulfilment.module';
import { FulfilmentWorker } from './fulfilment-worker';

/** A hook that records its calls and fails while told to. */
class RecordingHook extends FulfilmentHook {
  readonly calls: FulfilmentOrder[] = [];
  failuresLeft = new Map<string, number>();

  deliver(order: FulfilmentOrder): Promise<DeliveryReceipt> {
    this.calls.push(order);
    const left = this.failuresLeft.get(order.outTradeNo) ?? 0;
    if (left > 0) {
      this.failuresLeft.set(order.outTradeNo, left - 1);
      return Promise.reject(new Error('the warehouse is closed'));
    }
    return Promise.resolve({ reference: `WH-${order.outTradeNo}` });
  }

  readonly takenBack: FulfilmentOrder[] = [];
  takeBackFailuresLeft = new Map<string, number>();

  takeBack(order: FulfilmentOrder): Promise<ReturnReceipt> {
    this.takenBack.push(order);
    const left = this.takeBackFailuresLeft.get(order.outTradeNo) ?? 0;
    if (left > 0) {
      this.takeBackFailuresLeft.set(order.outTradeNo, left - 1);
      return Promise.reject(new Error('the courier did not come'));
    }
    return Promise.resolve({ reference: `RMA-${order.outTradeNo}` });
  }

  callsFor(outTradeNo: string): FulfilmentOrder[] {
    return this.calls.filter((call) => call.outTradeNo === outTradeNo);
  }

  takenBackFor(outTradeNo: string): FulfilmentOrder[] {
    return this.takenBack.filter((call) => call.outTradeNo === outTradeNo);
  }
}

// Steps are driven by runOnce; the backoffs are short so that a retry is due at the next step.
const OPTIONS: FulfilmentOptions = {
  ...DEFAULT_FULFILMENT_OPTIONS,
  enabled: false,
  deliveryRetry: { baseMs: 1, maxMs: 1 },
  shippingRetry: { baseMs: 1, maxMs: 1, maxAttempts: 3 },
};

const SELLER = DEMO_ALIPAY.partner;
const TOTAL_FEE = 2599;

describe('FulfilmentWorker', () => {
  let database: TestDatabase;
  let gateway: FakeAlipayGateway;
  let module: TestingModule;
  let hook: RecordingHook;
  let worker: FulfilmentWorker;
  let bus: CommandBus;
  let store: EventStore;
  let projections: ProjectionsService;
  let orderNumber = 0;

  beforeAll(async () => {
    database = await createTestDatabase('fulfilment');
    gateway = await startFakeAlipayGateway();
    const config = loadConfig(
      { LEDGER_MODE: 'demo', ALIPAY_GATEWAY: gateway.url, ADMIN_TOKEN: 'fulfilment-test-admin-token-00001' },
      { envFile: false },
    );
    const logger = new LedgerLogger('silent');
    hook = new RecordingHook();
    module = await Test.createTestingModule({
      imports: [
        PlatformModule.forRoot({ config, database, logger }),
        EventStoreModule.forRoot({ catalogue: LEDGER_EVENT_CATALOGUE }),
        CommandsModule,
        ProjectionsModule,
        AlipayGatewayModule,
        FulfilmentModule,
      ],
    })
      .overrideProvider(FulfilmentHook)
      .useValue(hook)
      .overrideProvider(FULFILMENT_OPTIONS)
      .useValue(OPTIONS)
      .setLogger(logger)
      .compile();
    await module.init();
    worker = module.get(FulfilmentWorker);
    bus = module.get(CommandBus);
    store = module.get(EventStore);
    projections = module.get(ProjectionsService);
  });

  afterAll(async () => {
    await module?.close();
    await gateway?.close();
    await database?.close();
  });

  beforeEach(() => {
    gateway.reset();
  });

  async function settled(result: OrderDecision): Promise<void> {
    if (result.kind === 'appended') {
      await projections.waitForProjections(
        { transactionId: result.transactionId, position: result.position },
        10_000,
      );
    }
  }

  function notice(
    outTradeNo: string,
    tradeNo: string,
    tradeStatus: RecordTradeStatus['tradeStatus'],
    totalFee = TOTAL_FEE,
  ): RecordTradeStatus {
    const at = new Date().toISOString();
    return {
      type: 'RecordTradeStatus',
      outTradeNo,
      tradeNo,
      tradeStatus,
      totalFee,
      sellerId: SELLER,
      buyer: { id: '2088102122524333' },
      times: { gmtPayment: at },
      notifyId: `${outTradeNo}-${tradeStatus}`,
      notifyTime: at,
      source: 'notify',
    };
  }

  /** A placed order paid instantly, or into escrow; its projection is up to date. */
  async function paidOrder(
    kind: 'instant' | 'escrow',
    paidFee = TOTAL_FEE,
  ): Promise<{ outTradeNo: string; tradeNo: string }> {
    const outTradeNo = `FUL-${process.pid}-${++orderNumber}`;
    const tradeNo = newTradeNo();
    const service: PaymentService =
      kind === 'instant' ? 'create_direct_pay_by_user' : 'trade_create_by_buyer';
    await bus.execute(
      new PlaceOrderCommand({
        type: 'PlaceOrder',
        outTradeNo,
        subject: 'A teapot',
        totalFee: TOTAL_FEE,
        service,
        sellerId: SELLER,
        requestParameters: { out_trade_no: outTradeNo, service },
        placedAt: new Date().toISOString(),
      }),
    );
    const record = (status: RecordTradeStatus['tradeStatus']) =>
      bus.execute(new RecordTradeStatusCommand(notice(outTradeNo, tradeNo, status, paidFee)));
    let last: OrderDecision;
    if (kind === 'instant') {
      last = await record('TRADE_SUCCESS');
    } else {
      await record('WAIT_BUYER_PAY');
      last = await record('WAIT_SELLER_SEND_GOODS');
    }
    await settled(last);
    return { outTradeNo, tradeNo };
  }

  async function eventsOf(outTradeNo: string): Promise<RecordedEvent[]> {
    return store.readStream(`order-${outTradeNo}`);
  }

  async function typesOf(outTradeNo: string): Promise<string[]> {
    return (await eventsOf(outTradeNo)).map((event) => event.type);
  }

  /** Runs passes until the worker finds nothing to do, letting the projection catch up in between. */
  async function drain(): Promise<void> {
    for (let pass = 0; pass < 20; pass++) {
      const acted = await worker.runOnce();
      const [latest] = (await store.readAll(0, 100_000)).slice(-1);
      if (latest !== undefined) {
        await projections.waitForProjections(
          { transactionId: latest.transactionId, position: latest.globalPosition },
          10_000,
        );
      }
      if (acted === 0) return;
    }
    throw new Error('the worker did not settle in 20 passes');
  }

  it('delivers an instant trade once and never confirms shipping for it', async () => {
    const { outTradeNo, tradeNo } = await paidOrder('instant');
    await drain();
    await drain();
    expect(hook.callsFor(outTradeNo)).toEqual([
      expect.objectContaining({
        idempotencyKey: outTradeNo,
        tradeNo,
        paymentType: 'instant',
        paidFee: TOTAL_FEE,
      }),
    ]);
    const delivered = (await eventsOf(outTradeNo)).filter((event) => event.type === 'DeliveryCompleted');
    expect(delivered).toHaveLength(1);
    expect(delivered[0].data).toMatchObject({ outTradeNo, reference: `WH-${outTradeNo}` });
    expect(delivered[0].metadata.causationId).toBe(`order-${outTradeNo}@2`);
    expect(gateway.requestsFor('send_goods_confirm_by_platform')).toHaveLength(0);
  });

  it('delivers an escrow trade, then confirms its shipping to Alipay once', async () => {
    const { outTradeNo, tradeNo } = await paidOrder('escrow');
    await drain();
    await drain();
    expect(hook.callsFor(outTradeNo)).toHaveLength(1);
    expect(await typesOf(outTradeNo)).toEqual([
      'OrderPlaced',
      'PaymentAwaited',
      'PaymentSucceeded',
      'DeliveryCompleted',
      'ShippingConfirmed',
    ]);
    const calls = gateway.requestsFor('send_goods_confirm_by_platform', tradeNo);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      signature: 'valid',
      answer: 'T',
      params: { trade_no: tradeNo, transport_type: 'DIRECT', logistics_name: '无需物流' },
    });
    expect((await eventsOf(outTradeNo)).at(-1)?.data).toMatchObject({
      attempt: 1,
      tradeNo,
    });
  });

  it('retries a failed shipping confirmation, recording each answer, and confirms once', async () => {
    const { outTradeNo, tradeNo } = await paidOrder('escrow');
    gateway.script('send_goods_confirm_by_platform', tradeNo, 'down', 'T');
    await drain();
    await drain();
    const shipping = (await eventsOf(outTradeNo)).filter((event) => event.type.startsWith('Shipping'));
    expect(shipping.map((event) => [event.type, event.data])).toEqual([
      [
        'ShippingConfirmationFailed',
        expect.objectContaining({ attempt: 1, code: 'UNREACHABLE', retryable: true }),
      ],
      ['ShippingConfirmed', expect.objectContaining({ attempt: 2, tradeNo })],
    ]);
    expect(gateway.requestsFor('send_goods_confirm_by_platform', tradeNo)).toHaveLength(2);
    expect(gateway.acceptedCount('send_goods_confirm_by_platform', tradeNo)).toBe(1);
    expect(hook.callsFor(outTradeNo)).toHaveLength(1);
  });

  it('stops at a refusal that no retry can change, and after the last attempt', async () => {
    const refused = await paidOrder('escrow');
    gateway.script('send_goods_confirm_by_platform', refused.tradeNo, { error: 'TRADE_NOT_EXIST' });
    const unreachable = await paidOrder('escrow');
    gateway.script('send_goods_confirm_by_platform', unreachable.tradeNo, 'down');
    await drain();
    await drain();
    const failures = async (outTradeNo: string) =>
      (await eventsOf(outTradeNo))
        .filter((event) => event.type === 'ShippingConfirmationFailed')
        .map((event) => event.data as { attempt: number; code: string; retryable: boolean });
    expect(await failures(refused.outTradeNo)).toEqual([
      expect.objectContaining({ attempt: 1, code: 'TRADE_NOT_EXIST', retryable: false }),
    ]);
    expect(await failures(unreachable.outTradeNo)).toEqual([
      expect.objectContaining({ attempt: 1, retryable: true }),
      expect.objectContaining({ attempt: 2, retryable: true }),
      expect.objectContaining({ attempt: 3, code: 'UNREACHABLE', retryable: false }),
    ]);
    expect(gateway.requestsFor('send_goods_confirm_by_platform', refused.tradeNo)).toHaveLength(1);
    expect(gateway.requestsFor('send_goods_confirm_by_platform', unreachable.tradeNo)).toHaveLength(3);
  });

  it('never delivers an order whose payment does not match it', async () => {
    const { outTradeNo } = await paidOrder('escrow', TOTAL_FEE - 1);
    await drain();
    expect(await typesOf(outTradeNo)).not.toContain('DeliveryCompleted');
    expect(hook.callsFor(outTradeNo)).toHaveLength(0);
    expect(gateway.requests).toHaveLength(0);
  });

  it('calls the hook again after it failed, and records the delivery once', async () => {
    const { outTradeNo } = await paidOrder('instant');
    hook.failuresLeft.set(outTradeNo, 2);
    await drain();
    await drain();
    expect(hook.callsFor(outTradeNo)).toHaveLength(3);
    expect((await typesOf(outTradeNo)).filter((type) => type === 'DeliveryCompleted')).toHaveLength(1);
  });

  it('calls the hook again when the delivery could not be recorded after it, and records it once', async () => {
    const { outTradeNo } = await paidOrder('instant');
    const execute = bus.execute.bind(bus);
    let failed = false;
    const record = jest.spyOn(bus, 'execute').mockImplementation((command) => {
      if (failed || !(command instanceof CompleteDeliveryCommand)) return execute(command);
      failed = true;
      return Promise.reject(new Error('the database went away'));
    });
    try {
      await drain();
      await drain();
    } finally {
      record.mockRestore();
    }
    expect(hook.callsFor(outTradeNo)).toHaveLength(2);
    expect((await typesOf(outTradeNo)).filter((type) => type === 'DeliveryCompleted')).toHaveLength(1);
  });

  it('does not act twice on a projection that has not caught up with its own delivery', async () => {
    const { outTradeNo } = await paidOrder('instant');
    await worker.runOnce();
    await worker.runOnce();
    await drain();
    expect(hook.callsFor(outTradeNo)).toHaveLength(1);
    expect((await typesOf(outTradeNo)).filter((type) => type === 'DeliveryCompleted')).toHaveLength(1);
  });

  describe('returns', () => {
    /**
     * Alipay's notice that the trade was refunded in full and closed (docs/alipay-protocol.md,
     * "Refunds on the trade").
     */
    async function refundedInFull(outTradeNo: string, tradeNo: string): Promise<void> {
      const refund = {
        ...notice(outTradeNo, tradeNo, 'TRADE_CLOSED'),
        refundStatus: 'REFUND_SUCCESS' as const,
        notifyId: `${outTradeNo}-refunded`,
      };
      await settled(await bus.execute(new RecordTradeStatusCommand(refund)));
    }

    it('takes back the goods of a delivered order refunded in full, once', async () => {
      const { outTradeNo, tradeNo } = await paidOrder('instant');
      await drain();
      await refundedInFull(outTradeNo, tradeNo);
      await drain();
      await drain();
      expect(hook.takenBackFor(outTradeNo)).toEqual([
        expect.objectContaining({ idempotencyKey: outTradeNo, tradeNo }),
      ]);
      const events = await eventsOf(outTradeNo);
      expect(events.filter((event) => event.type === 'ReturnCompleted')).toEqual([
        expect.objectContaining({ data: expect.objectContaining({ reference: `RMA-${outTradeNo}` }) }),
      ]);
    });

    it('calls the hook again after it failed, and records the return once', async () => {
      const { outTradeNo, tradeNo } = await paidOrder('instant');
      await drain();
      hook.takeBackFailuresLeft.set(outTradeNo, 2);
      await refundedInFull(outTradeNo, tradeNo);
      await drain();
      await drain();
      expect(hook.takenBackFor(outTradeNo)).toHaveLength(3);
      expect((await typesOf(outTradeNo)).filter((type) => type === 'ReturnCompleted')).toHaveLength(1);
    });

    it('leaves a partial refund to a person, and takes nothing back from an order never delivered', async () => {
      const partial = await paidOrder('instant');
      await drain();
      const batchNo = formatBatchNo(new Date(), `${Date.now()}`.slice(-9));
      if (!batchNo.ok) throw new Error('batch_no');
      await bus.execute(
        new SubmitRefundBatchCommand({
          type: 'SubmitRefundBatch',
          batchNo: batchNo.value,
          mode: 'nopwd',
          items: [
            { outTradeNo: partial.outTradeNo, tradeNo: partial.tradeNo, amount: 500, reason: 'dented' },
          ],
          submittedAt: new Date().toISOString(),
        }),
      );
      await settled(
        (
          await bus.execute(
            new CompleteRefundBatchCommand({
              type: 'CompleteRefundBatch',
              batchNo: batchNo.value,
              successNum: 1,
              results: [{ tradeNo: partial.tradeNo, amount: 500, code: 'SUCCESS' }],
              notifyId: `${partial.outTradeNo}-batch`,
              notifyTime: new Date().toISOString(),
            }),
          )
        ).orders[0],
      );

      // Refunded in full before the worker delivered it: never delivered, nothing to take back.
      const undelivered = await paidOrder('escrow');
      await refundedInFull(undelivered.outTradeNo, undelivered.tradeNo);
      await drain();
      await drain();

      expect(await module.get(OrderQueries).get(partial.outTradeNo)).toMatchObject({
        returnState: 'manual_review',
      });
      expect(hook.takenBackFor(partial.outTradeNo)).toEqual([]);
      expect(hook.callsFor(undelivered.outTradeNo)).toEqual([]);
      expect(hook.takenBackFor(undelivered.outTradeNo)).toEqual([]);
      expect(await module.get(OrderQueries).get(undelivered.outTradeNo)).toMatchObject({
        returnState: 'none',
      });
    });
  });
});
