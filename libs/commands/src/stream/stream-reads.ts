import { Injectable } from '@nestjs/common';
import type {
  OrderState,
  RefundBatchAccepted,
  RefundBatchRejected,
  RefundBatchState,
  RefundBatchSubmitted,
} from '@ledger/domain';
import type { LoadedStream } from './command-step';
import { PostgresStreamSessions } from './postgres-stream-session';
import { loadOrder, loadRefundBatch } from './run-on-streams';

/** A batch as its stream tells it now (strongly consistent). */
export interface RefundBatchView {
  batchNo: string;
  status: Exclude<RefundBatchState['status'], 'none'>;
  submitted: RefundBatchSubmitted['data'];
  /** The gateway's acceptance (nopwd), once recorded. */
  acceptance?: RefundBatchAccepted['data'];
  /** The gateway's rejection (nopwd), once recorded. */
  rejection?: RefundBatchRejected['data'];
  /** The unanswered call that left the outcome unknown, once recorded. */
  outcomeUnknown?: RefundBatchState['outcomeUnknown'];
  /** The `F` a resend got while the outcome was unknown: no further resend is made. */
  resendRejection?: RefundBatchState['resendRejection'];
  /** The cancellation, expiry or operator's mark that settled the batch. */
  resolution?: RefundBatchState['resolution'];
}

/** The view of a batch's state, or undefined when no batch was submitted under `batchNo`. */
export function refundBatchViewOf(batchNo: string, state: RefundBatchState): RefundBatchView | undefined {
  const { status, submitted, acceptance, rejection, outcomeUnknown, resendRejection, resolution } = state;
  if (status === 'none' || submitted === undefined) return undefined;
  return {
    batchNo,
    status,
    submitted,
    ...(acceptance === undefined ? {} : { acceptance }),
    ...(rejection === undefined ? {} : { rejection }),
    ...(outcomeUnknown === undefined ? {} : { outcomeUnknown }),
    ...(resendRejection === undefined ? {} : { resendRejection }),
    ...(resolution === undefined ? {} : { resolution }),
  };
}

/**
 * Streams as they stand now, folded by the same stream definitions as the commands: strongly consistent
 * reads, unlike the projections, for the processes that decide what to do next from a stream (docs/commands.md).
 */
@Injectable()
export class StreamReads {
  constructor(private readonly sessions: PostgresStreamSessions) {}

  /**
   * The order, with its stream's version (0: never placed).
   * @throws DomainError `INVALID_OUT_TRADE_NO`.
   */
  order(outTradeNo: string): Promise<LoadedStream<OrderState>> {
    return loadOrder(this.sessions.session(), outTradeNo);
  }

  /** The refund batch, with its stream's version (0: never submitted). */
  refundBatch(batchNo: string): Promise<LoadedStream<RefundBatchState>> {
    return loadRefundBatch(this.sessions.session(), batchNo);
  }

  /** The refund batch as the API and the sender read it, or undefined when it was never submitted. */
  async refundBatchView(batchNo: string): Promise<RefundBatchView | undefined> {
    return refundBatchViewOf(batchNo, (await this.refundBatch(batchNo)).state);
  }
}
