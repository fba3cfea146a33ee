import { Injectable } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type {
  AcceptRefundBatch,
  CompleteRefundBatch,
  FlagOverdueRefundBatch,
  RefundBatchCommand,
  RejectRefundBatch,
  SubmitRefundBatch,
} from '@ledger/domain';
import type { CommandContext } from '../stream/command-step';
import { PostgresStreamSessions } from '../stream/postgres-stream-session';
import type { RefundBatchDecision } from '../stream/refund-batch-step';
import { runOnRefundBatch } from '../stream/run-on-streams';

// The commands of one refund batch stream: each decided by the batch's decider in the command step, with
// the order commands its events call for, in one transaction retried on a lost race.

abstract class RefundBatchStreamCommand<C extends RefundBatchCommand> extends Command<RefundBatchDecision> {
  constructor(
    readonly command: C,
    readonly context: CommandContext = {},
  ) {
    super();
  }
}

// Injectable for its constructor's metadata, which the handlers inherit.
@Injectable()
abstract class RefundBatchStreamHandler<C extends RefundBatchCommand> {
  constructor(private readonly sessions: PostgresStreamSessions) {}

  execute({ command, context }: RefundBatchStreamCommand<C>): Promise<RefundBatchDecision> {
    return runOnRefundBatch(this.sessions, command, context);
  }
}

/**
 * `RefundBatchSubmitted` under a batch_no already allocated, with each record's reservation on its order;
 * refused as a whole when one order refuses its reservation.
 */
export class SubmitRefundBatchCommand extends RefundBatchStreamCommand<SubmitRefundBatch> {}

@CommandHandler(SubmitRefundBatchCommand)
export class SubmitRefundBatchHandler
  extends RefundBatchStreamHandler<SubmitRefundBatch>
  implements ICommandHandler<SubmitRefundBatchCommand> {}

/** The nopwd gateway's answer: `RefundBatchAccepted`, or `RefundBatchRejected` releasing the reservations. */
export class AnswerRefundBatchCommand extends RefundBatchStreamCommand<
  AcceptRefundBatch | RejectRefundBatch
> {}

@CommandHandler(AnswerRefundBatchCommand)
export class AnswerRefundBatchHandler
  extends RefundBatchStreamHandler<AcceptRefundBatch | RejectRefundBatch>
  implements ICommandHandler<AnswerRefundBatchCommand> {}

/** A batch's result that did not come through the inbox (an import): completed, each record on its order. */
export class CompleteRefundBatchCommand extends RefundBatchStreamCommand<CompleteRefundBatch> {}

@CommandHandler(CompleteRefundBatchCommand)
export class CompleteRefundBatchHandler
  extends RefundBatchStreamHandler<CompleteRefundBatch>
  implements ICommandHandler<CompleteRefundBatchCommand> {}

/** The periodic check: a batch still without a result long after its submission is flagged, once. */
export class FlagOverdueRefundBatchCommand extends RefundBatchStreamCommand<FlagOverdueRefundBatch> {}

@CommandHandler(FlagOverdueRefundBatchCommand)
export class FlagOverdueRefundBatchHandler
  extends RefundBatchStreamHandler<FlagOverdueRefundBatch>
  implements ICommandHandler<FlagOverdueRefundBatchCommand> {}

export const REFUND_BATCH_STREAM_HANDLERS = [
  SubmitRefundBatchHandler,
  AnswerRefundBatchHandler,
  CompleteRefundBatchHandler,
  FlagOverdueRefundBatchHandler,
];
