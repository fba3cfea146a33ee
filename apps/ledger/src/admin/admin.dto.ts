import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { DeliveryDecision, OrderStatus, ReturnDecision } from '@ledger/domain';
import { MAX_REPLAY_IDS } from '@ledger/commands';
import { INBOX_CHANNELS, INBOX_OUTCOMES, type InboxChannel, type InboxOutcome } from '@ledger/inbox';
import {
  DEFAULT_PAGE_SIZE,
  DELIVERY_STATES,
  MAX_PAGE_SIZE,
  ORDER_STATUSES,
  RETURN_STATES,
} from '@ledger/projections';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { ApiError } from '../http/api-error';

/**
 * An instant in ISO 8601: a date (midnight UTC), or a date and time with `Z` or an offset. A time without
 * a zone is refused: it would be read in the server's zone. `IsISO8601` strict refuses dates that do not
 * exist (31 February), which `new Date` would roll over.
 */
const INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;
const INSTANT_MESSAGE = 'must be an ISO 8601 date, or a date and time with Z or an offset';
const PAGE_SIZE_MESSAGE = `must be an integer from 1 to ${MAX_PAGE_SIZE}`;

/** Identifiers Alipay sends (out_trade_no, trade_no, batch_no) are at most 64 characters. */
const MAX_ID_FILTER = 64;
/** notify_id has no documented length; this is well above any seen. */
const MAX_NOTIFY_ID_FILTER = 256;

/** A string filter of an admin list, bounded so that no filter costs more than an index key. */
function IdFilter(max: number): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ maxLength: max }),
    IsOptional(),
    IsString(),
    MaxLength(max, { message: `must be at most ${max} characters` }),
  );
}

/**
 * The validated `from` and `to` of a list as instants: a range whose start is after its end is refused,
 * never answered with an empty page.
 * @throws ApiError `INVALID_REQUEST` naming `from`.
 */
export function timeRange(from: string | undefined, to: string | undefined): { from?: Date; to?: Date } {
  const start = instantOf(from);
  const end = instantOf(to);
  if (start !== undefined && end !== undefined && start > end) {
    throw new ApiError('INVALID_REQUEST', `from: must not be after to (${from} > ${to})`, 'from');
  }
  return { ...(start === undefined ? {} : { from: start }), ...(end === undefined ? {} : { to: end }) };
}

/** The instant of a validated query value, or undefined. */
export function instantOf(value: string | undefined): Date | undefined {
  return value === undefined ? undefined : new Date(value);
}

const toBoolean = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;

/** An optional instant of a query or body, ISO 8601 with a zone (see `INSTANT`). */
export function OptionalInstant(description: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ description }),
    IsOptional(),
    Matches(INSTANT, { message: INSTANT_MESSAGE }),
    IsISO8601({ strict: true }, { message: INSTANT_MESSAGE }),
  );
}

/** The paging of every admin list: a page size and where the previous page ended. */
export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: PAGE_SIZE_MESSAGE })
  @Min(1, { message: PAGE_SIZE_MESSAGE })
  @Max(MAX_PAGE_SIZE, { message: PAGE_SIZE_MESSAGE })
  limit?: number;

  @ApiPropertyOptional({ description: "The previous page's nextCursor" })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

export class OrderListQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ORDER_STATUSES })
  @IsOptional()
  @IsIn(ORDER_STATUSES, { message: `must be one of ${ORDER_STATUSES.join(', ')}` })
  status?: OrderStatus;

  @ApiPropertyOptional({ enum: DELIVERY_STATES, description: 'delivery.state' })
  @IsOptional()
  @IsIn(DELIVERY_STATES, { message: `must be one of ${DELIVERY_STATES.join(', ')}` })
  delivery?: DeliveryDecision;

  @ApiPropertyOptional({ enum: RETURN_STATES, description: 'return.state' })
  @IsOptional()
  @IsIn(RETURN_STATES, { message: `must be one of ${RETURN_STATES.join(', ')}` })
  return?: ReturnDecision;

  @OptionalInstant('Orders first recorded at or after this instant (ISO 8601)')
  from?: string;

  @OptionalInstant('Orders first recorded before this instant (ISO 8601)')
  to?: string;
}

export class NotificationListQuery extends PageQuery {
  @IdFilter(MAX_ID_FILTER)
  outTradeNo?: string;

  @IdFilter(MAX_ID_FILTER)
  tradeNo?: string;

  @IdFilter(MAX_NOTIFY_ID_FILTER)
  notifyId?: string;

  @IdFilter(MAX_ID_FILTER)
  batchNo?: string;

  @ApiPropertyOptional({ enum: INBOX_CHANNELS })
  @IsOptional()
  @IsIn(INBOX_CHANNELS, { message: `must be one of ${INBOX_CHANNELS.join(', ')}` })
  channel?: InboxChannel;

  @ApiPropertyOptional({ enum: INBOX_OUTCOMES })
  @IsOptional()
  @IsIn(INBOX_OUTCOMES, { message: `must be one of ${INBOX_OUTCOMES.join(', ')}` })
  outcome?: InboxOutcome;

  @ApiPropertyOptional({ type: Boolean, description: 'Signature and notify_verify both passed' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'must be true or false' })
  verified?: boolean;

  @OptionalInstant('Received at or after this instant (ISO 8601)')
  from?: string;

  @OptionalInstant('Received before this instant (ISO 8601)')
  to?: string;
}

/** `POST /admin/replay`: exactly one of `all`, `from` with `to`, or `ids`. */
export class ReplayRequest {
  @ApiPropertyOptional({ enum: [true], description: 'Every stored notification' })
  @IsOptional()
  @IsIn([true], { message: 'must be true when given' })
  all?: true;

  @OptionalInstant('Notifications received at or after this instant (with `to`)')
  from?: string;

  @OptionalInstant('Notifications received before this instant (with `from`)')
  to?: string;

  @ApiPropertyOptional({ type: [Number], description: `Inbox ids, 1 to ${MAX_REPLAY_IDS}` })
  @IsOptional()
  @IsArray({ message: 'must be an array of inbox ids' })
  @ArrayMinSize(1, { message: 'must list at least one inbox id' })
  @ArrayMaxSize(MAX_REPLAY_IDS, { message: `must list at most ${MAX_REPLAY_IDS} inbox ids` })
  @IsInt({ each: true, message: 'must hold positive integers' })
  @Min(1, { each: true, message: 'must hold positive integers' })
  ids?: number[];

  @ApiPropertyOptional({
    default: false,
    description: 'Report the events that would be appended, write nothing',
  })
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  dryRun?: boolean;
}

/** One event of an order's history, with the notification that caused it. */
export class HistoryEvent {
  @ApiProperty({ description: 'Global position in the event store' })
  position: number;

  @ApiProperty({ description: 'Version in the order stream, from 1' })
  version: number;

  @ApiProperty({ example: 'PaymentSucceeded' })
  type: string;

  @ApiProperty({ type: 'object', additionalProperties: true })
  data: unknown;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'causationId, correlationId, recordedAt',
  })
  metadata: Record<string, unknown>;

  @ApiProperty()
  recordedAt: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'The inbox notification whose id is the causationId; null for events an API call caused',
  })
  notification: unknown;
}

export class OrderHistory {
  @ApiProperty()
  outTradeNo: string;

  @ApiProperty({ type: [HistoryEvent] })
  events: HistoryEvent[];
}

export class NotificationPageView {
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } })
  items: unknown[];

  @ApiPropertyOptional({ type: String, nullable: true })
  nextCursor: string | null;
}
