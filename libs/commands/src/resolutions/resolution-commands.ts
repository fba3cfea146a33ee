import { Injectable } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type {
  CancelRefundBatch,
  ExpireRefundBatch,
  MarkRefundBatchOutcome,
  MarkRefundBatchOutcomeUnknown,
  RefundBatchCommand,
  ResolveAnomalies,
} from '@ledger/domain';
import type { CommandContext } from '../stream/command-step';
import { PostgresStreamSessions } from '../stream/postgres-stream-session';
import type { OrderDecision, RefundBatchDecision } from '../stream/refund-batch-step';
import { runOnOrder, runOnRefundBatch } from '../stream/run-on-streams';

// Decisions that settle what Alipay's answers leave open (docs/product-rules.md, "Operator resolutions"):
// an operator's, with who and why, or the ledger's own expiry. Each runs the command step like every other
// write; a batch's release reaches its orders in the same transaction.

abstract class BatchResolutionCommand<C extends RefundBatchCommand> extends Command<RefundBatchDecision> {
  constructor(
    readonly command: C,
    readonly context: CommandContext = {},
  ) {
    super();
  }
}

// Injectable for its constructor's metadata, which the handlers inherit.
@Injectable()
abstract class BatchResolutionHandler<C extends RefundBatchCommand> {
  constructor(private readonly sessions: PostgresStreamSessions) {}

  execute({ command, context }: BatchResolutionCommand<C>): Promise<RefundBatchDecision> {
    return runOnRefundBatch(this.sessions, command, context);
  }
}

/** A nopwd call went unanswered: `RefundBatchOutcomeUnknown`, once; the reservations are held. */
export class MarkRefundBatchOutcomeUnknownCommand extends BatchResolutionCommand<MarkRefundBatchOutcomeUnknown> {}

@CommandHandler(MarkRefundBatchOutcomeUnknownCommand)
export class MarkRefundBatchOutcomeUnknownHandler
  extends BatchResolutionHandler<MarkRefundBatchOutcomeUnknown>
  implements ICommandHandler<MarkRefundBatchOutcomeUnknownCommand> {}

/** The operator cancels a waiting pwd batch: `RefundBatchCancelled`, each reservation released. */
export class CancelRefundBatchCommand extends BatchResolutionCommand<CancelRefundBatch> {}

@CommandHandler(CancelRefundBatchCommand)
export class CancelRefundBatchHandler
  extends BatchResolutionHandler<CancelRefundBatch>
  implements ICommandHandler<CancelRefundBatchCommand> {}

/** The periodic check: a pwd batch unconfirmed for too long expires, each reservation released. */
export class ExpireRefundBatchCommand extends BatchResolutionCommand<ExpireRefundBatch> {}

@CommandHandler(ExpireRefundBatchCommand)
export class ExpireRefundBatchHandler
  extends BatchResolutionHandler<ExpireRefundBatch>
  implements ICommandHandler<ExpireRefundBatchCommand> {}

/** The operator's reading of Alipay's console: accepted holds the reservations, not accepted releases them. */
export class MarkRefundBatchOutcomeCommand extends BatchResolutionCommand<MarkRefundBatchOutcome> {}

@CommandHandler(MarkRefundBatchOutcomeCommand)
export class MarkRefundBatchOutcomeHandler
  extends BatchResolutionHandler<MarkRefundBatchOutcome>
  implements ICommandHandler<MarkRefundBatchOutcomeCommand> {}

/** The operator accepts or confirms the order's open anomalies: `AnomalyResolved`. */
export class ResolveAnomaliesCommand extends Command<OrderDecision> {
  constructor(
    readonly command: ResolveAnomalies,
    readonly context: CommandContext = {},
  ) {
    super();
  }
}

@CommandHandler(ResolveAnomaliesCommand)
export class ResolveAnomaliesHandler implements ICommandHandler<ResolveAnomaliesCommand> {
  constructor(private readonly sessions: PostgresStreamSessions) {}

  execute({ command, context }: ResolveAnomaliesCommand): Promise<OrderDecision> {
    return runOnOrder(this.sessions, command, context);
  }
}

export const RESOLUTION_HANDLERS = [
  MarkRefundBatchOutcomeUnknownHandler,
  CancelRefundBatchHandler,
  ExpireRefundBatchHandler,
  MarkRefundBatchOutcomeHandler,
  ResolveAnomaliesHandler,
];
