import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type {
  CompleteDelivery,
  CompleteReturn,
  ConfirmShipping,
  OrderCommand,
  OrderState,
  PlaceOrder,
} from '@ledger/domain';
import type { CommandContext, WithOptionalLanding } from '../stream/command-step';
import { PostgresStreamSessions } from '../stream/postgres-stream-session';
import type { OrderDecision } from '../stream/refund-batch-step';
import { loadOrder } from '../stream/run-on-streams';
import {
  CompleteDeliveryCommand,
  CompleteReturnCommand,
  ConfirmShippingCommand,
  PlaceOrderCommand,
  RecordTradeStatusCommand,
} from './order-stream-commands';

/** What an order command did (`kind`: `appended` or `no_new_fact`), as the workers read it. */
export type OrderCommandResult = WithOptionalLanding<OrderDecision>;

/** An order as its stream tells it, with the stream's version. */
export interface OrderSnapshot {
  streamId: string;
  /** 0 when the stream does not exist. */
  version: number;
  state: OrderState;
}

/**
 * Order commands for callers written before the command bus (the background workers): each method
 * dispatches its command on the bus, so that they go through the one command path.
 *
 * @throws DomainError the decider's refusal (`ORDER_CONFLICT`, `INVALID_ORDER`, `DELIVERY_NOT_DUE`...).
 * @throws EventStoreError `WRONG_EXPECTED_VERSION` / `STREAM_ORDER_CONFLICT` when every attempt lost its race.
 */
@Injectable()
export class OrderCommands {
  constructor(
    private readonly bus: CommandBus,
    private readonly sessions: PostgresStreamSessions,
  ) {}

  /**
   * An order command that has a command of its own on the bus. The batch's order commands (reservations,
   * releases, results) are run by their refund batch only.
   */
  execute(command: OrderCommand, context: CommandContext = {}): Promise<OrderCommandResult> {
    switch (command.type) {
      case 'PlaceOrder':
        return this.bus.execute(new PlaceOrderCommand(command, context));
      case 'RecordTradeStatus':
        return this.bus.execute(new RecordTradeStatusCommand(command, context));
      case 'CompleteDelivery':
        return this.bus.execute(new CompleteDeliveryCommand(command, context));
      case 'CompleteReturn':
        return this.bus.execute(new CompleteReturnCommand(command, context));
      case 'ConfirmShipping':
        return this.bus.execute(new ConfirmShippingCommand(command, context));
      case 'ReserveBatchRefund':
      case 'ReleaseBatchReservation':
      case 'RecordBatchRefundResult':
        throw new Error(`${command.type} is decided by its refund batch, not on its own`);
    }
  }

  placeOrder(command: PlaceOrder, context?: CommandContext): Promise<OrderCommandResult> {
    return this.execute(command, context);
  }

  completeDelivery(command: CompleteDelivery, context?: CommandContext): Promise<OrderCommandResult> {
    return this.execute(command, context);
  }

  completeReturn(command: CompleteReturn, context?: CommandContext): Promise<OrderCommandResult> {
    return this.execute(command, context);
  }

  confirmShipping(command: ConfirmShipping, context?: CommandContext): Promise<OrderCommandResult> {
    return this.execute(command, context);
  }

  /**
   * The order as its stream tells it now (a strongly consistent read, unlike the projections).
   * @throws DomainError `INVALID_OUT_TRADE_NO`.
   */
  load(outTradeNo: string): Promise<OrderSnapshot> {
    return loadOrder(this.sessions.session(), outTradeNo);
  }
}
