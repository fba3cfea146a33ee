import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { CompleteDeliveryCommand, CompleteReturnCommand, StreamReads } from '@ledger/commands';
import { deliveryDecision, returnDecision, type OrderState } from '@ledger/domain';
import type { ProjectionLag } from '@ledger/event-store';
import { LedgerLogger } from '@ledger/platform';
import { ProcessConsumers } from '../consumers/process-consumers';
import {
  ANSWERED,
  WebhookDispatcher,
  type ClaimedWebhook,
  type WebhookAnswer,
} from '../webhooks/webhook-dispatcher';
import { FULFILMENT_OPTIONS, type FulfilmentOptions } from './fulfilment-options';
import { FULFILMENT_OUTBOX } from './fulfilment-outbox';
import { ShippingConfirmations } from './shipping-confirmations';

const CONTEXT = 'FulfilmentProcess';

/**
 * The fulfilment process manager (docs/fulfilment.md): the checkpointed consumer that turns the order
 * events into work (`fulfilment_outbox`), the webhook dispatcher that sends it, and the shipping
 * confirmations. `order.delivery_requested` answered 2xx is the delivery: `DeliveryCompleted` is recorded
 * with the webhook's id and the receiver's reply; `order.return_requested` the same for `ReturnCompleted`.
 * Each is sent only while its decision is still `pending` on the order's stream.
 */
@Injectable()
export class FulfilmentProcess implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private unsubscribe?: () => void;

  constructor(
    private readonly consumers: ProcessConsumers,
    private readonly logger: LedgerLogger,
    private readonly reads: StreamReads,
    private readonly bus: CommandBus,
    private readonly dispatcher: WebhookDispatcher,
    private readonly shipping: ShippingConfirmations,
    @Inject(FULFILMENT_OPTIONS) private readonly options: FulfilmentOptions,
  ) {
    dispatcher.react('order.delivery_requested', {
      stillDue: (webhook) =>
        this.stillDue(webhook, deliveryDecision, 'delivery', (s) => s.deliveredByWebhook),
      answered: (webhook, answer) => this.delivered(webhook, answer),
    });
    dispatcher.react('order.return_requested', {
      stillDue: (webhook) => this.stillDue(webhook, returnDecision, 'return', (s) => s.returnedByWebhook),
      answered: (webhook, answer) => this.returned(webhook, answer),
    });
  }

  onApplicationBootstrap(): void {
    if (!this.options.enabled) return;
    // The consumer's checkpoint moves on whichever instance runs it: every instance's senders wake. The
    // consumer itself runs on the process managers' projector (ProcessConsumers).
    this.unsubscribe = this.consumers.projector.onProjected((projection) => {
      if (projection !== FULFILMENT_OUTBOX) return;
      this.dispatcher.wake();
      this.shipping.wake();
    });
    this.dispatcher.start();
    this.shipping.start();
  }

  // Before the shutdown hooks proper: TypeORM's closes the data source they work on.
  async beforeApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    await this.shipping.stop();
  }

  /** How far the consumer is behind the event store. */
  lag(): Promise<ProjectionLag> {
    return this.consumers.fulfilmentLag();
  }

  private async stillDue(
    webhook: ClaimedWebhook,
    decision: (state: OrderState) => string,
    what: string,
    completedBy: (state: OrderState) => string | undefined,
  ): Promise<true | typeof ANSWERED | string> {
    const { state } = await this.reads.order(webhook.subject);
    if (completedBy(state) === webhook.id) return ANSWERED;
    const now = decision(state);
    return now === 'pending' ? true : `the ${what} is ${now} on the order's stream`;
  }

  private async delivered(webhook: ClaimedWebhook, answer: WebhookAnswer): Promise<void> {
    const outTradeNo = webhook.subject;
    const result = await this.bus.execute(
      new CompleteDeliveryCommand(
        {
          type: 'CompleteDelivery',
          outTradeNo,
          deliveredAt: new Date().toISOString(),
          ...(answer.reference === undefined ? {} : { reference: answer.reference }),
          source: {
            via: 'webhook',
            webhookId: webhook.id,
            reply: { status: answer.status, body: answer.body },
          },
        },
        { causationId: webhook.id },
      ),
    );
    this.logger.log(
      {
        msg: `order ${outTradeNo}: delivered (webhook ${webhook.id})${result.events.length === 0 ? ', already recorded' : ''}`,
        outTradeNo,
        reference: answer.reference,
      },
      CONTEXT,
    );
  }

  private async returned(webhook: ClaimedWebhook, answer: WebhookAnswer): Promise<void> {
    const outTradeNo = webhook.subject;
    await this.bus.execute(
      new CompleteReturnCommand(
        {
          type: 'CompleteReturn',
          outTradeNo,
          returnedAt: new Date().toISOString(),
          ...(answer.reference === undefined ? {} : { reference: answer.reference }),
          source: {
            via: 'webhook',
            webhookId: webhook.id,
            reply: { status: answer.status, body: answer.body },
          },
        },
        { causationId: webhook.id },
      ),
    );
    this.logger.log(
      { msg: `order ${outTradeNo}: goods taken back (webhook ${webhook.id})`, outTradeNo },
      CONTEXT,
    );
  }
}
