import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { formatYuan, TRADE_STATUSES, REFUND_STATUSES } from '@ledger/alipay-protocol';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { cashierPath, refundPath, tradePath } from '../pages/pages';
import type { ChaosSettings } from '../sandbox-options';
import type { DeliveryAttempt, RefundBatch, SandboxNotification } from '../store/sandbox-store';
import type { MadeAttempt } from '../notifications/notifier';
import type { Trade } from '../trades/trade';
import { TRADE_ACTIONS } from '../trades/trade-machine';

// The JSON control API's bodies (validated) and views (documented). Amounts are yuan strings as Alipay
// writes them; times are ISO 8601 instants.

const iso = (instant: Date | undefined) => instant?.toISOString();

export class RefundFailuresDto {
  @ApiPropertyOptional({ type: [String], description: 'trade_no of the records that fail' })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  tradeNos?: string[];

  @ApiPropertyOptional({ minimum: 0, maximum: 1, description: 'the chance that any record fails' })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  ratio?: number;

  @ApiPropertyOptional({
    example: 'SELLER_BALANCE_NOT_ENOUGH',
    description: 'the per-record code of a failure',
  })
  @IsOptional()
  @Matches(/^[A-Z][A-Z0-9_]*$/, { message: 'must be an upper-case Alipay code' })
  @MaxLength(64)
  code?: string;
}

/** The chaos switches; PUT replaces them all (an empty object turns everything off). */
export class ChaosSettingsDto implements ChaosSettings {
  @ApiPropertyOptional({ minimum: 1, description: 'copies of each first delivery, sent together' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(20)
  duplicates?: number;

  @ApiPropertyOptional({
    minimum: 0,
    description: 'hold new notifications until this many, then send newest first',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  reorderWindow?: number;

  @ApiPropertyOptional({ minimum: 0, description: 'real milliseconds before each first delivery' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  delayMs?: number;

  @ApiPropertyOptional({ description: 'send the previous status again after each change' })
  @IsOptional()
  @IsBoolean()
  staleStatuses?: boolean;

  @ApiPropertyOptional({ description: 'send TRADE_FINISHED after each refund of an instant trade' })
  @IsOptional()
  @IsBoolean()
  finishedAfterRefund?: boolean;

  @ApiPropertyOptional({
    description: 'Alipay gave up: send no notification at all (each is recorded as abandoned, tag dropped)',
  })
  @IsOptional()
  @IsBoolean()
  dropNotifications?: boolean;

  @ApiPropertyOptional({ type: RefundFailuresDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => RefundFailuresDto)
  refundFailures?: RefundFailuresDto;
}

/** For `ship`: what send_goods_confirm_by_platform would carry; defaults to a sandbox express. */
export class ActionBodyDto {
  @ApiPropertyOptional({ example: 'SF Express' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  logisticsName?: string;

  @ApiPropertyOptional({ example: 'SF1234567890' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  invoiceNo?: string;

  @ApiPropertyOptional({ enum: ['POST', 'EXPRESS', 'EMS', 'DIRECT'] })
  @IsOptional()
  @IsIn(['POST', 'EXPRESS', 'EMS', 'DIRECT'])
  transportType?: string;
}

export class FlushDto {
  @ApiPropertyOptional({
    description: 'also deliver what is held or waiting for a later retry, as if its time had come',
  })
  @IsOptional()
  @IsBoolean()
  all?: boolean;
}

export class TradeView {
  @ApiProperty() partner: string;
  @ApiProperty() tradeNo: string;
  @ApiProperty() outTradeNo: string;
  @ApiProperty({ enum: ['create_direct_pay_by_user', 'trade_create_by_buyer'] }) service: string;
  @ApiProperty() subject: string;
  @ApiPropertyOptional() body?: string;
  @ApiProperty({ example: '12.34' }) totalFee: string;
  @ApiProperty({ enum: TRADE_STATUSES }) tradeStatus: string;
  @ApiPropertyOptional({ enum: REFUND_STATUSES }) refundStatus?: string;
  @ApiPropertyOptional({ enum: ['instant', 'escrow'] }) paymentType?: string;
  @ApiProperty({ example: '0.00' }) refundedFee: string;
  @ApiPropertyOptional() buyerId?: string;
  @ApiProperty() gmtCreate: string;
  @ApiPropertyOptional() gmtPayment?: string;
  @ApiPropertyOptional() gmtClose?: string;
  @ApiPropertyOptional() gmtSendGoods?: string;
  @ApiPropertyOptional() gmtRefund?: string;
  @ApiPropertyOptional() notifyUrl?: string;
  @ApiPropertyOptional() returnUrl?: string;
  @ApiProperty({ enum: ['utf-8', 'gbk'] }) charset: string;
  @ApiProperty({ enum: ['MD5', 'RSA'] }) signType: string;
  @ApiProperty({ enum: TRADE_ACTIONS, isArray: true, description: 'what can be done now' }) actions: string[];
  @ApiProperty() cashierUrl: string;
  @ApiProperty() tradeUrl: string;
}

export function toTradeView(trade: Trade, actions: readonly string[], baseUrl: string): TradeView {
  const { terms, channels } = trade;
  return {
    partner: trade.partner,
    tradeNo: trade.tradeNo,
    outTradeNo: terms.outTradeNo,
    service: terms.service,
    subject: terms.subject,
    body: terms.body,
    totalFee: formatYuan(terms.totalFee),
    tradeStatus: trade.tradeStatus,
    refundStatus: trade.refundStatus,
    paymentType: trade.paymentType,
    refundedFee: formatYuan(trade.refundedFee),
    buyerId: trade.buyerId,
    gmtCreate: trade.gmtCreate.toISOString(),
    gmtPayment: iso(trade.gmtPayment),
    gmtClose: iso(trade.gmtClose),
    gmtSendGoods: iso(trade.gmtSendGoods),
    gmtRefund: iso(trade.gmtRefund),
    notifyUrl: channels.notifyUrl,
    returnUrl: channels.returnUrl,
    charset: trade.charset,
    signType: trade.signType,
    actions: [...actions],
    cashierUrl: `${baseUrl}${cashierPath(trade.tradeNo)}`,
    tradeUrl: `${baseUrl}${tradePath(trade.tradeNo)}`,
  };
}

export class AttemptView {
  @ApiProperty() at: string;
  @ApiProperty({ description: '0 for the first delivery, then one per retry' }) round: number;
  @ApiProperty({ description: '1, or more when the duplicates chaos sends copies' }) copy: number;
  @ApiPropertyOptional() httpStatus?: number;
  @ApiPropertyOptional({ description: "the merchant's reply body" }) reply?: string;
  @ApiPropertyOptional({ description: 'why no reply came' }) error?: string;
  @ApiProperty({ description: 'the reply was exactly `success`' }) acknowledged: boolean;
}

function toAttemptView(attempt: DeliveryAttempt): AttemptView {
  return {
    at: attempt.at.toISOString(),
    round: attempt.round,
    copy: attempt.copy,
    httpStatus: attempt.httpStatus,
    reply: attempt.reply,
    error: attempt.error,
    acknowledged: attempt.acknowledged,
  };
}

export class FlushedAttemptView extends AttemptView {
  @ApiProperty() notificationId: string;
  @ApiProperty() notifyId: string;
}

export class FlushResultView {
  @ApiProperty({ type: [FlushedAttemptView] }) attempts: FlushedAttemptView[];
}

export function toFlushResult(attempts: readonly MadeAttempt[]): FlushResultView {
  return {
    attempts: attempts.map((a) => ({
      ...toAttemptView(a),
      notificationId: a.notificationId,
      notifyId: a.notifyId,
    })),
  };
}

export class NotificationView {
  @ApiProperty() id: string;
  @ApiProperty({ description: 'the same on every attempt' }) notifyId: string;
  @ApiProperty({ enum: ['trade_status_sync', 'batch_refund_notify'] }) kind: string;
  @ApiProperty() partner: string;
  @ApiProperty() url: string;
  @ApiPropertyOptional() tradeNo?: string;
  @ApiPropertyOptional() outTradeNo?: string;
  @ApiPropertyOptional() batchNo?: string;
  @ApiPropertyOptional() tradeStatus?: string;
  @ApiPropertyOptional() refundStatus?: string;
  @ApiProperty({ type: [String], description: 'stale, finished-after-refund, duplicated, held, delayed' })
  tags: string[];
  @ApiProperty({ enum: ['held', 'scheduled', 'acknowledged', 'abandoned'] }) state: string;
  @ApiProperty() createdAt: string;
  @ApiPropertyOptional({ description: 'when the next attempt is due (a pending retry)' })
  nextAttemptAt?: string;
  @ApiPropertyOptional() acknowledgedAt?: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'the parameters sent, without notify_time, sign and sign_type (set at each attempt)',
  })
  params: Record<string, string>;
  @ApiProperty({ type: [AttemptView] }) attempts: AttemptView[];
}

export function toNotificationView(notification: SandboxNotification): NotificationView {
  return {
    id: notification.id,
    notifyId: notification.notifyId,
    kind: notification.kind,
    partner: notification.partner,
    url: notification.url,
    tradeNo: notification.tradeNo,
    outTradeNo: notification.outTradeNo,
    batchNo: notification.batchNo,
    tradeStatus: notification.tradeStatus,
    refundStatus: notification.refundStatus,
    tags: [...notification.tags],
    state: notification.state,
    createdAt: notification.createdAt.toISOString(),
    nextAttemptAt: iso(notification.nextAttemptAt),
    acknowledgedAt: iso(notification.acknowledgedAt),
    params: Object.fromEntries(notification.params.map(({ name, value }) => [name, value])),
    attempts: notification.attempts.map(toAttemptView),
  };
}

export class ActionResultView {
  @ApiProperty({ type: TradeView }) trade: TradeView;
  @ApiProperty({ type: [NotificationView], description: 'the notifications this change queued' })
  notifications: NotificationView[];
  @ApiPropertyOptional({ description: "for a payment: the buyer's redirect to return_url" })
  returnUrl?: string;
}

export class RefundRecordView {
  @ApiProperty() tradeNo: string;
  @ApiProperty({ example: '1.00' }) amount: string;
  @ApiProperty() reason: string;
  @ApiPropertyOptional({ example: 'SUCCESS', description: 'the result code, once processed' }) code?: string;
}

export class BatchView {
  @ApiProperty() partner: string;
  @ApiProperty() batchNo: string;
  @ApiProperty({ enum: ['pwd', 'nopwd'] }) service: string;
  @ApiProperty({ enum: ['awaiting_confirmation', 'processed', 'cancelled'] }) state: string;
  @ApiProperty() refundDate: string;
  @ApiProperty() receivedAt: string;
  @ApiPropertyOptional() processedAt?: string;
  @ApiPropertyOptional() notifyUrl?: string;
  @ApiPropertyOptional() successNum?: number;
  @ApiProperty({ type: [RefundRecordView] }) records: RefundRecordView[];
  @ApiProperty({ description: 'the confirmation page of a pwd batch' }) pageUrl: string;
}

export function toBatchView(batch: RefundBatch, baseUrl: string): BatchView {
  const codes = new Map((batch.results ?? []).map((result) => [result.tradeNo, result.code]));
  return {
    partner: batch.partner,
    batchNo: batch.batchNo,
    service: batch.service,
    state: batch.state,
    refundDate: batch.refundDate.toISOString(),
    receivedAt: batch.receivedAt.toISOString(),
    processedAt: iso(batch.processedAt),
    notifyUrl: batch.notifyUrl,
    successNum: batch.successNum,
    records: batch.records.map((record) => ({
      tradeNo: record.tradeNo,
      amount: formatYuan(record.amount),
      reason: record.reason,
      code: codes.get(record.tradeNo),
    })),
    pageUrl: `${baseUrl}${refundPath(batch.partner, batch.batchNo)}`,
  };
}
