import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { InjectDataSource } from '@nestjs/typeorm';
import { AlipayGateway, GatewayError } from '@ledger/alipay-gateway';
import {
  DomainError,
  deliveryDecision,
  returnDecision,
  shippingDecision,
  type ConfirmShipping,
  type OrderState,
} from '@ledger/domain';
import {
  CompleteDeliveryCommand,
  CompleteReturnCommand,
  ConfirmShippingCommand,
  StreamReads,
  type CommandContext,
  type OrderDecision,
} from '@ledger/commands';
import { LeaseLapsedError, LeaseTable, LedgerLogger, WorkerLoop, backoffDelayMs } from '@ledger/platform';
import { OrderQueries, ProjectionsService, type OrderSummary } from '@ledger/projections';
import { DataSource } from 'typeorm';
import { FulfilmentHook, type FulfilmentOrder } from './fulfilment-hook';
import { FULFILMENT_OPTIONS, type FulfilmentOptions } from './fulfilment-options';

const CONTEXT = 'FulfilmentWorker';

/** The stream position a decision was read at: the causation of what the worker appends. */
function decidedAt(outTradeNo: string, version: number): CommandContext {
  return { causationId: `order-${outTradeNo}@${version}` };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Acts on the delivery decisions (docs/product-rules.md, "Delivery decisions"; docs/fulfilment.md,
 * "Escrow shipping"), polling B's work lists:
 * - a pending delivery: the merchant's `FulfilmentHook` delivers (at least once), then `DeliveryCompleted`
 *   is appended through the order's decider (exactly once: a second completion appends nothing);
 * - a delivered escrow trade: `send_goods_confirm_by_platform`, whose every answer is recorded
 *   (`ShippingConfirmed`, or `ShippingConfirmationFailed` with retries and exponential backoff until
 *   confirmed, refused for good, or out of attempts);
 * - a pending return (a delivered order refunded in full, docs/fulfilment.md, "Returns"): the hook takes the
 *   goods back (at least once), then `ReturnCompleted` is appended (exactly once).
 *
 * The lists come from the projection, which may lag: every action first reloads the order's stream and acts
 * only if the decision still holds there. No gateway or hook call runs inside a database transaction. One
 * instance at a time works (the worker's lease), so that two ledgers do not confirm the same shipment twice;
 * each hook call, gateway call and append first checks that the lease is still held.
 */
@Injectable()
export class FulfilmentWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly loop: WorkerLoop;
  /** When an order may be acted on again, by action (`deliver:` / `ship:` / `return:` + out_trade_no). */
  private readonly retryAt = new Map<string, number>();
  /** Consecutive hook failures per order. */
  private readonly failures = new Map<string, number>();
  private unsubscribe?: () => void;

  constructor(
    private readonly queries: OrderQueries,
    private readonly bus: CommandBus,
    private readonly reads: StreamReads,
    private readonly gateway: AlipayGateway,
    private readonly hook: FulfilmentHook,
    private readonly logger: LedgerLogger,
    @Inject(FULFILMENT_OPTIONS) private readonly options: FulfilmentOptions,
    @InjectDataSource() dataSource: DataSource,
    private readonly projections: ProjectionsService,
  ) {
    this.loop = new WorkerLoop({
      name: 'fulfilment',
      lease: { table: new LeaseTable(dataSource), retryMs: options.leaseRetryMs },
      pollMs: options.pollMs,
      logger,
      pass: async () => ((await this.runOnce()) > 0 ? true : this.untilNextRetry()),
    });
  }

  onApplicationBootstrap(): void {
    if (!this.options.enabled) return;
    // The work lists are projections: a pass is due when they change, the poll only covers a lost hint.
    this.unsubscribe = this.projections.onProjected(() => this.loop.wake());
    this.loop.start();
  }

  /** Stops before the database closes: the actions in flight finish (or give up on the abort signal). */
  async beforeApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    await this.loop.stop();
  }

  /** Milliseconds until the first order put off by a backoff is due again; false when none is. */
  private untilNextRetry(): number | false {
    const now = Date.now();
    let next = Infinity;
    for (const at of this.retryAt.values()) if (at > now && at < next) next = at;
    return next === Infinity ? false : next - now;
  }

  /**
   * One pass over both work lists; resolves with the number of orders it acted on (hook or gateway called).
   * The loop calls it; tests call it to step the worker.
   */
  async runOnce(): Promise<number> {
    if (!(await this.loop.takeLease())) return 0;
    const [deliveries, shipments, returns] = await Promise.all([
      this.queries.pendingDeliveries(this.options.batchSize),
      this.queries.pendingShippingConfirmations(this.options.batchSize),
      this.queries.pendingReturns(this.options.batchSize),
    ]);
    let acted = 0;
    const act = async (key: string, action: () => Promise<boolean>) => {
      if (this.isBackingOff(key)) return;
      this.loop.assertHolding();
      try {
        if (await action()) acted++;
      } catch (error) {
        if (error instanceof LeaseLapsedError) throw error;
        // The database or the ledger's own code failed: this order waits, the others go on.
        this.retryAt.set(key, Date.now() + this.options.deliveryRetry.baseMs);
        this.logger.warn({ msg: `${key} failed: ${errorMessage(error)}`, err: error }, CONTEXT);
      }
    };
    for (const order of deliveries) await act(`deliver:${order.outTradeNo}`, () => this.deliver(order));
    for (const order of returns) await act(`return:${order.outTradeNo}`, () => this.takeBack(order));
    for (const order of shipments) {
      await act(`ship:${order.outTradeNo}`, () => this.confirmShipping(order.outTradeNo, order));
    }
    return acted;
  }

  private get stopping(): boolean {
    return this.loop.stopping;
  }

  private isBackingOff(key: string): boolean {
    const at = this.retryAt.get(key);
    return at !== undefined && Date.now() < at;
  }

  /** Delivers one order if its stream still says so; true when the hook was called. */
  private async deliver(listed: OrderSummary): Promise<boolean> {
    const { outTradeNo } = listed;
    const done = await this.callHook(
      'deliver',
      outTradeNo,
      deliveryDecision,
      (order) => this.hook.deliver(order, this.loop.signal),
      (reference, version) =>
        this.bus.execute(
          new CompleteDeliveryCommand(
            {
              type: 'CompleteDelivery',
              outTradeNo,
              deliveredAt: new Date().toISOString(),
              ...(reference === undefined ? {} : { reference }),
            },
            decidedAt(outTradeNo, version),
          ),
        ),
    );
    if (done === undefined) return false;
    if (done !== 'failed' && shippingDecision(done) === 'pending' && this.loop.holding()) {
      await this.confirmShipping(outTradeNo);
    }
    return true;
  }

  /** Takes back the goods of an order refunded in full if its stream still says so; true when the hook was called. */
  private async takeBack(listed: OrderSummary): Promise<boolean> {
    const { outTradeNo } = listed;
    const done = await this.callHook(
      'return',
      outTradeNo,
      returnDecision,
      (order) => this.hook.takeBack(order, this.loop.signal),
      (reference, version) =>
        this.bus.execute(
          new CompleteReturnCommand(
            {
              type: 'CompleteReturn',
              outTradeNo,
              returnedAt: new Date().toISOString(),
              ...(reference === undefined ? {} : { reference }),
            },
            decidedAt(outTradeNo, version),
          ),
        ),
    );
    return done !== undefined;
  }

  /**
   * Calls the merchant's hook for an order whose decision is still `pending` on its stream, then records
   * what it did: undefined when nothing was due, `failed` when the hook threw (backed off, called again
   * later), else the order after the recording. A recording that fails after the hook succeeded means the
   * hook is called again later: hence "at least once" and the idempotency key.
   */
  private async callHook(
    action: 'deliver' | 'return',
    outTradeNo: string,
    decision: (state: OrderState) => string,
    hookCall: (order: FulfilmentOrder) => Promise<{ reference?: string }>,
    record: (reference: string | undefined, version: number) => Promise<OrderDecision>,
  ): Promise<OrderState | 'failed' | undefined> {
    const key = `${action}:${outTradeNo}`;
    const { state, version } = await this.reads.order(outTradeNo);
    if (decision(state) !== 'pending') return undefined;
    let reference: string | undefined;
    this.loop.assertHolding();
    try {
      ({ reference } = await hookCall(fulfilmentOrder(outTradeNo, state)));
    } catch (error) {
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      const delay = backoffDelayMs(this.options.deliveryRetry, failures);
      this.retryAt.set(key, Date.now() + delay);
      this.logger.warn(
        {
          msg: `the fulfilment hook failed to ${action} order ${outTradeNo} (attempt ${failures}); retrying in ${delay} ms`,
          outTradeNo,
          err: error,
        },
        CONTEXT,
      );
      return 'failed';
    }
    this.failures.delete(key);
    this.retryAt.delete(key);
    // Not held any more: the next holder calls the hook again (at least once) and records it.
    this.loop.assertHolding();
    const result = await record(reference, version);
    this.logger.log(
      {
        msg: `order ${outTradeNo}: ${action === 'deliver' ? 'delivered' : 'goods taken back'}${result.events.length === 0 ? ' (already recorded)' : ''}`,
        outTradeNo,
        reference,
      },
      CONTEXT,
    );
    return result.state;
  }

  /**
   * Confirms one escrow trade's shipping if its stream still says so and its backoff has passed; true when
   * the gateway was called. `listed` (the projection's row) dates the last failure after a restart.
   */
  private async confirmShipping(outTradeNo: string, listed?: OrderSummary): Promise<boolean> {
    const key = `ship:${outTradeNo}`;
    const { state, version } = await this.reads.order(outTradeNo);
    if (shippingDecision(state) !== 'pending' || state.tradeNo === undefined) return false;
    const { attempts } = state.shipping;
    if (attempts > 0 && listed !== undefined) {
      // After a restart the memory is empty: the last failure is at most as old as the row's last update.
      const due = Date.parse(listed.updatedAt) + backoffDelayMs(this.options.shippingRetry, attempts);
      if (Date.now() < due) {
        this.retryAt.set(key, due);
        return false;
      }
    }

    const order = fulfilmentOrder(outTradeNo, state);
    let result: ConfirmShipping['result'];
    this.loop.assertHolding();
    try {
      const shipment = await this.hook.shipmentOf(order);
      this.loop.assertHolding();
      const acceptance = await this.gateway.sendGoodsConfirm(
        { tradeNo: state.tradeNo, ...shipment },
        { signal: this.loop.signal },
      );
      // `P` (accepted, result to come) is taken as confirmed: Alipay has the shipment
      // (docs/alipay-protocol.md, "nopwd answer").
      this.logger.log(
        { msg: `shipping of order ${outTradeNo} confirmed to Alipay (${acceptance.status})`, outTradeNo },
        CONTEXT,
      );
      result = { outcome: 'confirmed' };
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      // Shutting down: nothing was learnt; the next start asks again.
      if (error.code === 'ABORTED') return true;
      const attempt = attempts + 1;
      const retryable = error.retryable && attempt < this.options.shippingRetry.maxAttempts;
      result = { outcome: 'failed', code: error.alipayCode ?? error.code, retryable };
      if (retryable) this.retryAt.set(key, Date.now() + backoffDelayMs(this.options.shippingRetry, attempt));
      this.logger.warn(
        {
          msg:
            `send_goods_confirm_by_platform failed for order ${outTradeNo} (attempt ${attempt}): ` +
            `${error.message}${retryable ? '' : '; no more attempts'}`,
          outTradeNo,
          code: result.code,
        },
        CONTEXT,
      );
    }

    this.loop.assertHolding();
    try {
      await this.bus.execute(
        new ConfirmShippingCommand(
          { type: 'ConfirmShipping', outTradeNo, result, at: new Date().toISOString() },
          decidedAt(outTradeNo, version),
        ),
      );
    } catch (error) {
      // The trade closed or was refunded while the gateway answered: the answer no longer matters.
      if (!(error instanceof DomainError && error.code === 'SHIPPING_NOT_DUE')) throw error;
      this.logger.log({ msg: `${error.message}: the answer is not recorded`, outTradeNo }, CONTEXT);
    }
    return true;
  }
}

function fulfilmentOrder(outTradeNo: string, state: OrderState): FulfilmentOrder {
  const { placed } = state;
  if (placed === undefined || state.tradeNo === undefined || state.paymentType === undefined) {
    // The delivery, shipping and return decisions are `pending` only for a placed, paid order.
    throw new Error(`order ${outTradeNo} is not a paid order`);
  }
  return {
    idempotencyKey: outTradeNo,
    outTradeNo,
    tradeNo: state.tradeNo,
    subject: placed.subject,
    paymentType: state.paymentType,
    service: placed.service,
    paidFee: state.paidFee,
    ...(state.buyerId === undefined ? {} : { buyerId: state.buyerId }),
    ...(state.buyerEmail === undefined ? {} : { buyerEmail: state.buyerEmail }),
    ...(state.gmtPayment === undefined ? {} : { gmtPayment: state.gmtPayment }),
  };
}
