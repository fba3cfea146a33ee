import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { orderStreamId } from '@ledger/domain';
import { EventStore } from '@ledger/event-store';
import { InboxQueries } from '@ledger/inbox';
import { ApiError } from '../http/api-error';
import type { OrderHistory } from './admin.dto';

// Events caused by a notification carry its inbox id as causationId; API calls carry `api:<uuid>`.
const INBOX_ID = /^[1-9][0-9]{0,15}$/;

/** `GET /admin/orders/{outTradeNo}/history`. */
export class OrderHistoryQuery extends Query<OrderHistory> {
  constructor(readonly outTradeNo: string) {
    super();
  }
}

/**
 * The order stream's events in order, read from the event store itself (not a projection), each with the
 * inbox notification that caused it.
 *
 * @throws DomainError `INVALID_OUT_TRADE_NO`.
 * @throws ApiError `NOT_FOUND` when the order has no events.
 */
@QueryHandler(OrderHistoryQuery)
export class OrderHistoryHandler implements IQueryHandler<OrderHistoryQuery> {
  constructor(
    private readonly store: EventStore,
    private readonly inbox: InboxQueries,
  ) {}

  async execute({ outTradeNo }: OrderHistoryQuery): Promise<OrderHistory> {
    const events = await this.store.readStream(orderStreamId(outTradeNo));
    if (events.length === 0) throw orderNotFound(outTradeNo);
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

export function orderNotFound(outTradeNo: string): ApiError {
  return new ApiError('NOT_FOUND', `the ledger knows no order ${outTradeNo}`, 'outTradeNo');
}
