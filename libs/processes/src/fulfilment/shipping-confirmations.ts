import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { InjectDataSource } from '@nestjs/typeorm';
import { AlipayGateway, GatewayError } from '@ledger/alipay-gateway';
import { ConfirmShippingCommand, StreamReads } from '@ledger/commands';
import { DomainError, shippingDecision, type ConfirmShipping } from '@ledger/domain';
import { LedgerLogger, WorkerLoop, backoffDelayMs } from '@ledger/platform';
import { DataSource } from 'typeorm';
import { FULFILMENT_OPTIONS, type FulfilmentOptions } from './fulfilment-options';

const CONTEXT = 'ShippingConfirmations';

/** How the goods of an escrow trade travel: none, for the goods this ledger sells (docs/fulfilment.md). */
const DIRECT = { logisticsName: '无需物流', transportType: 'DIRECT' } as const;

/**
 * Confirms the shipping of delivered escrow trades to Alipay (docs/fulfilment.md, "Escrow shipping"), from
 * the `shipping_tasks` the fulfilment consumer enqueues. Every instance runs it; each task is claimed with
 * `FOR UPDATE SKIP LOCKED` for `claimMs`, so one instance calls the gateway for an order at a time, and a
 * task whose instance died is taken over when its claim expires. Before calling, the order's stream is
 * read again: a task whose order no longer needs it (confirmed, shipped, closed, refunded) is dropped.
 */
@Injectable()
export class ShippingConfirmations {
  private readonly loop: WorkerLoop;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly reads: StreamReads,
    private readonly bus: CommandBus,
    private readonly gateway: AlipayGateway,
    private readonly logger: LedgerLogger,
    @Inject(FULFILMENT_OPTIONS) private readonly options: FulfilmentOptions,
  ) {
    this.loop = new WorkerLoop({
      name: 'shipping-confirmations',
      pollMs: options.pollMs,
      logger,
      pass: () => this.runOnce(),
    });
  }

  start(): void {
    this.loop.start();
  }

  wake(): void {
    this.loop.wake();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** One pass: the due tasks, one after another; true when there may be more, else ms until the next. */
  async runOnce(): Promise<boolean | number> {
    const token = randomUUID();
    const tasks = await this.dataSource.query<{ out_trade_no: string }[]>(
      `WITH due AS (
         SELECT out_trade_no FROM shipping_tasks WHERE next_attempt_at <= now()
         ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED),
       claimed AS (
         UPDATE shipping_tasks t SET claim_token = $2,
           next_attempt_at = now() + make_interval(secs => $3::float8 / 1000)
         FROM due WHERE t.out_trade_no = due.out_trade_no
         RETURNING t.out_trade_no)
       SELECT out_trade_no FROM claimed`,
      [this.options.batchSize, token, this.options.claimMs],
    );
    for (const { out_trade_no: outTradeNo } of tasks) {
      if (this.loop.stopping) break;
      try {
        const retryInMs = await this.confirm(outTradeNo);
        await this.dataSource.query(
          retryInMs === undefined
            ? `DELETE FROM shipping_tasks WHERE out_trade_no = $1 AND claim_token = $2`
            : `UPDATE shipping_tasks SET claim_token = NULL,
                 next_attempt_at = now() + make_interval(secs => $3::float8 / 1000)
               WHERE out_trade_no = $1 AND claim_token = $2`,
          retryInMs === undefined ? [outTradeNo, token] : [outTradeNo, token, retryInMs],
        );
      } catch (error) {
        // The database or the ledger's own code failed: the claim expires and the task comes back.
        this.logger.warn(
          { msg: `shipping confirmation of ${outTradeNo} failed: ${String(error)}`, err: error },
          CONTEXT,
        );
      }
    }
    if (tasks.length === this.options.batchSize) return true;
    const [next] = await this.dataSource.query<{ ms: number | null }[]>(
      `SELECT (EXTRACT(EPOCH FROM min(next_attempt_at) - now()) * 1000)::float8 AS ms FROM shipping_tasks`,
    );
    return next.ms === null ? false : Math.max(5, Math.ceil(next.ms));
  }

  /**
   * Confirms one order's shipping if its stream still says so. Resolves undefined when nothing more is due,
   * else the pause before the next attempt.
   */
  private async confirm(outTradeNo: string): Promise<number | undefined> {
    const { state, version } = await this.reads.order(outTradeNo);
    if (shippingDecision(state) !== 'pending' || state.tradeNo === undefined) return undefined;
    const attempt = state.shipping.attempts + 1;
    let result: ConfirmShipping['result'];
    try {
      const acceptance = await this.gateway.sendGoodsConfirm(
        { tradeNo: state.tradeNo, ...DIRECT },
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
      // Shutting down: nothing was learnt; the task is due again at once.
      if (error.code === 'ABORTED') return 0;
      const retryable = error.retryable && attempt < this.options.shippingRetry.maxAttempts;
      result = { outcome: 'failed', code: error.alipayCode ?? error.code, retryable };
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
    try {
      await this.bus.execute(
        new ConfirmShippingCommand(
          { type: 'ConfirmShipping', outTradeNo, result, at: new Date().toISOString() },
          { causationId: `order-${outTradeNo}@${version}` },
        ),
      );
    } catch (error) {
      // The trade closed or was refunded while the gateway answered: the answer no longer matters.
      if (!(error instanceof DomainError && error.code === 'SHIPPING_NOT_DUE')) throw error;
      this.logger.log({ msg: `${error.message}: the answer is not recorded`, outTradeNo }, CONTEXT);
      return undefined;
    }
    return result.outcome === 'failed' && result.retryable
      ? backoffDelayMs(this.options.shippingRetry, attempt)
      : undefined;
  }
}
