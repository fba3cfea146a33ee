import { Injectable } from '@nestjs/common';
import {
  orderStreamId,
  type CompleteDelivery,
  type CompleteReturn,
  type ConfirmShipping,
  type OrderCommand,
  type OrderState,
  type PlaceOrder,
} from '@ledger/domain';
import { EventStore, withAppendRetry } from '@ledger/event-store';
import { decideOnOrderStream, foldOrderStream, type OrderDecision } from './order-stream-writer';

/** Who asked: recorded as the events' metadata (SPEC §3: causation and correlation). */
export interface CommandContext {
  /** What caused the command: an inbox id (a notification), a request id (an API call), an event id. */
  causationId?: string;
  /** Groups everything one external input set in motion; defaults to the causation id. */
  correlationId?: string;
}

/**
 * What a command did. `transactionId` and `position` are present when events were appended: pass
 * `{ transactionId, position }` to `waitForProjections` for read-your-writes.
 */
export type OrderCommandResult = OrderDecision;

/** An order as its stream tells it, with the stream's version. */
export interface OrderSnapshot {
  streamId: string;
  /** 0 when the stream does not exist. */
  version: number;
  state: OrderState;
}

/** How many times a command is decided again after losing a race for its stream. */
const COMMAND_ATTEMPTS = 8;

/**
 * Runs commands on order streams (STYLE habit 4): load the stream, `decideOrder`, append with the expected
 * version, and on a lost race (`WRONG_EXPECTED_VERSION`, `STREAM_ORDER_CONFLICT`) reload and decide again,
 * a bounded number of times. A command that brings no new fact appends nothing and succeeds.
 *
 * @throws DomainError the decider's refusal (`ORDER_CONFLICT`, `INVALID_ORDER`, `DELIVERY_NOT_DUE`...).
 * @throws EventStoreError `WRONG_EXPECTED_VERSION` / `STREAM_ORDER_CONFLICT` when every attempt lost its race.
 */
@Injectable()
export class OrderCommands {
  constructor(private readonly store: EventStore) {}

  /** Any command on the order stream of `command.outTradeNo`. */
  execute(command: OrderCommand, context: CommandContext = {}): Promise<OrderCommandResult> {
    const metadata = {
      ...(context.causationId === undefined ? {} : { causationId: context.causationId }),
      ...((context.correlationId ?? context.causationId) === undefined
        ? {}
        : { correlationId: context.correlationId ?? context.causationId }),
    };
    return withAppendRetry(() => decideOnOrderStream(this.store, command, metadata), {
      attempts: COMMAND_ATTEMPTS,
    });
  }

  /** `OrderPlaced`, nothing for the same order again, `ORDER_CONFLICT` for another one under the same number. */
  placeOrder(command: PlaceOrder, context?: CommandContext): Promise<OrderCommandResult> {
    return this.execute(command, context);
  }

  /** `DeliveryCompleted` once the fulfilment hook delivered; nothing when already recorded. */
  completeDelivery(command: CompleteDelivery, context?: CommandContext): Promise<OrderCommandResult> {
    return this.execute(command, context);
  }

  /** `ReturnCompleted` once the goods were taken back; nothing when already recorded. */
  completeReturn(command: CompleteReturn, context?: CommandContext): Promise<OrderCommandResult> {
    return this.execute(command, context);
  }

  /** Records one `send_goods_confirm_by_platform` answer: `ShippingConfirmed` or `ShippingConfirmationFailed`. */
  confirmShipping(command: ConfirmShipping, context?: CommandContext): Promise<OrderCommandResult> {
    return this.execute(command, context);
  }

  /**
   * The order as its stream tells it now (a strongly consistent read, unlike the projections).
   * @throws DomainError `INVALID_OUT_TRADE_NO`.
   */
  async load(outTradeNo: string): Promise<OrderSnapshot> {
    const streamId = orderStreamId(outTradeNo);
    const recorded = await this.store.readStream(streamId);
    return { streamId, version: recorded.length, state: foldOrderStream(recorded) };
  }
}
