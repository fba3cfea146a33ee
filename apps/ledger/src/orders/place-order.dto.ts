import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { PaymentService } from '@ledger/domain';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';

const PAYMENT_SERVICES: readonly PaymentService[] = ['create_direct_pay_by_user', 'trade_create_by_buyer'];

// No control characters: PostgreSQL refuses U+0000 in JSON, and none belongs in an order's text.
const PRINTABLE = /^[^\p{Cc}]*$/u;

/**
 * `POST /orders` (docs/product-rules.md, "HTTP endpoints"). Lengths in bytes and the amount's range are the
 * domain's checks.
 */
export class PlaceOrderRequest {
  @ApiProperty({
    description: "The merchant's order number",
    example: 'ORD-20240501-0001',
    pattern: '^[A-Za-z0-9_-]{1,64}$',
  })
  @IsString({ message: 'must be a string' })
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'must be 1 to 64 letters, digits, "_" or "-"' })
  outTradeNo: string;

  @ApiProperty({ description: 'Shown to the buyer; at most 256 bytes', example: 'Annual membership' })
  @IsString({ message: 'must be a string' })
  @Matches(/\S/, { message: 'must not be empty' })
  @Matches(PRINTABLE, { message: 'must not contain control characters' })
  subject: string;

  @ApiProperty({ description: 'Yuan with two decimals, 0.01 to 100000000.00', example: '120.00' })
  @IsString({ message: 'must be a string of yuan with two decimals, e.g. "12.34"' })
  @Matches(/^(0|[1-9][0-9]*)\.[0-9]{2}$/, { message: 'must be yuan with two decimals, e.g. "12.34"' })
  totalFee: string;

  @ApiPropertyOptional({ description: 'Order description; at most 1000 bytes' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Matches(PRINTABLE, { message: 'must not contain control characters' })
  body?: string;

  @ApiPropertyOptional({ enum: PAYMENT_SERVICES, default: 'create_direct_pay_by_user' })
  @IsOptional()
  @IsIn(PAYMENT_SERVICES, { message: `must be one of ${PAYMENT_SERVICES.join(', ')}` })
  service?: PaymentService;
}

export class PaymentFormField {
  @ApiProperty()
  name: string;

  @ApiProperty()
  value: string;
}

/** The same request as a POST form, for pages that submit it (the demos' `buildRequestForm`). */
export class PaymentForm {
  @ApiProperty({
    description: "The gateway with `_input_charset`, so Alipay reads the body in the merchant's charset",
  })
  action: string;

  @ApiProperty({ enum: ['POST'] })
  method: 'POST';

  @ApiProperty({ description: 'The charset the browser must submit the fields in (accept-charset)' })
  charset: string;

  @ApiProperty({ type: [PaymentFormField], description: 'Every parameter, `sign` and `sign_type` last' })
  fields: PaymentFormField[];
}

export class PlacedOrderResponse {
  @ApiProperty()
  outTradeNo: string;

  @ApiProperty({ enum: PAYMENT_SERVICES })
  service: PaymentService;

  @ApiProperty({ example: '120.00' })
  totalFee: string;

  @ApiProperty({ description: 'True when this request placed the order; false when it was already placed' })
  created: boolean;

  @ApiProperty({ description: 'The signed gateway URL to send the buyer to (GET)' })
  paymentUrl: string;

  @ApiProperty({ type: PaymentForm })
  form: PaymentForm;
}
