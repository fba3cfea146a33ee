import {
  decideOrder,
  evolveOrder,
  initialOrderState,
  orderStreamId,
  type OrderCommand,
  type OrderEvent,
} from '@ledger/domain';
import type { AppendResult, EventStore } from '@ledger/event-store';

/**
 * Load, decide, append with the expected version: what the ledger's command handlers do, for the read
 * side's tests. Undefined when the command decided nothing.
 */
export async function appendOrderCommand(
  store: EventStore,
  command: OrderCommand,
): Promise<AppendResult | undefined> {
  const streamId = orderStreamId(command.outTradeNo);
  const history = await store.readStream(streamId);
  const state = history.reduce(
    (folded, event) => evolveOrder(folded, { type: event.type, data: event.data } as OrderEvent),
    initialOrderState(),
  );
  const events = decideOrder(command, state);
  if (events.length === 0) return undefined;
  return store.append(streamId, history.length === 0 ? 'no_stream' : history.length, events);
}
