import { Body, Controller, Post, Res, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
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
import { AdminTokenGuard } from '../http/admin-token.guard';
import { PlaceOrderRequestCommand } from './place-order-request.handler';
import { PlacedOrderResponse, PlaceOrderRequest } from './place-order.dto';

interface StatusSettable {
  status(code: number): unknown;
}

@ApiTags('orders')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('orders')
export class OrdersController {
  constructor(private readonly commands: CommandBus) {}

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
    const placed = await this.commands.execute(new PlaceOrderRequestCommand(request));
    response.status(placed.created ? 201 : 200);
    return placed;
  }
}
