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

/** How an escrow trade's goods travel, for `send_goods_confirm_by_platform`. */
export interface ShipmentDetails {
  /** The carrier's name. */
  logisticsName: string;
  /** The waybill number; omit for `DIRECT`. */
  invoiceNo?: string;
  transportType: TransportType;
}

/**
 * The merchant's fulfilment system (SPEC §3: "acting on a decision calls the merchant's fulfilment hook").
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
   * How the goods of a delivered escrow trade travel, asked each time shipping is confirmed to Alipay (so
   * that a confirmation retried after a restart needs nothing the worker kept in memory). Default: no
   * physical delivery (`DIRECT`, "无需物流": no logistics needed), which suits virtual goods.
   */
  shipmentOf(_order: FulfilmentOrder): Promise<ShipmentDetails> {
    return Promise.resolve({ logisticsName: '无需物流', transportType: 'DIRECT' });
  }
}

/** The default hook: records in the log that the order is to be delivered, and nothing else. */
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
}
