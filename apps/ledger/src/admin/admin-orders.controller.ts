import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CompleteDeliveryCommand, CompleteReturnCommand } from '@ledger/commands';
import { orderStreamId } from '@ledger/domain';
import { LedgerLogger } from '@ledger/platform';
import {
  OrderPageView,
  OrderQueries,
  OrderView,
  ProjectionsService,
  toOrderListItem,
  toOrderView,
} from '@ledger/projections';
import { readYourWrites } from '../http/read-your-writes';
import { AdminTokenGuard } from '../http/admin-token.guard';
import { OrderHistory, OrderListQuery, timeRange } from './admin.dto';
import { FulfilmentResolutionRequest, FulfilmentResolutionView } from './fulfilment-resolution.dto';
import { OrderHistoryQuery, orderNotFound } from './order-history.query';

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@ApiUnauthorizedResponse({ description: 'missing or wrong bearer token' })
@Controller('admin/orders')
export class AdminOrdersController {
  constructor(
    private readonly orders: OrderQueries,
    private readonly queries: QueryBus,
    private readonly commands: CommandBus,
    private readonly projections: ProjectionsService,
    private readonly logger: LedgerLogger,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'List orders, newest first: filter by status, decisions and time; cursor pages',
    description: 'Pages of 20 by default, at most 100.',
  })
  @ApiOkResponse({ type: OrderPageView })
  @ApiBadRequestResponse({ description: 'a filter or the cursor is invalid' })
  async list(@Query() query: OrderListQuery): Promise<OrderPageView> {
    await readYourWrites(this.projections, this.logger, 'the order list');
    const page = await this.orders.list(
      {
        ...(query.status === undefined ? {} : { status: query.status }),
        ...(query.delivery === undefined ? {} : { deliveryState: query.delivery }),
        ...(query.return === undefined ? {} : { returnState: query.return }),
        ...timeRange(query.from, query.to),
        ...(query.limit === undefined ? {} : { limit: query.limit }),
      },
      query.cursor,
    );
    return { items: page.items.map(toOrderListItem), nextCursor: page.nextCursor };
  }

  @Get(':outTradeNo')
  @ApiOperation({ summary: "One order's status, amounts, delivery and return decisions, anomalies" })
  @ApiOkResponse({ type: OrderView })
  @ApiNotFoundResponse({ description: 'the ledger knows no such order' })
  async get(@Param('outTradeNo') outTradeNo: string): Promise<OrderView> {
    orderStreamId(outTradeNo);
    await readYourWrites(this.projections, this.logger, `order ${outTradeNo}`);
    const order = await this.orders.get(outTradeNo);
    if (order === undefined) throw orderNotFound(outTradeNo);
    return toOrderView(order);
  }

  /**
   * The order stream's events in order, read from the event store itself (not a projection), each with
   * the inbox notification that caused it.
   */
  @Get(':outTradeNo/history')
  @ApiOperation({ summary: "The order's events in order, each with its causing notification" })
  @ApiOkResponse({ type: OrderHistory })
  @ApiNotFoundResponse({ description: 'the ledger knows no such order' })
  history(@Param('outTradeNo') outTradeNo: string): Promise<OrderHistory> {
    return this.queries.execute(new OrderHistoryQuery(outTradeNo));
  }

  /**
   * Completes the delivery by hand (docs/fulfilment.md, "Completing by hand"): the goods went out another
   * way. `DeliveryCompleted` records who and why; a pending `order.delivery_requested` webhook is then
   * cancelled instead of sent.
   */
  @Post(':outTradeNo/delivery')
  @HttpCode(200)
  @ApiOperation({ summary: 'Complete the delivery by hand, with who and why (recorded on the order)' })
  @ApiOkResponse({ type: FulfilmentResolutionView })
  @ApiBadRequestResponse({ description: 'operator or reason missing, or the body is invalid' })
  @ApiNotFoundResponse({ description: 'the ledger knows no such order' })
  @ApiConflictResponse({ description: 'the order has no recognised payment to deliver' })
  async completeDelivery(
    @Param('outTradeNo') outTradeNo: string,
    @Body() request: FulfilmentResolutionRequest,
  ): Promise<FulfilmentResolutionView> {
    await this.known(outTradeNo);
    const result = await this.commands.execute(
      new CompleteDeliveryCommand(
        {
          type: 'CompleteDelivery',
          outTradeNo,
          deliveredAt: new Date().toISOString(),
          ...(request.reference === undefined ? {} : { reference: request.reference }),
          source: { via: 'operator', operator: request.operator.trim(), reason: request.reason.trim() },
        },
        { causationId: `api:${randomUUID()}` },
      ),
    );
    return { recorded: result.events.length > 0, version: result.version };
  }

  /**
   * Completes the return by hand: the goods came back, or a partial refund's review ended in a return
   * (docs/fulfilment.md, "Completing by hand").
   */
  @Post(':outTradeNo/return')
  @HttpCode(200)
  @ApiOperation({ summary: 'Complete the return by hand, with who and why (recorded on the order)' })
  @ApiOkResponse({ type: FulfilmentResolutionView })
  @ApiBadRequestResponse({ description: 'operator or reason missing, or the body is invalid' })
  @ApiNotFoundResponse({ description: 'the ledger knows no such order' })
  @ApiConflictResponse({ description: 'the order was not delivered, or not refunded: nothing to take back' })
  async completeReturn(
    @Param('outTradeNo') outTradeNo: string,
    @Body() request: FulfilmentResolutionRequest,
  ): Promise<FulfilmentResolutionView> {
    await this.known(outTradeNo);
    const result = await this.commands.execute(
      new CompleteReturnCommand(
        {
          type: 'CompleteReturn',
          outTradeNo,
          returnedAt: new Date().toISOString(),
          ...(request.reference === undefined ? {} : { reference: request.reference }),
          source: { via: 'operator', operator: request.operator.trim(), reason: request.reason.trim() },
        },
        { causationId: `api:${randomUUID()}` },
      ),
    );
    return { recorded: result.events.length > 0, version: result.version };
  }

  /** 404 for an order the ledger never recorded, rather than the decider's 409. */
  private async known(outTradeNo: string): Promise<void> {
    orderStreamId(outTradeNo);
    await this.queries.execute(new OrderHistoryQuery(outTradeNo));
  }
}
