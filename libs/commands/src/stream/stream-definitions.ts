import {
  asOrderEvent,
  asRefundBatchEvent,
  orderDecider,
  orderStreamId,
  refundBatchDecider,
  refundBatchStreamId,
  type Decider,
  type OrderCommand,
  type OrderEvent,
  type OrderState,
  type RefundBatchCommand,
  type RefundBatchEvent,
  type RefundBatchState,
} from '@ledger/domain';
import type { StreamEvent } from './stream-session';

/**
 * A type of stream as the command step runs it: the domain's decider (initial state, evolve, decide), the
 * stream a command is about, and how a stored event is read back as one of the stream's events.
 */
export interface StreamDefinition<C, E extends StreamEvent, S> extends Decider<C, E, S> {
  streamIdOf(command: C): string;
  /** The stream's event for a stored type and data; undefined for a type this code does not know. */
  eventOf(type: string, data: unknown): E | undefined;
}

/** The state after a stream's stored events; types this code does not know are a newer writer's, skipped. */
export function foldStream<C, E extends StreamEvent, S>(
  definition: StreamDefinition<C, E, S>,
  events: readonly StreamEvent[],
): S {
  let state = definition.initialState();
  for (const stored of events) {
    const known = definition.eventOf(stored.type, stored.data);
    if (known !== undefined) state = definition.evolve(state, known);
  }
  return state;
}

/** Order streams, `order-<out_trade_no>`. */
export const orderStream: StreamDefinition<OrderCommand, OrderEvent, OrderState> = {
  ...orderDecider,
  streamIdOf: (command) => orderStreamId(command.outTradeNo),
  eventOf: asOrderEvent,
};

/** Refund batch streams, `refund-batch-<batch_no>`. */
export const refundBatchStream: StreamDefinition<RefundBatchCommand, RefundBatchEvent, RefundBatchState> = {
  ...refundBatchDecider,
  streamIdOf: (command) => refundBatchStreamId(command.batchNo),
  eventOf: asRefundBatchEvent,
};
