import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

/**
 * `POST /admin/orders/:outTradeNo/delivery` and `/return` (docs/fulfilment.md, "Completing by hand"): who
 * did it and why, recorded on the order's stream.
 */
export class FulfilmentResolutionRequest {
  @ApiProperty({ description: 'Who completes it (a name or an e-mail address)', maxLength: 100 })
  @IsString()
  @MinLength(1, { message: 'must name the operator' })
  @MaxLength(100, { message: 'must be at most 100 characters' })
  @Matches(/\S/, { message: 'must name the operator' })
  operator: string;

  @ApiProperty({ description: 'Why it is completed by hand', maxLength: 500 })
  @IsString()
  @MinLength(1, { message: 'must say why' })
  @MaxLength(500, { message: 'must be at most 500 characters' })
  @Matches(/\S/, { message: 'must say why' })
  reason: string;

  @ApiPropertyOptional({ description: "The warehouse's own reference (a waybill, an RMA)", maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200, { message: 'must be at most 200 characters' })
  reference?: string;
}

export class FulfilmentResolutionView {
  @ApiProperty({ description: 'false when it was already recorded: nothing was appended' })
  recorded: boolean;

  @ApiProperty({ description: "The order stream's version after the request" })
  version: number;
}
