import type { RefundStatus, TradeStatus } from '@ledger/alipay-protocol';
import { foldEvents } from '../decider';
import type { RecordBatchRefundResult, ReserveBatchRefund } from '../order/batch-refunds';
import { orderDecider, type OrderCommand } from '../order/order-decider';
import type { OrderEvent } from '../order/order-events';
import type { OrderState } from '../order/order-state';
import type { PlaceOrder } from '../order/place-order';
import type { RecordTradeStatus } from '../order/record-trade-status';

// Test data for order scenarios: one order, one trade, one seller. Test support only.

export const SELLER_ID = '2088101122136241';
export const OUT_TRADE_NO = 'ORD-20240501-0001';
export const TRADE_NO = '2024050122001004370000361525';
export const TOTAL_FEE = 12_000;
export const PLACED_AT = '2024-05-01T02:00:00.000Z';

export function placeOrder(overrides: Partial<PlaceOrder> = {}): PlaceOrder {
  return {
    type: 'PlaceOrder',
    outTradeNo: OUT_TRADE_NO,
    subject: '会员年卡',
    totalFee: TOTAL_FEE,
    service: 'create_direct_pay_by_user',
    sellerId: SELLER_ID,
    requestParameters: {
      service: 'create_direct_pay_by_user',
      partner: SELLER_ID,
      seller_id: SELLER_ID,
      out_trade_no: OUT_TRADE_NO,
      subject: '会员年卡',
      total_fee: '120.00',
      payment_type: '1',
      _input_charset: 'utf-8',
    },
    placedAt: PLACED_AT,
    ...overrides,
  };
}

/** The `OrderPlaced` event of `placeOrder(overrides)`. */
export function orderPlaced(overrides: Partial<PlaceOrder> = {}): OrderEvent {
  const command = placeOrder(overrides);
  return {
    type: 'OrderPlaced',
    data: {
      outTradeNo: command.outTradeNo,
      subject: command.subject,
      ...(command.body === undefined ? {} : { body: command.body }),
      totalFee: command.totalFee,
      service: command.service,
      sellerId: command.sellerId,
      requestParameters: command.requestParameters,
      placedAt: command.placedAt,
      ...(command.imported === undefined ? {} : { imported: command.imported }),
    },
  };
}

/** An escrow-capable order (`trade_create_by_buyer`). */
export const escrowOrder: Partial<PlaceOrder> = { service: 'trade_create_by_buyer' };

/**
 * A verified trade notification. Its `notify_id` defaults to one per (status, refund status, gmt_refund),
 * as Alipay gives one per status change (docs/alipay-protocol.md, "notify_id").
 */
export function notice(
  tradeStatus: TradeStatus,
  overrides: Partial<Omit<RecordTradeStatus, 'type' | 'tradeStatus'>> = {},
): RecordTradeStatus {
  const refund = overrides.refundStatus === undefined ? '' : `-${overrides.refundStatus}`;
  const gmt = overrides.gmtRefund === undefined ? '' : `-${overrides.gmtRefund}`;
  return {
    type: 'RecordTradeStatus',
    outTradeNo: OUT_TRADE_NO,
    tradeNo: TRADE_NO,
    tradeStatus,
    totalFee: TOTAL_FEE,
    sellerId: SELLER_ID,
    buyer: { id: '2088202561123456', email: '137******70' },
    times: {},
    notifyId: `notify-${tradeStatus}${refund}${gmt}`,
    notifyTime: '2024-05-01T02:05:00.000Z',
    source: 'notify',
    ...overrides,
  };
}

/** A trade-channel refund notice (`trade_status` + `refund_status`). */
export function refundNotice(
  tradeStatus: TradeStatus,
  refundStatus: RefundStatus,
  overrides: Partial<Omit<RecordTradeStatus, 'type' | 'tradeStatus' | 'refundStatus'>> = {},
): RecordTradeStatus {
  return notice(tradeStatus, { refundStatus, ...overrides });
}

export function reserve(
  batchNo: string,
  amount: number,
  overrides: Partial<ReserveBatchRefund> = {},
): ReserveBatchRefund {
  return {
    type: 'ReserveBatchRefund',
    outTradeNo: OUT_TRADE_NO,
    batchNo,
    amount,
    reason: '协商退款',
    requestedAt: '2024-05-02T03:00:00.000Z',
    ...overrides,
  };
}

export function batchResult(
  batchNo: string,
  amount: number,
  code = 'SUCCESS',
  overrides: Partial<RecordBatchRefundResult> = {},
): RecordBatchRefundResult {
  return {
    type: 'RecordBatchRefundResult',
    outTradeNo: OUT_TRADE_NO,
    batchNo,
    tradeNo: TRADE_NO,
    amount,
    code,
    notifyId: `batch-notify-${batchNo}`,
    notifyTime: '2024-05-02T03:10:00.000Z',
    ...overrides,
  };
}

/** The events a sequence of commands appends, each decided on the state the previous ones left. */
export function history(...commands: OrderCommand[]): OrderEvent[] {
  const events: OrderEvent[] = [];
  for (const command of commands) {
    events.push(...orderDecider.decide(command, foldEvents(orderDecider, events)));
  }
  return events;
}

/** The state after a sequence of commands. */
export function stateAfter(...commands: OrderCommand[]): OrderState {
  return foldEvents(orderDecider, history(...commands));
}
