import {
  orderCommandsForBatchEvents,
  type OrderEvent,
  type OrderState,
  type RefundBatchCommand,
  type RefundBatchEvent,
  type RefundBatchState,
} from '@ledger/domain';
import type { EventMetadata } from '@ledger/event-store';
import { decideOnLoaded, decideOnStream, loadStream, type StreamDecision } from './command-step';
import { orderStream, refundBatchStream } from './stream-definitions';
import type { StreamSession } from './stream-session';

/** What a command did to an order stream. */
export type OrderDecision = StreamDecision<OrderEvent, OrderState>;

/**
 * What one command did to a refund batch stream and to the order streams its events reached
 * (reservations, releases, results; sorted by order). `position` is the highest global position written:
 * what to wait for; `firstPosition` the batch stream's first event, appended before the orders'.
 */
export type RefundBatchDecision = StreamDecision<RefundBatchEvent, RefundBatchState> & {
  orders: OrderDecision[];
};

/**
 * The command step of a refund batch, in one session: decide on the batch stream and append, then run the
 * order commands its new events call for (`orderCommandsForBatchEvents`) on their order streams. In a
 * transaction everything commits together or not at all, so a batch is never submitted without its
 * reservations, and two batches racing for the last refundable fen cannot both reserve it: the loser's
 * order stream moved, its retry decides again and is refused (`REFUND_EXCEEDS_REFUNDABLE`, a DomainError
 * that rolls the whole batch back).
 */
export async function decideOnRefundBatch(
  session: StreamSession,
  command: RefundBatchCommand,
  metadata: EventMetadata,
): Promise<RefundBatchDecision> {
  const loaded = await loadStream(session, refundBatchStream, refundBatchStream.streamIdOf(command));
  const batch = await decideOnLoaded(session, refundBatchStream, loaded, command, metadata);
  if (batch.kind === 'no_new_fact') return { ...batch, orders: [] };
  const orders: OrderDecision[] = [];
  for (const orderCommand of orderCommandsForBatchEvents(loaded.state, batch.events)) {
    orders.push(await decideOnStream(session, orderStream, orderCommand, metadata));
  }
  const positions = orders.map((order) => (order.kind === 'appended' ? order.position : 0));
  return { ...batch, orders, position: Math.max(batch.position, ...positions) };
}
