import { randomUUID } from 'node:crypto';
import { Body, Controller, Post, Res, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { formatYuan, parseYuan, type SignedRequest } from '@ledger/alipay-protocol';
import { OrderCommands } from '@ledger/ingest';
import { LedgerLogger } from '@ledger/platform';
import { ProjectionsService } from '@ledger/projections';
import { AdminTokenGuard } from '../http/admin-token.guard';
import { ApiError } from '../http/api-error';
import { PlacedOrderResponse, PlaceOrderRequest } from './place-order.dto';
import { clientFault, PaymentRequests, unsignedParameters } from './payment-requests';

/** How long a placed order may take to show in the admin API before the answer goes out anyway. */
const READ_YOUR_WRITES_MS = 2_000;

interface StatusSettable {
  status(code: number): unknown;
}

@ApiTags('orders')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('orders')
export class OrdersController {
  constructor(
    private readonly payments: PaymentRequests,
    private readonly orders: OrderCommands,
    private readonly projections: ProjectionsService,
    private readonly logger: LedgerLogger,
  ) {}

  /**
   * Places an order (`OrderPlaced`, its request parameters frozen) and answers the signed payment request.
   * The same order again places nothing and answers the same request; another order under the same
   * `outTradeNo` is 409 (docs/product-rules.md, "Frozen orders": Alipay would answer TRADE_DATA_MATCH_ERROR).
   */
  @Post()
  @ApiOperation({ summary: 'Place an order and get its signed payment URL and form' })
  @ApiCreatedResponse({ type: PlacedOrderResponse, description: 'placed' })
  @ApiOkResponse({ type: PlacedOrderResponse, description: 'the same order was already placed' })
  @ApiBadRequestResponse({ description: 'invalid input; the message names the field' })
  @ApiUnauthorizedResponse({ description: 'missing or wrong bearer token' })
  @ApiConflictResponse({ description: 'another order was placed under this outTradeNo' })
  async place(
    @Body() request: PlaceOrderRequest,
    @Res({ passthrough: true }) response: StatusSettable,
  ): Promise<PlacedOrderResponse> {
    const service = request.service ?? 'create_direct_pay_by_user';
    const totalFee = parseYuan(request.totalFee, { field: 'totalFee' });
    if (!totalFee.ok) throw invalid('totalFee', totalFee.errors[0].message);
    const signed = this.payments.sign({
      outTradeNo: request.outTradeNo,
      subject: request.subject,
      ...(request.body === undefined ? {} : { body: request.body }),
      totalFee: totalFee.value,
      service,
    });
    if (!signed.ok) {
      const fault = clientFault(signed.errors);
      if (fault === undefined) {
        throw new Error(`the payment request cannot be built: ${JSON.stringify(signed.errors)}`);
      }
      throw invalid(fault.field, fault.message);
    }

    const decision = await this.orders.placeOrder(
      {
        type: 'PlaceOrder',
        outTradeNo: request.outTradeNo,
        subject: request.subject,
        ...(request.body === undefined ? {} : { body: request.body }),
        totalFee: totalFee.value,
        service,
        sellerId: this.payments.seller,
        requestParameters: unsignedParameters(signed.value),
        placedAt: new Date().toISOString(),
      },
      { causationId: `api:${randomUUID()}` },
    );
    const created = decision.events.length > 0;
    if (created && decision.transactionId !== undefined && decision.position !== undefined) {
      await this.projections
        .waitForProjections(
          { transactionId: decision.transactionId, position: decision.position },
          READ_YOUR_WRITES_MS,
        )
        .catch((error: unknown) => {
          this.logger.warn(
            `order ${request.outTradeNo} is placed but not yet projected: ${String(error)}`,
            'Orders',
          );
        });
    }
    response.status(created ? 201 : 200);
    // A repeated order only got here if every parameter equals the frozen ones (PlaceOrder compares them
    // all), so this request is the one built from the frozen parameters.
    return toResponse(request.outTradeNo, service, totalFee.value, created, signed.value);
  }
}

function invalid(field: string, message: string): ApiError {
  return new ApiError('INVALID_REQUEST', `${field}: ${message}`, field);
}

function toResponse(
  outTradeNo: string,
  service: PlacedOrderResponse['service'],
  totalFee: number,
  created: boolean,
  request: SignedRequest,
): PlacedOrderResponse {
  return {
    outTradeNo,
    service,
    totalFee: formatYuan(totalFee),
    created,
    paymentUrl: request.url,
    form: {
      action: request.formAction,
      method: 'POST',
      charset: request.charset,
      fields: request.params.map(({ name, value }) => ({ name, value })),
    },
  };
}
