import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
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
import { EventStore } from '@ledger/event-store';
import { InboxQueries } from '@ledger/inbox';
import { OrderQueries } from '@ledger/projections';
import { AdminTokenGuard } from '../http/admin-token.guard';
import { ApiError } from '../http/api-error';
import { OrderHistory, OrderListQuery, timeRange } from './admin.dto';
import { OrderPageView, OrderView, toOrderListItem, toOrderView } from './order-view';

// Events caused by a notification carry its inbox id as causationId; API calls carry `api:<uuid>`.
const INBOX_ID = /^[1-9][0-9]{0,15}$/;

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@ApiUnauthorizedResponse({ description: 'missing or wrong bearer token' })
@Controller('admin/orders')
export class AdminOrdersController {
  constructor(
    private readonly orders: OrderQueries,
    private readonly store: EventStore,
    private readonly inbox: InboxQueries,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'List orders, newest first: filter by status, decisions and time; cursor pages',
    description: 'Pages of 20 by default, at most 100.',
  })
  @ApiOkResponse({ type: OrderPageView })
  @ApiBadRequestResponse({ description: 'a filter or the cursor is invalid' })
  async list(@Query() query: OrderListQuery): Promise<OrderPageView> {
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
    const order = await this.orders.get(outTradeNo);
    if (order === undefined) throw notFound(outTradeNo);
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
  async history(@Param('outTradeNo') outTradeNo: string): Promise<OrderHistory> {
    const events = await this.store.readStream(orderStreamId(outTradeNo));
    if (events.length === 0) throw notFound(outTradeNo);
    const inboxIdOf = (causationId: unknown) =>
      typeof causationId === 'string' && INBOX_ID.test(causationId) ? Number(causationId) : undefined;
    const notifications = await this.inbox.getMany(
      events.flatMap(({ metadata }) => inboxIdOf(metadata.causationId) ?? []),
    );
    return {
      outTradeNo,
      events: events.map((event) => {
        const inboxId = inboxIdOf(event.metadata.causationId);
        return {
          position: event.globalPosition,
          version: event.version,
          type: event.type,
          data: event.data,
          metadata: event.metadata,
          recordedAt: event.metadata.recordedAt,
          notification: (inboxId === undefined ? undefined : notifications.get(inboxId)) ?? null,
        };
      }),
    };
  }
}

function notFound(outTradeNo: string): ApiError {
  return new ApiError('NOT_FOUND', `the ledger knows no order ${outTradeNo}`, 'outTradeNo');
}
