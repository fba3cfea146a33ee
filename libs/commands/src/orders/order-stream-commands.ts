import { Injectable } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type {
  CompleteDelivery,
  CompleteReturn,
  ConfirmShipping,
  ImportOrderStatus,
  OrderCommand,
  PlaceOrder,
  RecordTradeStatus,
} from '@ledger/domain';
import type { CommandContext } from '../stream/command-step';
import { PostgresStreamSessions } from '../stream/postgres-stream-session';
import type { OrderDecision } from '../stream/refund-batch-step';
import { runOnOrder } from '../stream/run-on-streams';

// The commands of one order stream: each decided by the order's decider in the command step and appended
// with the expected version, retried on a lost race. Their handlers differ only by what they accept.

abstract class OrderStreamCommand<C extends OrderCommand> extends Command<OrderDecision> {
  constructor(
    readonly command: C,
    readonly context: CommandContext = {},
  ) {
    super();
  }
}

// Injectable for its constructor's metadata, which the handlers inherit.
@Injectable()
abstract class OrderStreamHandler<C extends OrderCommand> {
  constructor(private readonly sessions: PostgresStreamSessions) {}

  execute({ command, context }: OrderStreamCommand<C>): Promise<OrderDecision> {
    return runOnOrder(this.sessions, command, context);
  }
}

/** `OrderPlaced` (POST /orders); nothing for the same order again; `ORDER_CONFLICT` for another one. */
export class PlaceOrderCommand extends OrderStreamCommand<PlaceOrder> {}

@CommandHandler(PlaceOrderCommand)
export class PlaceOrderHandler
  extends OrderStreamHandler<PlaceOrder>
  implements ICommandHandler<PlaceOrderCommand> {}

/** A trade status that did not come through the inbox (an import): the notification's facts, recorded. */
export class RecordTradeStatusCommand extends OrderStreamCommand<RecordTradeStatus> {}

@CommandHandler(RecordTradeStatusCommand)
export class RecordTradeStatusHandler
  extends OrderStreamHandler<RecordTradeStatus>
  implements ICommandHandler<RecordTradeStatusCommand> {}

/** `OrderStatusImported`: the PHP integration's status of an order its notifications do not explain. */
export class ImportOrderStatusCommand extends OrderStreamCommand<ImportOrderStatus> {}

@CommandHandler(ImportOrderStatusCommand)
export class ImportOrderStatusHandler
  extends OrderStreamHandler<ImportOrderStatus>
  implements ICommandHandler<ImportOrderStatusCommand> {}

/** `DeliveryCompleted` once the fulfilment hook delivered; nothing when already recorded. */
export class CompleteDeliveryCommand extends OrderStreamCommand<CompleteDelivery> {}

@CommandHandler(CompleteDeliveryCommand)
export class CompleteDeliveryHandler
  extends OrderStreamHandler<CompleteDelivery>
  implements ICommandHandler<CompleteDeliveryCommand> {}

/** `ReturnCompleted` once the goods were taken back; nothing when already recorded. */
export class CompleteReturnCommand extends OrderStreamCommand<CompleteReturn> {}

@CommandHandler(CompleteReturnCommand)
export class CompleteReturnHandler
  extends OrderStreamHandler<CompleteReturn>
  implements ICommandHandler<CompleteReturnCommand> {}

/** One `send_goods_confirm_by_platform` answer: `ShippingConfirmed` or `ShippingConfirmationFailed`. */
export class ConfirmShippingCommand extends OrderStreamCommand<ConfirmShipping> {}

@CommandHandler(ConfirmShippingCommand)
export class ConfirmShippingHandler
  extends OrderStreamHandler<ConfirmShipping>
  implements ICommandHandler<ConfirmShippingCommand> {}

export const ORDER_STREAM_HANDLERS = [
  PlaceOrderHandler,
  ImportOrderStatusHandler,
  RecordTradeStatusHandler,
  CompleteDeliveryHandler,
  CompleteReturnHandler,
  ConfirmShippingHandler,
];
