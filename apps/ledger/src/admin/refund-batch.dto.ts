import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { formatYuan } from '@ledger/alipay-protocol';
import type { RefundMode } from '@ledger/domain';
import {
  REFUND_BATCH_STATES,
  type RefundBatchListItem,
  type RefundBatchRecord,
  type RefundBatchState,
  type RefundBatchSummary,
  type RefundRecordOutcome,
} from '@ledger/projections';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { OptionalInstant, PageQuery } from './admin.dto';

// Lists of the unions, written as records so that the compiler finds a value added to one.
const MODE_SET: Record<RefundMode, true> = { pwd: true, nopwd: true };
const OUTCOME_SET: Record<RefundRecordOutcome, true> = { refunded: true, already_closed: true, failed: true };
const REFUND_MODES = Object.keys(MODE_SET) as RefundMode[];
const OUTCOMES = Object.keys(OUTCOME_SET) as RefundRecordOutcome[];

export class RefundBatchListQuery extends PageQuery {
  @ApiPropertyOptional({ enum: REFUND_BATCH_STATES })
  @IsOptional()
  @IsIn(REFUND_BATCH_STATES, { message: `must be one of ${REFUND_BATCH_STATES.join(', ')}` })
  state?: RefundBatchState;

  @ApiPropertyOptional({ enum: REFUND_MODES })
  @IsOptional()
  @IsIn(REFUND_MODES, { message: `must be one of ${REFUND_MODES.join(', ')}` })
  mode?: RefundMode;

  @ApiPropertyOptional({ description: 'Batches with a submitted record for this order' })
  @IsOptional()
  @IsString()
  @MaxLength(64, { message: 'must be an out_trade_no (1 to 64 letters, digits, _ or -)' })
  outTradeNo?: string;

  @OptionalInstant('Batches submitted at or after this instant (ISO 8601)')
  from?: string;

  @OptionalInstant('Batches submitted before this instant (ISO 8601)')
  to?: string;
}

class RefundRecordResultView {
  @ApiProperty({ example: '30.00', description: 'The amount Alipay reports for the record' })
  amount: string;

  @ApiProperty({ example: 'SUCCESS', description: "Alipay's result code for the record" })
  code: string;

  @ApiProperty({
    enum: OUTCOMES,
    description: 'SUCCESS refunded; TRADE_HAS_CLOSED usually already refunded; any other code failed',
  })
  outcome: RefundRecordOutcome;
}

class RefundBatchRecordView {
  @ApiProperty({ type: String, nullable: true, description: 'Null for a result that matches no record' })
  outTradeNo: string | null;

  @ApiProperty()
  tradeNo: string;

  @ApiProperty({ type: String, nullable: true, example: '30.00', description: 'The amount submitted' })
  amount: string | null;

  @ApiProperty({ type: String, nullable: true })
  reason: string | null;

  @ApiProperty({
    type: RefundRecordResultView,
    nullable: true,
    description: 'Null until Alipay reports the record, and for a record it left out',
  })
  result: RefundRecordResultView | null;
}

class RefundBatchAnomalyView {
  @ApiProperty({ example: 'refund_result_missing' })
  kind: string;

  @ApiProperty()
  detail: string;

  @ApiProperty({ type: String, nullable: true })
  tradeNo: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The batch_refund_notify it was found in' })
  notifyId: string | null;

  @ApiProperty()
  detectedAt: string;
}

class RefundBatchResendRejectionView {
  @ApiProperty({ example: 'BATCH_NO_DATE_ERROR' })
  code: string;

  @ApiProperty()
  at: string;
}

class RefundBatchUnansweredView {
  @ApiProperty({
    example: 'TIMEOUT',
    description:
      'Why the call went unanswered: TIMEOUT, UNREACHABLE, BAD_REPLY, INTERRUPTED (a crash during it)',
  })
  code: string;

  @ApiProperty()
  detail: string;

  @ApiProperty()
  at: string;

  @ApiProperty({
    type: RefundBatchResendRejectionView,
    nullable: true,
    description: 'The F a later resend got: recorded, nothing released, not resent again',
  })
  resendRejection: RefundBatchResendRejectionView | null;
}

class RefundBatchResolutionView {
  @ApiProperty({ enum: ['cancelled', 'expired', 'marked_accepted', 'marked_not_accepted'] })
  action: 'cancelled' | 'expired' | 'marked_accepted' | 'marked_not_accepted';

  @ApiProperty({ description: "The operator's name; `ledger` for an expiry" })
  operator: string;

  @ApiProperty()
  reason: string;

  @ApiProperty()
  at: string;
}

/** An item of `GET /admin/refund-batches`: a batch without its records. */
export class RefundBatchListItemView {
  @ApiProperty({ example: '20240501001' })
  batchNo: string;

  @ApiProperty({
    enum: REFUND_MODES,
    nullable: true,
    description: 'Null for a batch this ledger never submitted',
  })
  mode: RefundMode | null;

  @ApiProperty({ enum: REFUND_BATCH_STATES, nullable: true })
  state: RefundBatchState | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: "The gateway's error code when it rejected the batch",
  })
  error: string | null;

  @ApiProperty({ type: Number, nullable: true, description: 'batch_num: the records submitted' })
  batchNum: number | null;

  @ApiProperty({ type: String, nullable: true, example: '90.00', description: 'The sum submitted' })
  totalAmount: string | null;

  @ApiProperty({ type: Number, nullable: true, description: "Alipay's success_num, once the result is in" })
  successNum: number | null;

  @ApiProperty({ type: [RefundBatchAnomalyView] })
  anomalies: RefundBatchAnomalyView[];

  @ApiProperty({
    type: RefundBatchUnansweredView,
    nullable: true,
    description:
      'A nopwd call that went unanswered after it may have reached Alipay (state outcome_unknown until a ' +
      'result, an acceptance or an operator settles it); kept afterwards as history',
  })
  unanswered: RefundBatchUnansweredView | null;

  @ApiProperty({
    type: RefundBatchResolutionView,
    nullable: true,
    description: 'The cancellation, expiry or operator’s mark that settled the batch, with who and why',
  })
  resolution: RefundBatchResolutionView | null;

  @ApiProperty({ description: "When the ledger recorded the batch's submission; `from`/`to` filter on it" })
  submittedAt: string;

  @ApiProperty({ description: 'When the last event applied was recorded' })
  updatedAt: string;

  @ApiProperty({ description: "The batch stream's version the view reflects" })
  version: number;
}

/**
 * `GET /admin/refund-batches/:batchNo` (docs/product-rules.md, "Admin views"): amounts in yuan with two
 * decimals, times ISO 8601 UTC.
 */
export class RefundBatchView extends RefundBatchListItemView {
  @ApiProperty({
    type: [RefundBatchRecordView],
    description: 'Submitted records in submission order, then results that match none',
  })
  items: RefundBatchRecordView[];
}

export class RefundBatchPageView {
  @ApiProperty({ type: [RefundBatchListItemView] })
  items: RefundBatchListItemView[];

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Pass as `cursor` for the next page' })
  nextCursor: string | null;
}

export function toRefundBatchListItemView(batch: RefundBatchListItem): RefundBatchListItemView {
  return {
    batchNo: batch.batchNo,
    mode: batch.mode,
    state: batch.state,
    error: batch.errorCode,
    batchNum: batch.batchNum,
    totalAmount: batch.totalAmount === null ? null : formatYuan(batch.totalAmount),
    successNum: batch.successNum,
    anomalies: batch.anomalies.map(({ kind, detail, tradeNo, notifyId, detectedAt }) => ({
      kind,
      detail,
      tradeNo,
      notifyId,
      detectedAt,
    })),
    unanswered: batch.unanswered,
    resolution: batch.resolution,
    submittedAt: batch.submittedAt,
    updatedAt: batch.updatedAt,
    version: batch.version,
  };
}

function toRecordView(record: RefundBatchRecord): RefundBatchRecordView {
  const { result } = record;
  return {
    outTradeNo: record.outTradeNo,
    tradeNo: record.tradeNo,
    amount: record.amount === null ? null : formatYuan(record.amount),
    reason: record.reason,
    result:
      result === null
        ? null
        : { amount: formatYuan(result.amount), code: result.code, outcome: result.outcome },
  };
}

export function toRefundBatchView(batch: RefundBatchSummary): RefundBatchView {
  return { ...toRefundBatchListItemView(batch), items: batch.items.map(toRecordView) };
}
