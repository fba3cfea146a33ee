import { Module } from '@nestjs/common';
import { LedgerConfig } from '@ledger/platform';
import { FulfilmentHook, LoggingFulfilmentHook } from './fulfilment-hook';
import { DEFAULT_FULFILMENT_OPTIONS, FULFILMENT_OPTIONS } from './fulfilment-options';
import { FulfilmentWorker } from './fulfilment-worker';

/**
 * The delivery worker (docs/product-rules.md, "Delivery decisions"; docs/fulfilment.md, "Escrow shipping").
 * Needs OrderQueries (ProjectionsModule), OrderCommands (IngestModule) and AlipayGateway
 * (AlipayGatewayModule), all global. A merchant plugs its fulfilment system in by replacing the
 * `FulfilmentHook` provider below.
 */
@Module({
  providers: [
    { provide: FulfilmentHook, useClass: LoggingFulfilmentHook },
    {
      provide: FULFILMENT_OPTIONS,
      inject: [LedgerConfig],
      useFactory: (config: LedgerConfig) => ({
        ...DEFAULT_FULFILMENT_OPTIONS,
        enabled: config.fulfilment.enabled,
      }),
    },
    FulfilmentWorker,
  ],
})
export class FulfilmentModule {}
