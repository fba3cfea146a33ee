import {
  orderStreamId,
  refundBatchStreamId,
  type OrderCommand,
  type OrderState,
  type RefundBatchCommand,
  type RefundBatchState,
} from '@ledger/domain';
import {
  decideOnStream,
  loadStream,
  metadataOf,
  runCommand,
  type CommandContext,
  type LoadedStream,
} from './command-step';
import type { PostgresStreamSessions } from './postgres-stream-session';
import { decideOnRefundBatch, type OrderDecision, type RefundBatchDecision } from './refund-batch-step';
import { orderStream, refundBatchStream } from './stream-definitions';
import type { StreamSession } from './stream-session';

/** A command on its order stream, retried on a lost race: the one write of one order stream. */
export function runOnOrder(
  sessions: PostgresStreamSessions,
  command: OrderCommand,
  context?: CommandContext,
): Promise<OrderDecision> {
  return runCommand(sessions.singleStream, (session) =>
    decideOnStream(session, orderStream, command, metadataOf(context)),
  );
}

/** A command on its refund batch stream and the orders it reaches, in one transaction, retried on a lost race. */
export function runOnRefundBatch(
  sessions: PostgresStreamSessions,
  command: RefundBatchCommand,
  context?: CommandContext,
): Promise<RefundBatchDecision> {
  return runCommand(sessions, (session) => decideOnRefundBatch(session, command, metadataOf(context)));
}

/** The order as its stream tells it now (strongly consistent, unlike the projections). */
export async function loadOrder(
  session: StreamSession,
  outTradeNo: string,
): Promise<LoadedStream<OrderState>> {
  return loadStream(session, orderStream, orderStreamId(outTradeNo));
}

/** The refund batch as its stream tells it now (strongly consistent). */
export async function loadRefundBatch(
  session: StreamSession,
  batchNo: string,
): Promise<LoadedStream<RefundBatchState>> {
  return loadStream(session, refundBatchStream, refundBatchStreamId(batchNo));
}
