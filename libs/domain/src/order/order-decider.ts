import type { Decider } from '../decider';
import { decideResolveAnomalies, type ResolveAnomalies } from './anomaly-resolution';
import {
  decideRecordBatchRefundResult,
  decideReleaseBatchReservation,
  decideReserveBatchRefund,
  type RecordBatchRefundResult,
  type ReleaseBatchReservation,
  type ReserveBatchRefund,
} from './batch-refunds';
import {
  decideCompleteDelivery,
  decideCompleteReturn,
  decideConfirmShipping,
  type CompleteDelivery,
  type CompleteReturn,
  type ConfirmShipping,
} from './fulfilment';
import type { OrderEvent } from './order-events';
import { evolveOrder, initialOrderState, type OrderState } from './order-state';
import { decideImportOrderStatus, type ImportOrderStatus } from './import-order-status';
import { decidePlaceOrder, type PlaceOrder } from './place-order';
import { decideRecordTradeStatus, type RecordTradeStatus } from './record-trade-status';

export type OrderCommand =
  | PlaceOrder
  | ImportOrderStatus
  | RecordTradeStatus
  | ReserveBatchRefund
  | ReleaseBatchReservation
  | RecordBatchRefundResult
  | CompleteDelivery
  | CompleteReturn
  | ConfirmShipping
  | ResolveAnomalies;

/**
 * The events an order command causes in the current state: none for a duplicate or stale input, anomalies
 * for Alipay input that does not match, a `DomainError` for a refused merchant command.
 */
export function decideOrder(command: OrderCommand, state: OrderState): OrderEvent[] {
  switch (command.type) {
    case 'PlaceOrder':
      return decidePlaceOrder(command, state);
    case 'ImportOrderStatus':
      return decideImportOrderStatus(command, state);
    case 'RecordTradeStatus':
      return decideRecordTradeStatus(command, state);
    case 'ReserveBatchRefund':
      return decideReserveBatchRefund(command, state);
    case 'ReleaseBatchReservation':
      return decideReleaseBatchReservation(command, state);
    case 'RecordBatchRefundResult':
      return decideRecordBatchRefundResult(command, state);
    case 'CompleteDelivery':
      return decideCompleteDelivery(command, state);
    case 'CompleteReturn':
      return decideCompleteReturn(command, state);
    case 'ConfirmShipping':
      return decideConfirmShipping(command, state);
    case 'ResolveAnomalies':
      return decideResolveAnomalies(command, state);
  }
}

/** The order decider for a command handler that loads, decides and appends with the expected version. */
export const orderDecider: Decider<OrderCommand, OrderEvent, OrderState> = {
  decide: decideOrder,
  evolve: evolveOrder,
  initialState: initialOrderState,
};
