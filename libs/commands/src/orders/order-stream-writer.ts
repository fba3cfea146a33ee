import {
  asOrderEvent,
  decideOrder,
  evolveOrder,
  initialOrderState,
  orderStreamId,
  type OrderCommand,
  type OrderEvent,
  type OrderState,
} from '@ledger/domain';
import type {
  AppendResult,
  EventMetadata,
  EventStore,
  ExpectedVersion,
  NewEvent,
  RecordedEvent,
} from '@ledger/event-store';
import type { EntityManager } from 'typeorm';

/** An event a command appended: its stream version (global positions are `firstPosition`..`position`). */
export interface AppendedOrderEvent {
  type: OrderEvent['type'];
  data: OrderEvent['data'];
  version: number;
}

/** The outcome of one load → decide → append on an order stream. */
export interface OrderDecision {
  streamId: string;
  /** The stream's version after the command: its number of events. */
  version: number;
  /** What was appended, in order; empty when the command brought no new fact. */
  events: AppendedOrderEvent[];
  /** The appending transaction (absent when nothing was appended). */
  transactionId?: string;
  /** The global position of the first appended event (absent when nothing was appended). */
  firstPosition?: number;
  /** The global position of the last appended event: with `transactionId`, what to wait for. */
  position?: number;
  /** The order after the command. */
  state: OrderState;
}

/** Folds an order stream's stored events; types this code does not know are skipped (a newer writer's). */
export function foldOrderStream(recorded: readonly RecordedEvent[]): OrderState {
  let state = initialOrderState();
  for (const event of recorded) {
    const known = asOrderEvent(event.type, event.data);
    if (known !== undefined) state = evolveOrder(state, known);
  }
  return state;
}

/** A command decided on the stream as it was read: what to append, at which expected version. */
export interface PendingDecision {
  streamId: string;
  /** The stream's version when it was read. */
  version: number;
  before: OrderState;
  decided: OrderEvent[];
}

/** Loads the command's order stream (in the caller's transaction when `manager` is given) and decides. */
export async function loadAndDecide(
  store: EventStore,
  command: OrderCommand,
  manager?: EntityManager,
): Promise<PendingDecision> {
  const streamId = orderStreamId(command.outTradeNo);
  const recorded = await store.readStream(streamId, 1, { manager });
  const before = foldOrderStream(recorded);
  return { streamId, version: recorded.length, before, decided: decideOrder(command, before) };
}

/**
 * Appends what was decided with the version it was decided on. A stream that moved meanwhile throws the
 * store's retryable error: the caller loads and decides again (`withAppendRetry`), in a new transaction.
 */
export async function appendDecision(
  store: EventStore,
  pending: PendingDecision,
  metadata: EventMetadata,
  manager?: EntityManager,
): Promise<OrderDecision> {
  const { streamId, version, before, decided } = pending;
  if (decided.length === 0) return { streamId, version, events: [], state: before };
  const appended = await store.append(streamId, expectedVersionOf(pending), newEventsOf(pending, metadata), {
    manager,
  });
  return appendedDecision(pending, appended);
}

/** The expected version to append a pending decision with. */
export function expectedVersionOf(pending: PendingDecision): ExpectedVersion {
  return pending.version === 0 ? 'no_stream' : pending.version;
}

/** The events of a pending decision as the store takes them. */
export function newEventsOf(pending: PendingDecision, metadata: EventMetadata): NewEvent[] {
  return pending.decided.map((event) => ({ type: event.type, data: event.data, metadata }));
}

/** A pending decision once its events were appended where `appended` says. */
export function appendedDecision(pending: PendingDecision, appended: AppendResult): OrderDecision {
  const { streamId, version, before, decided } = pending;
  return {
    streamId,
    version: appended.nextExpectedVersion,
    events: decided.map((event, index) => ({
      type: event.type,
      data: event.data,
      version: version + index + 1,
    })),
    transactionId: appended.transactionId,
    firstPosition: appended.firstPosition,
    position: appended.lastPosition,
    state: decided.reduce(evolveOrder, before),
  };
}

/**
 * One attempt of a command on its order stream (STYLE habit 4): load the stream, decide, append with the
 * expected version. In the caller's transaction when `manager` is given. A lost race throws the store's
 * retryable error: the caller runs the attempt again (`withAppendRetry`), in a new transaction.
 */
export async function decideOnOrderStream(
  store: EventStore,
  command: OrderCommand,
  metadata: EventMetadata,
  manager?: EntityManager,
): Promise<OrderDecision> {
  return appendDecision(store, await loadAndDecide(store, command, manager), metadata, manager);
}
