import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { RefundBatchCommand, RefundBatchState } from '@ledger/domain';
import type { CommandContext, LoadedStream, WithOptionalLanding } from '../stream/command-step';
import { PostgresStreamSessions } from '../stream/postgres-stream-session';
import type { RefundBatchDecision } from '../stream/refund-batch-step';
import { loadRefundBatch } from '../stream/run-on-streams';
import {
  AnswerRefundBatchCommand,
  CompleteRefundBatchCommand,
  FlagOverdueRefundBatchCommand,
  SubmitRefundBatchCommand,
} from './refund-batch-commands';

/** What a refund batch command did, as the workers read it. */
export type RefundBatchCommandResult = WithOptionalLanding<RefundBatchDecision>;

/**
 * Refund batch commands for callers written before the command bus (the background workers): each one is
 * dispatched on the bus, so that it goes through the one command path.
 *
 * @throws DomainError the deciders' refusals (`INVALID_BATCH`, `BATCH_CONFLICT`, `BATCH_NOT_FOUND`, and the
 *   order's refusal of a reservation).
 */
@Injectable()
export class RefundBatchCommands {
  constructor(
    private readonly bus: CommandBus,
    private readonly sessions: PostgresStreamSessions,
  ) {}

  execute(command: RefundBatchCommand, context: CommandContext = {}): Promise<RefundBatchCommandResult> {
    switch (command.type) {
      case 'SubmitRefundBatch':
        return this.bus.execute(new SubmitRefundBatchCommand(command, context));
      case 'AcceptRefundBatch':
      case 'RejectRefundBatch':
        return this.bus.execute(new AnswerRefundBatchCommand(command, context));
      case 'CompleteRefundBatch':
        return this.bus.execute(new CompleteRefundBatchCommand(command, context));
      case 'FlagOverdueRefundBatch':
        return this.bus.execute(new FlagOverdueRefundBatchCommand(command, context));
    }
  }

  /** The batch as its stream tells it now (strongly consistent), with the stream's version (0: none). */
  load(batchNo: string): Promise<LoadedStream<RefundBatchState>> {
    return loadRefundBatch(this.sessions.session(), batchNo);
  }
}
