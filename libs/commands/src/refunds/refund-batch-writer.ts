import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  asRefundBatchEvent,
  decideRefundBatch,
  evolveRefundBatch,
  initialRefundBatchState,
  orderCommandsForBatchEvent,
  refundBatchStreamId,
  type RefundBatchCommand,
  type RefundBatchEvent,
  type RefundBatchState,
  type ReserveBatchRefund,
} from '@ledger/domain';
import { EventStore, withAppendRetry, type EventMetadata, type RecordedEvent } from '@ledger/event-store';
import { DataSource, type EntityManager } from 'typeorm';
import type { CommandContext } from '../orders/order-commands';
import { decideOnOrderStream, type OrderDecision } from '../orders/order-stream-writer';

/** An event a batch command appended to the batch stream, with its stream version. */
export interface AppendedBatchEvent {
  type: RefundBatchEvent['type'];
  data: RefundBatchEvent['data'];
  version: number;
}

/** What one command did to a refund batch stream and to the order streams it touches, in one transaction. */
export interface RefundBatchDecision {
  streamId: string;
  /** The batch stream's version after the command. */
  version: number;
  events: AppendedBatchEvent[];
  state: RefundBatchState;
  /** The order streams the batch events reached: reservations, releases, results (sorted by order). */
  orders: OrderDecision[];
  /** The transaction, and the highest global position it wrote: what to wait for (absent if nothing was). */
  transactionId?: string;
  position?: number;
  /** The lowest global position it wrote: the batch stream's first event, appended before the orders'. */
  firstPosition?: number;
}

/** Folds a refund batch stream's stored events; unknown types are a newer writer's and are skipped. */
export function foldRefundBatchStream(recorded: readonly RecordedEvent[]): RefundBatchState {
  let state = initialRefundBatchState();
  for (const event of recorded) {
    const known = asRefundBatchEvent(event.type, event.data);
    if (known !== undefined) state = evolveRefundBatch(state, known);
  }
  return state;
}

type BatchOrderCommand = ReserveBatchRefund | ReturnType<typeof orderCommandsForBatchEvent>[number];

/** The order commands the batch's new events call for: a submission reserves each record's amount. */
function orderCommandsOf(before: RefundBatchState, events: readonly RefundBatchEvent[]): BatchOrderCommand[] {
  const commands: BatchOrderCommand[] = [];
  let state = before;
  for (const event of events) {
    if (event.type === 'RefundBatchSubmitted') {
      for (const item of event.data.items) {
        commands.push({
          type: 'ReserveBatchRefund',
          outTradeNo: item.outTradeNo,
          batchNo: event.data.batchNo,
          amount: item.amount,
          reason: item.reason,
          requestedAt: event.data.submittedAt,
        });
      }
    } else {
      commands.push(...orderCommandsForBatchEvent(event, state));
    }
    state = evolveRefundBatch(state, event);
  }
  // One lock order for every writer: two batches over the same orders cannot deadlock.
  return commands.sort((a, b) => (a.outTradeNo < b.outTradeNo ? -1 : a.outTradeNo > b.outTradeNo ? 1 : 0));
}

/**
 * One attempt of a refund batch command, in the caller's transaction (issue 5 §1–§3): load the batch
 * stream, decide, append the batch events with the expected version, then run the order commands those
 * events call for (reservations on submission, releases on rejection, each record's result on completion)
 * on their order streams with their expected versions. Everything commits together or not at all, so a
 * batch is never submitted without its reservations, and two batches racing for the last refundable fen
 * cannot both reserve it: the loser's order stream moved, its retry decides again and is refused
 * (`REFUND_EXCEEDS_REFUNDABLE` or the like, a DomainError that rolls the whole batch back).
 */
export async function decideOnRefundBatch(
  store: EventStore,
  command: RefundBatchCommand,
  metadata: EventMetadata,
  manager: EntityManager,
): Promise<RefundBatchDecision> {
  const streamId = refundBatchStreamId(command.batchNo);
  const recorded = await store.readStream(streamId, 1, { manager });
  const before = foldRefundBatchStream(recorded);
  const decided = decideRefundBatch(command, before);
  const version = recorded.length;
  if (decided.length === 0) return { streamId, version, events: [], state: before, orders: [] };

  const appended = await store.append(
    streamId,
    version === 0 ? 'no_stream' : version,
    decided.map((event) => ({ type: event.type, data: event.data, metadata })),
    { manager },
  );
  const orders: OrderDecision[] = [];
  for (const orderCommand of orderCommandsOf(before, decided)) {
    orders.push(await decideOnOrderStream(store, orderCommand, metadata, manager));
  }
  const positions = [appended.lastPosition, ...orders.map((order) => order.position ?? 0)];
  return {
    streamId,
    version: appended.nextExpectedVersion,
    events: decided.map((event, index) => ({
      type: event.type,
      data: event.data,
      version: version + index + 1,
    })),
    state: decided.reduce(evolveRefundBatch, before),
    orders,
    transactionId: appended.transactionId,
    position: Math.max(...positions),
    firstPosition: appended.firstPosition,
  };
}

/** Lost races are decided again this many times, each in a new transaction. */
const BATCH_ATTEMPTS = 8;

/**
 * Runs refund batch commands (STYLE habit 4) for the API and the background checks; the notification
 * pipeline calls `decideOnRefundBatch` in its own transaction, next to the notify_id's key.
 *
 * @throws DomainError the deciders' refusals (`INVALID_BATCH`, `BATCH_CONFLICT`, `BATCH_NOT_FOUND`, and the
 *   order's refusal of a reservation).
 */
@Injectable()
export class RefundBatchCommands {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly store: EventStore,
  ) {}

  execute(command: RefundBatchCommand, context: CommandContext = {}): Promise<RefundBatchDecision> {
    const correlationId = context.correlationId ?? context.causationId;
    const metadata: EventMetadata = {
      ...(context.causationId === undefined ? {} : { causationId: context.causationId }),
      ...(correlationId === undefined ? {} : { correlationId }),
    };
    return withAppendRetry(
      () =>
        this.dataSource.transaction((manager) => decideOnRefundBatch(this.store, command, metadata, manager)),
      { attempts: BATCH_ATTEMPTS },
    );
  }

  /** The batch as its stream tells it now (strongly consistent), with the stream's version (0: none). */
  async load(batchNo: string): Promise<{ streamId: string; version: number; state: RefundBatchState }> {
    const streamId = refundBatchStreamId(batchNo);
    const recorded = await this.store.readStream(streamId);
    return { streamId, version: recorded.length, state: foldRefundBatchStream(recorded) };
  }
}
