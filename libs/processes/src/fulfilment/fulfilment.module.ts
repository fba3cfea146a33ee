import { Module } from '@nestjs/common';
import { AlipayGatewayModule } from '@ledger/alipay-gateway';
import { CommandsModule } from '@ledger/commands';
import { LedgerConfig, PlatformModule } from '@ledger/platform';
import { ProjectionsModule } from '@ledger/projections';
import { FulfilmentHook, LoggingFulfilmentHook } from './fulfilment-hook';
import { DEFAULT_FULFILMENT_OPTIONS, FULFILMENT_OPTIONS } from './fulfilment-options';
import { FulfilmentWorker } from './fulfilment-worker';

/**
 * The delivery worker (docs/fulfilment.md). Runs when FULFILMENT_WORKER is on. A merchant plugs its
 * fulfilment system in by replacing the `FulfilmentHook` provider below.
 */
@Module({
  imports: [PlatformModule, CommandsModule, ProjectionsModule, AlipayGatewayModule],
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
  exports: [FulfilmentWorker],
})
export class FulfilmentModule {}
