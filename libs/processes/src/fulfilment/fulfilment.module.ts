import { Module } from '@nestjs/common';
import { AlipayGatewayModule } from '@ledger/alipay-gateway';
import { CommandsModule } from '@ledger/commands';
import { EventStoreModule } from '@ledger/event-store';
import { LedgerConfig, PlatformModule } from '@ledger/platform';
import { ProcessConsumersModule } from '../consumers/process-consumers.module';
import { WebhookDispatcher } from '../webhooks/webhook-dispatcher';
import { WEBHOOK_OPTIONS, type WebhookOptions } from '../webhooks/webhook-options';
import { WebhookQueries } from '../webhooks/webhook-queries';
import { DEFAULT_FULFILMENT_OPTIONS, FULFILMENT_OPTIONS, type FulfilmentOptions } from './fulfilment-options';
import { FulfilmentProcess } from './fulfilment-process';
import { ShippingConfirmations } from './shipping-confirmations';

/**
 * The fulfilment process manager (docs/fulfilment.md) and the merchant webhooks (docs/webhooks.md): the
 * consumer, the dispatcher and the shipping confirmations run when FULFILMENT_WORKER is on; the delivery
 * log (`WebhookQueries`) is read from any instance.
 */
@Module({
  imports: [PlatformModule, EventStoreModule, CommandsModule, AlipayGatewayModule, ProcessConsumersModule],
  providers: [
    {
      provide: FULFILMENT_OPTIONS,
      inject: [LedgerConfig],
      useFactory: (config: LedgerConfig): FulfilmentOptions => ({
        ...DEFAULT_FULFILMENT_OPTIONS,
        enabled: config.fulfilment.enabled,
      }),
    },
    {
      provide: WEBHOOK_OPTIONS,
      inject: [LedgerConfig],
      useFactory: ({ fulfilment, webhooks }: LedgerConfig): WebhookOptions => ({
        enabled: fulfilment.enabled,
        ...(webhooks.url === undefined ? {} : { url: webhooks.url }),
        demoShop: webhooks.demoShop,
        secret: webhooks.secret,
        retryScheduleMs: webhooks.retryScheduleMs,
        jitter: 0.2,
        connectTimeoutMs: webhooks.connectTimeoutMs,
        timeoutMs: webhooks.timeoutMs,
        concurrency: webhooks.concurrency,
        concurrencyWhileBusy: webhooks.concurrencyWhileBusy,
        pollMs: 5_000,
        claimGraceMs: 10_000,
      }),
    },
    WebhookDispatcher,
    WebhookQueries,
    ShippingConfirmations,
    FulfilmentProcess,
  ],
  exports: [FulfilmentProcess, WebhookDispatcher, WebhookQueries],
})
export class FulfilmentModule {}
