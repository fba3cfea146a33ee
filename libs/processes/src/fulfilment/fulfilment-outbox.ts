import { createHash } from 'node:crypto';
import {
  asOrderEvent,
  batchNoOfStream,
  evolveOrder,
  initialOrderState,
  ORDER_EVENT_SCHEMA_VERSIONS,
  outTradeNoOfStream,
  shippingDecision,
  type OrderState,
} from '@ledger/domain';
import type { EventStore, Projection, ProjectionContext, RecordedEvent } from '@ledger/event-store';
import { orderSummaryOf, toOrderView } from '@ledger/projections';
import { orderWebhooksOf, type WebhookEventType } from '../webhooks/webhook-events';

/** The name of the fulfilment consumer: its checkpoint and its lock (docs/fulfilment.md, "The consumer"). */
export const FULFILMENT_OUTBOX = 'fulfilment_outbox';

/** The endpoint every webhook goes to until several can be configured (docs/webhooks.md). */
export const DEFAULT_ENDPOINT = 'default';

/** A webhook to enqueue: the row of `webhook_messages` minus its delivery state. */
export interface OutboxMessage {
  id: string;
  eventType: WebhookEventType;
  subject: string;
  streamId: string;
  streamVersion: number;
  globalPosition: number;
  payload: string;
}

/**
 * The webhook id: derived from the event and the webhook's type, so that applying an event twice (it
 * cannot, the checkpoint commits with the rows, but a rebuild of a copy could) enqueues the same row, and
 * the id is stable across every retry (docs/webhooks.md, "Delivery").
 */
export function webhookIdOf(streamId: string, version: number, type: string): string {
  const digest = createHash('sha256').update(`${streamId}\u0000${version}\u0000${type}`).digest('base64url');
  return `msg_${digest.slice(0, 27)}`;
}

/** The body sent: `{type, timestamp, data}`, `data` the order's admin view at that event plus its details. */
export function webhookBody(type: string, timestamp: string, data: Record<string, unknown>): string {
  return JSON.stringify({ type, timestamp, data });
}

/**
 * The fulfilment process manager's consumer (docs/fulfilment.md, "The consumer"): a checkpointed consumer
 * of the event store, like a projection, whose "rows" are the work to do: the webhooks to send
 * (`webhook_messages`) and the escrow shipping confirmations to make (`shipping_tasks`), written in the
 * transaction that moves its checkpoint, so each is enqueued exactly once, whichever instance runs it and
 * however often it restarts. It is never rebuilt: a rebuild would send every webhook again.
 *
 * Each order stream in a batch is read once from the store (in the batch's transaction) and folded with
 * the domain's `evolveOrder`, so that a webhook carries the order's view as of its event.
 */
export function fulfilmentOutbox(store: EventStore): Projection {
  return {
    name: FULFILMENT_OUTBOX,
    handles: [...Object.keys(ORDER_EVENT_SCHEMA_VERSIONS), 'RefundBatchCompleted'],
    tables: [],
    // Its webhooks wait while Alipay's notifications do (docs/operations.md, "Alipay first"): so may it.
    background: true,
    apply: (events, context) => applyFulfilmentEvents(store, events, context),
  };
}

async function applyFulfilmentEvents(
  store: EventStore,
  events: readonly RecordedEvent[],
  { session }: ProjectionContext,
): Promise<void> {
  const messages: OutboxMessage[] = [];
  const shipping = new Set<string>();
  const byStream = new Map<string, RecordedEvent[]>();
  for (const event of events) {
    if (outTradeNoOfStream(event.streamId) !== undefined) {
      byStream.set(event.streamId, [...(byStream.get(event.streamId) ?? []), event]);
    } else if (event.type === 'RefundBatchCompleted') {
      const batchNo = batchNoOfStream(event.streamId) ?? event.streamId;
      messages.push({
        id: webhookIdOf(event.streamId, event.version, 'refund_batch.completed'),
        eventType: 'refund_batch.completed',
        subject: batchNo,
        streamId: event.streamId,
        streamVersion: event.version,
        globalPosition: event.globalPosition,
        payload: webhookBody('refund_batch.completed', event.metadata.recordedAt, {
          batchNo,
          ...(event.data as Record<string, unknown>),
        }),
      });
    }
  }
  // Every order of the batch read at once, in the batch's transaction: one statement, not one per order.
  const histories =
    byStream.size === 0
      ? new Map<string, RecordedEvent[]>()
      : await store.readStreams([...byStream.keys()], { session });
  for (const [streamId, batch] of byStream) {
    const outTradeNo = outTradeNoOfStream(streamId)!;
    const last = batch[batch.length - 1].version;
    const history = (histories.get(streamId) ?? []).filter((event) => event.version <= last);
    const inBatch = new Set(batch.map((event) => event.version));
    let state: OrderState = initialOrderState();
    const createdAt = history[0]?.metadata.recordedAt ?? batch[0].metadata.recordedAt;
    for (const event of history) {
      const orderEvent = asOrderEvent(event.type, event.data);
      if (orderEvent === undefined) continue;
      const before = state;
      state = evolveOrder(state, orderEvent);
      if (!inBatch.has(event.version)) continue;
      if (shippingDecision(state) === 'pending' && shippingDecision(before) !== 'pending') {
        shipping.add(outTradeNo);
      }
      const webhooks = orderWebhooksOf(before, state, orderEvent);
      if (webhooks.length === 0) continue;
      const view = toOrderView(
        orderSummaryOf(outTradeNo, state, {
          version: event.version,
          lastPosition: event.globalPosition,
          createdAt,
          updatedAt: event.metadata.recordedAt,
        }),
      );
      for (const { type, details } of webhooks) {
        messages.push({
          id: webhookIdOf(streamId, event.version, type),
          eventType: type,
          subject: outTradeNo,
          streamId,
          streamVersion: event.version,
          globalPosition: event.globalPosition,
          payload: webhookBody(type, event.metadata.recordedAt, {
            ...view,
            ...(details === undefined ? {} : { details }),
          }),
        });
      }
    }
  }
  if (messages.length > 0) {
    await session.query(
      `INSERT INTO webhook_messages
         (id, endpoint, event_type, subject, stream_id, stream_version, global_position, payload)
       SELECT m.id, $2, m."eventType", m.subject, m."streamId", m."streamVersion", m."globalPosition", m.payload
       FROM jsonb_to_recordset($1::jsonb) AS m(id text, "eventType" text, subject text, "streamId" text,
         "streamVersion" integer, "globalPosition" bigint, payload text)
       ON CONFLICT (id) DO NOTHING`,
      [JSON.stringify(messages), DEFAULT_ENDPOINT],
    );
  }
  if (shipping.size > 0) {
    await session.query(
      `INSERT INTO shipping_tasks (out_trade_no) SELECT unnest($1::text[])
       ON CONFLICT (out_trade_no) DO UPDATE SET next_attempt_at = now(), claim_token = NULL`,
      [[...shipping]],
    );
  }
}
