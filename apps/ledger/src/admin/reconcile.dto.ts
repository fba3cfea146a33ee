import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsOptional,
  IsString,
  Matches,
} from 'class-validator';
import type { ReconcileSelection } from '@ledger/processes';
import { ApiError } from '../http/api-error';
import { instantOf, OptionalInstant } from './admin.dto';

/** The most orders one `POST /admin/reconcile` may list. */
export const MAX_RECONCILE_ORDERS = 1_000;

/** `POST /admin/reconcile`: exactly one of `outTradeNos`, or `from` with `to`. */
export class ReconcileRequest {
  @ApiPropertyOptional({
    type: [String],
    description: `Orders to ask Alipay about now, 1 to ${MAX_RECONCILE_ORDERS}`,
    example: ['ORD-20240501-0001'],
  })
  @IsOptional()
  @IsArray({ message: 'must be an array of order numbers' })
  @ArrayMinSize(1, { message: 'must list at least one order number' })
  @ArrayMaxSize(MAX_RECONCILE_ORDERS, { message: `must list at most ${MAX_RECONCILE_ORDERS} order numbers` })
  @IsString({ each: true, message: 'must hold order numbers' })
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, {
    each: true,
    message: 'must hold order numbers of 1 to 64 letters, digits, "_" or "-"',
  })
  outTradeNos?: string[];

  @OptionalInstant('Orders placed at or after this instant and still awaiting payment (with `to`)')
  from?: string;

  @OptionalInstant('Orders placed before this instant (with `from`)')
  to?: string;

  @ApiPropertyOptional({
    default: false,
    description: 'Ask Alipay, report what would be appended, write nothing',
  })
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  dryRun?: boolean;
}

/** The selection a valid request makes; a 400 for anything else. */
export function reconcileSelectionOf(request: ReconcileRequest): ReconcileSelection {
  const { outTradeNos, from, to } = request;
  const range = from !== undefined || to !== undefined;
  if ((outTradeNos !== undefined) === range) {
    throw new ApiError(
      'INVALID_REQUEST',
      'selection: give exactly one of outTradeNos, or from with to',
      'selection',
    );
  }
  if (outTradeNos !== undefined) return { outTradeNos };
  if (from === undefined || to === undefined) {
    const missing = from === undefined ? 'from' : 'to';
    throw new ApiError('INVALID_REQUEST', `${missing}: a time range needs both from and to`, missing);
  }
  const start = instantOf(from)!;
  const end = instantOf(to)!;
  if (start.getTime() >= end.getTime()) {
    throw new ApiError('INVALID_REQUEST', 'to: must be after from', 'to');
  }
  return { from: start, to: end };
}
