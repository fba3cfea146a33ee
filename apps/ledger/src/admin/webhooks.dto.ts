import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_STATES,
  type WebhookEventType,
  type WebhookState,
} from '@ledger/processes';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

const MAX_WEBHOOK_PAGE = 100;

export class WebhookListQuery {
  @ApiPropertyOptional({ enum: WEBHOOK_STATES })
  @IsOptional()
  @IsIn(WEBHOOK_STATES, { message: `must be one of ${WEBHOOK_STATES.join(', ')}` })
  state?: WebhookState;

  @ApiPropertyOptional({ enum: WEBHOOK_EVENT_TYPES })
  @IsOptional()
  @IsIn(WEBHOOK_EVENT_TYPES, { message: `must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` })
  type?: WebhookEventType;

  @ApiPropertyOptional({
    description: 'The out_trade_no (or batch_no) the webhooks are about',
    maxLength: 64,
  })
  @IsOptional()
  @IsString()
  @MaxLength(64, { message: 'must be at most 64 characters' })
  subject?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_WEBHOOK_PAGE, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: `must be an integer from 1 to ${MAX_WEBHOOK_PAGE}` })
  @Min(1, { message: `must be an integer from 1 to ${MAX_WEBHOOK_PAGE}` })
  @Max(MAX_WEBHOOK_PAGE, { message: `must be an integer from 1 to ${MAX_WEBHOOK_PAGE}` })
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: 'is not a cursor of this list' })
  cursor?: string;
}

export class WebhookAttemptView {
  @ApiProperty()
  attempt: number;

  @ApiProperty()
  startedAt: string;

  @ApiProperty()
  durationMs: number;

  @ApiProperty({ enum: ['succeeded', 'failed', 'timeout', 'unreachable', 'interrupted'] })
  outcome: string;

  @ApiProperty({ type: Number, nullable: true, description: "The receiver's HTTP status" })
  status: number | null;

  @ApiProperty({ type: String, nullable: true, description: 'The start of the reply body (1 KiB at most)' })
  reply: string | null;

  @ApiProperty({ type: String, nullable: true })
  error: string | null;
}

export class WebhookView {
  @ApiProperty({ description: 'The webhook-id header: the same at every attempt', example: 'msg_2mR…' })
  id: string;

  @ApiProperty()
  endpoint: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES })
  eventType: string;

  @ApiProperty({ description: 'The out_trade_no, or the batch_no of refund_batch.completed' })
  subject: string;

  @ApiProperty({ enum: WEBHOOK_STATES })
  state: string;

  @ApiProperty()
  attempts: number;

  @ApiProperty({ type: String, nullable: true, description: 'When the next attempt is due' })
  nextAttemptAt: string | null;

  @ApiProperty({ type: Number, nullable: true })
  lastStatus: number | null;

  @ApiProperty({ type: String, nullable: true })
  lastError: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Why it was cancelled, or that it was retried' })
  note: string | null;

  @ApiProperty()
  createdAt: string;

  @ApiProperty({ type: String, nullable: true })
  completedAt: string | null;

  @ApiProperty({ description: 'The body sent: {type, timestamp, data}', type: Object })
  payload: unknown;

  @ApiProperty({ type: [WebhookAttemptView] })
  attemptLog: WebhookAttemptView[];
}

export class WebhookPageView {
  @ApiProperty({ type: [WebhookView] })
  items: WebhookView[];

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Pass as `cursor` for the next page' })
  nextCursor: string | null;
}

export class WebhookRetryView {
  @ApiProperty({ type: [String], description: 'The ids of the dead webhooks put back, due now' })
  retried: string[];
}

class WebhookStateCounts {
  @ApiProperty() pending: number;
  @ApiProperty() delivering: number;
  @ApiProperty() succeeded: number;
  @ApiProperty() dead: number;
  @ApiProperty() cancelled: number;
}

class AttemptsLastHour {
  @ApiProperty() attempts: number;
  @ApiProperty() succeeded: number;
}

export class EndpointHealthView {
  @ApiProperty({ example: 'default' })
  endpoint: string;

  @ApiProperty({ type: String, nullable: true, description: 'Where webhooks go; null: not configured' })
  url: string | null;

  @ApiProperty({ description: 'Whether this instance sends webhooks' })
  sending: boolean;

  @ApiProperty({ type: WebhookStateCounts })
  counts: WebhookStateCounts;

  @ApiProperty({ type: AttemptsLastHour })
  lastHour: AttemptsLastHour;

  @ApiProperty({ type: String, nullable: true })
  lastSuccessAt: string | null;

  @ApiProperty({ type: String, nullable: true })
  lastFailureAt: string | null;

  @ApiProperty({ description: 'Failed attempts since the last one answered 2xx' })
  failuresSinceSuccess: number;

  @ApiProperty({ type: String, nullable: true, description: 'The oldest webhook not yet settled' })
  oldestPendingAt: string | null;
}
