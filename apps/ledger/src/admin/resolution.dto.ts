import { ApiProperty } from '@nestjs/swagger';
import { MAX_RESOLUTION_REASON_LENGTH } from '@ledger/domain';
import { IsBoolean, IsDefined, IsIn, IsString, Matches, MaxLength } from 'class-validator';

// Who and why, for every operator resolution (docs/product-rules.md, "Operator resolutions"). The admin
// token is shared, so the name comes with the request, as the CLI's `--operator` does.
const OPERATOR = /^[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?$/;
const OPERATOR_MESSAGE = 'must be 1 to 64 printable ASCII characters, without spaces at the ends';
const REASON_MESSAGE = `must be 1 to ${MAX_RESOLUTION_REASON_LENGTH} characters, not all blank`;

export class OperatorResolutionRequest {
  @ApiProperty({
    example: 'ops-alice',
    description: 'Who decides: kept in the event, 1 to 64 printable ASCII',
  })
  @IsDefined({ message: 'is required' })
  @IsString({ message: OPERATOR_MESSAGE })
  @Matches(OPERATOR, { message: OPERATOR_MESSAGE })
  operator: string;

  @ApiProperty({
    example: 'Alipay support confirmed the seller id changed with the new contract',
    description: `Why: kept in the event, 1 to ${MAX_RESOLUTION_REASON_LENGTH} characters`,
  })
  @IsDefined({ message: 'is required' })
  @IsString({ message: REASON_MESSAGE })
  @MaxLength(MAX_RESOLUTION_REASON_LENGTH, { message: REASON_MESSAGE })
  @Matches(/\S/, { message: REASON_MESSAGE })
  reason: string;
}

/** `POST /admin/orders/:outTradeNo/anomalies/resolve`. */
export class ResolveAnomaliesRequest extends OperatorResolutionRequest {
  @ApiProperty({
    enum: ['accept', 'confirm'],
    description:
      'accept: the open anomalies no longer block the order (its delivery and return decisions follow the rest ' +
      'of its state); confirm: they stand, and the order stays blocked for good',
  })
  @IsDefined({ message: 'is required' })
  @IsIn(['accept', 'confirm'], { message: 'must be accept or confirm' })
  decision: 'accept' | 'confirm';
}

/** `POST /admin/refund-batches/:batchNo/cancel`. */
export class CancelRefundBatchRequest extends OperatorResolutionRequest {}

/** `POST /admin/refund-batches/:batchNo/outcome`. */
export class MarkRefundBatchOutcomeRequest extends OperatorResolutionRequest {
  @ApiProperty({
    description:
      "What Alipay's console shows: true, the batch was accepted (its reservations are held until the result); " +
      'false, it was not (they are released)',
  })
  @IsDefined({ message: 'is required' })
  @IsBoolean({ message: 'must be true or false' })
  accepted: boolean;
}
