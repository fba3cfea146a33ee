import { type IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import {
  DomainError,
  decideOrder,
  refundableFee,
  reservedFee,
  type DomainErrorCode,
  type Fen,
} from '@ledger/domain';
import { StreamReads } from '../stream/stream-reads';
import type { RefundRequestItem } from './request-refund-batch';

/** One record of a batch as it would be submitted now, with what its order can still refund. */
export interface RefundPreviewRecord {
  outTradeNo: string;
  amount: Fen;
  reason: string;
  /** The order's trade_no, once its payment is recognised. */
  tradeNo: string | null;
  subject: string | null;
  paidFee: Fen;
  refundedFee: Fen;
  /** Held by batches in flight. */
  reservedFee: Fen;
  /** paid − refunded − reserved: what a new batch may take. */
  refundableFee: Fen;
  /** Why the ledger would refuse this record, when it would. */
  refusal: { code: DomainErrorCode; message: string } | null;
}

export interface RefundBatchPreview {
  records: RefundPreviewRecord[];
  totalAmount: Fen;
  /** Every record would be accepted: submitting the same records now would record the batch. */
  acceptable: boolean;
}

/**
 * What `RequestRefundBatchCommand` would decide for these records now (docs/operations.md, "Submitting a
 * batch"), without writing anything: no batch_no is taken, nothing is reserved. Every record is checked, not
 * only up to the first refusal, so that a preview names all of them. A batch submitted later is checked
 * again: another batch may have taken the amount meanwhile.
 */
export class PreviewRefundBatchQuery extends Query<RefundBatchPreview> {
  constructor(
    readonly items: readonly RefundRequestItem[],
    readonly now = new Date(),
  ) {
    super();
  }
}

/** A batch_no no order holds a reservation under: the order's decider is asked as for a new batch. */
const PREVIEW_BATCH_NO = 'preview';

@QueryHandler(PreviewRefundBatchQuery)
export class PreviewRefundBatchHandler implements IQueryHandler<PreviewRefundBatchQuery> {
  constructor(private readonly reads: StreamReads) {}

  async execute({ items, now }: PreviewRefundBatchQuery): Promise<RefundBatchPreview> {
    const firstIndex = new Map<string, number>();
    const records: RefundPreviewRecord[] = [];
    for (const [index, item] of items.entries()) {
      const first = firstIndex.get(item.outTradeNo);
      if (first === undefined) firstIndex.set(item.outTradeNo, index);
      records.push(
        await this.check(
          item,
          now,
          first === undefined
            ? undefined
            : {
                code: 'INVALID_BATCH',
                message: `order ${item.outTradeNo} is already in the batch (row ${first + 1}); a trade is refunded at most once per batch`,
              },
        ),
      );
    }
    return {
      records,
      totalAmount: records.reduce((sum, record) => sum + record.amount, 0),
      acceptable: records.length > 0 && records.every((record) => record.refusal === null),
    };
  }

  private async check(
    item: RefundRequestItem,
    now: Date,
    duplicate: RefundPreviewRecord['refusal'] | undefined,
  ): Promise<RefundPreviewRecord> {
    const record: RefundPreviewRecord = {
      outTradeNo: item.outTradeNo,
      amount: item.amount,
      reason: item.reason,
      tradeNo: null,
      subject: null,
      paidFee: 0,
      refundedFee: 0,
      reservedFee: 0,
      refundableFee: 0,
      refusal: duplicate ?? null,
    };
    try {
      const { state } = await this.reads.order(item.outTradeNo);
      record.tradeNo = state.tradeNo ?? null;
      record.subject = state.placed?.subject ?? null;
      record.paidFee = state.paidFee;
      record.refundedFee = state.refundedFee;
      record.reservedFee = reservedFee(state);
      record.refundableFee = refundableFee(state);
      if (record.refusal !== null) return record;
      decideOrder(
        {
          type: 'ReserveBatchRefund',
          outTradeNo: item.outTradeNo,
          batchNo: PREVIEW_BATCH_NO,
          amount: item.amount,
          reason: item.reason,
          requestedAt: now.toISOString(),
        },
        state,
      );
      if (item.tradeNo !== undefined && item.tradeNo !== state.tradeNo) {
        record.refusal = {
          code: 'ORDER_NOT_FOUND',
          message: `trade ${item.tradeNo} is not the trade of order ${item.outTradeNo}`,
        };
      }
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      record.refusal = { code: error.code, message: error.message };
    }
    return record;
  }
}
