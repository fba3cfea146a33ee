import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { orderStreamId } from '@ledger/domain';
import { LedgerLogger } from '@ledger/platform';
import { OrderQueries, ProjectionsService } from '@ledger/projections';
import { readYourWrites } from '../http/read-your-writes';
import { AdminTokenGuard } from '../http/admin-token.guard';
import { OrderHistory, OrderListQuery, timeRange } from './admin.dto';
import { OrderHistoryQuery, orderNotFound } from './order-history.query';
import { OrderPageView, OrderView, toOrderListItem, toOrderView } from './order-view';

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@ApiUnauthorizedResponse({ description: 'missing or wrong bearer token' })
@Controller('admin/orders')
export class AdminOrdersController {
  constructor(
    private readonly orders: OrderQueries,
    private readonly queries: QueryBus,
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
}
