import { Injectable } from '@nestjs/common';
import type { PaymentType, TransportType } from '@ledger/alipay-protocol';
import type { Fen, Instant, PaymentService } from '@ledger/domain';
import { LedgerLogger } from '@ledger/platform';

/** A paid order to deliver, as its stream tells it when the worker acts. */
export interface FulfilmentOrder {
  /**
   * The idempotency key of the delivery: the order's `out_trade_no`. The hook is called at least once per
   * order (again after a crash between the delivery and its recording), so the merchant's system must treat a
   * second call with the same key as the same delivery.
   */
  idempotencyKey: string;
  outTradeNo: string;
  tradeNo: string;
  subject: string;
  paymentType: PaymentType;
  service: PaymentService;
  paidFee: Fen;
  buyerId?: string;
  buyerEmail?: string;
  gmtPayment?: Instant;
}

/** What the merchant's system reports back; `reference` is recorded on `DeliveryCompleted`. */
export interface DeliveryReceipt {
  reference?: string;
}

/** What the merchant's system reports once goods are taken back; `reference` is recorded on `ReturnCompleted`. */
export interface ReturnReceipt {
  reference?: string;
}

/** How an escrow trade's goods travel, for `send_goods_confirm_by_platform`. */
export interface ShipmentDetails {
  /** The carrier's name. */
  logisticsName: string;
  /** The waybill number; omit for `DIRECT`. */
  invoiceNo?: string;
  transportType: TransportType;
}

/**
 * The merchant's fulfilment system (docs/product-rules.md, "Acting on decisions").
 * Replace the provider of this class in `FulfilmentModule` with the merchant's own:
 * `{ provide: FulfilmentHook, useClass: WarehouseHook }`.
 *
 * `deliver` is called at least once per order to deliver, never for an order that is unpaid, closed,
 * refunded or anomalous; the ledger records the delivery exactly once. Throwing means "not delivered, try
 * again later". `signal` aborts when the ledger shuts down.
 */
export abstract class FulfilmentHook {
  abstract deliver(order: FulfilmentOrder, signal: AbortSignal): Promise<DeliveryReceipt>;

  /**
   * Takes back the goods of a delivered order that was refunded in full (docs/product-rules.md,
   * "Return decisions"): called at least once per such order (`idempotencyKey` as for `deliver`), recorded
   * once as `ReturnCompleted`; never for a partial refund, which waits in `manual_review` for a person.
   * Throwing means "try again later".
   */
  abstract takeBack(order: FulfilmentOrder, signal: AbortSignal): Promise<ReturnReceipt>;

  /**
   * How the goods of a delivered escrow trade travel, asked each time shipping is confirmed to Alipay (so
   * that a confirmation retried after a restart needs nothing the worker kept in memory). Default: no
   * physical delivery (`DIRECT`, "无需物流": no logistics needed), which suits virtual goods.
   */
  shipmentOf(_order: FulfilmentOrder): Promise<ShipmentDetails> {
    return Promise.resolve({ logisticsName: '无需物流', transportType: 'DIRECT' });
  }
}

/** The default hook: records in the log that the order is to be delivered or taken back, and nothing else. */
@Injectable()
export class LoggingFulfilmentHook extends FulfilmentHook {
  constructor(private readonly logger: LedgerLogger) {
    super();
  }

  deliver(order: FulfilmentOrder): Promise<DeliveryReceipt> {
    this.logger.log(
      {
        msg: `deliver order ${order.outTradeNo} (no fulfilment hook configured: logged only)`,
        outTradeNo: order.outTradeNo,
        tradeNo: order.tradeNo,
        paidFee: order.paidFee,
        paymentType: order.paymentType,
      },
      'FulfilmentHook',
    );
    return Promise.resolve({});
  }

  takeBack(order: FulfilmentOrder): Promise<ReturnReceipt> {
    this.logger.log(
      {
        msg: `take back the goods of order ${order.outTradeNo}, refunded in full (no fulfilment hook configured: logged only)`,
        outTradeNo: order.outTradeNo,
        tradeNo: order.tradeNo,
      },
      'FulfilmentHook',
    );
    return Promise.resolve({});
  }
}
