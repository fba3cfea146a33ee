import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MAX_BATCH_RECORDS } from '@ledger/alipay-protocol';
import type { AcceptRefundBatch, RefundMode } from '@ledger/domain';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsDefined,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  ValidateIf,
} from 'class-validator';

const REFUND_MODES: readonly RefundMode[] = ['pwd', 'nopwd'];
const BATCH_STATES = [
  'submitted',
  'outcome_unknown',
  'accepted',
  'rejected',
  'cancelled',
  'expired',
  'completed',
] as const;
const REPLIES: readonly AcceptRefundBatch['reply'][] = ['T', 'P', 'DUPLICATE_BATCH_NO'];

/**
 * One record of `POST /refunds`. Checked one by one by the controller (class-validator, then the amount's
 * range and the reason's bytes), so that a message names the record: `items[2].amount: ...`.
 */
export class RefundItemRequest {
  @ApiPropertyOptional({
    description: "The merchant's order number; give it or tradeNo (both: they must name the same order)",
    example: 'ORD-20240501-0001',
  })
  @ValidateIf((item: RefundItemRequest) => item.tradeNo === undefined || item.outTradeNo !== undefined)
  @IsDefined({ message: 'outTradeNo or tradeNo is required' })
  @IsString({ message: 'must be a string' })
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'must be 1 to 64 letters, digits, "_" or "-"' })
  outTradeNo?: string;

  @ApiPropertyOptional({
    description: "Alipay's trade_no of the order",
    example: '2024050122001004370000000001',
  })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Matches(/^[A-Za-z0-9]{1,64}$/, { message: 'must be 1 to 64 letters or digits' })
  tradeNo?: string;

  @ApiProperty({
    description: 'Yuan with two decimals, 0.01 up to what is still refundable',
    example: '12.00',
  })
  @IsString({ message: 'must be a string of yuan with two decimals, e.g. "12.34"' })
  @Matches(/^(0|[1-9][0-9]*)\.[0-9]{2}$/, { message: 'must be yuan with two decimals, e.g. "12.34"' })
  amount: string;

  @ApiProperty({
    description: 'Under 256 bytes in the request charset, without ^ | $ #',
    example: '协商退款',
  })
  @IsString({ message: 'must be a string' })
  @Matches(/\S/, { message: 'must not be empty' })
  @Matches(/^[^^|$#]*$/, { message: 'must not contain ^ | $ or # (they separate the fields of detail_data)' })
  @Matches(/^[^\p{Cc}]*$/u, { message: 'must not contain control characters' })
  reason: string;
}

/** `POST /refunds` (docs/product-rules.md, "HTTP endpoints"). */
export class SubmitRefundsRequest {
  @ApiProperty({
    enum: REFUND_MODES,
    description:
      'pwd: the merchant confirms on Alipay with the payment password; nopwd: sent server to server',
  })
  @IsIn(REFUND_MODES, { message: 'must be pwd or nopwd' })
  mode: RefundMode;

  @ApiProperty({
    type: [RefundItemRequest],
    description: `1 to ${MAX_BATCH_RECORDS} records, a trade at most once`,
  })
  @ArrayNotEmpty({ message: 'a batch needs at least one record' })
  @ArrayMaxSize(MAX_BATCH_RECORDS, { message: `a batch holds at most ${MAX_BATCH_RECORDS} records` })
  // Decorators run from the bottom up and the first failure is reported: the type is checked first.
  @IsArray({ message: 'must be an array of records' })
  items: unknown[];
}

export class RefundBatchItemView {
  @ApiProperty()
  outTradeNo: string;

  @ApiProperty()
  tradeNo: string;

  @ApiProperty({ example: '12.00' })
  amount: string;

  @ApiProperty()
  reason: string;
}

export class RefundBatchResponse {
  @ApiProperty({ description: 'Beijing date + serial, unique for ever', example: '2024050200000042' })
  batchNo: string;

  @ApiProperty({ enum: REFUND_MODES })
  mode: RefundMode;

  @ApiProperty({
    enum: BATCH_STATES,
    description:
      'submitted: recorded, amounts reserved (pwd: waiting for the merchant on Alipay; nopwd: the gateway has not ' +
      'answered yet); outcome_unknown: a nopwd call went unanswered and may have been accepted, the reservations ' +
      "are held until the result or an operator's mark; accepted: Alipay took it, the result comes later; " +
      'rejected: Alipay refused it (or an operator marked it not accepted), the reservations are released; ' +
      'cancelled, expired: a pwd batch never confirmed, released by an operator or after ' +
      'REFUND_PWD_BATCH_EXPIRE_AFTER_HOURS; completed: the result is in',
  })
  state: (typeof BATCH_STATES)[number];

  @ApiProperty({
    description:
      'True when this request submitted the batch; false for a retry with the same Idempotency-Key',
  })
  created: boolean;

  @ApiProperty({ description: 'batch_num' })
  batchNum: number;

  @ApiProperty({ example: '12.00' })
  totalAmount: string;

  @ApiProperty({ description: 'Also refund_date and the date of batchNo' })
  submittedAt: string;

  @ApiProperty({ type: [RefundBatchItemView] })
  items: RefundBatchItemView[];

  @ApiPropertyOptional({ description: 'pwd: the signed refund_fastpay_by_platform_pwd URL to open' })
  refundUrl?: string;

  @ApiPropertyOptional({ enum: REPLIES, description: 'nopwd, accepted: what the gateway answered' })
  reply?: AcceptRefundBatch['reply'];

  @ApiPropertyOptional({
    description: "nopwd, rejected: Alipay's error code",
    example: 'REFUND_AMOUNT_NOT_VALID',
  })
  error?: string;

  @ApiPropertyOptional({ description: 'What the state means for this batch, when it needs saying' })
  message?: string;
}
