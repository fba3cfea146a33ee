import { Module } from '@nestjs/common';
import { AlipayGatewayModule } from '@ledger/alipay-gateway';
import { CommandsModule } from '@ledger/commands';
import { LedgerConfig, PlatformModule } from '@ledger/platform';
import { RECONCILE_OPTIONS, reconcileOptions } from './reconcile-options';
import { Reconciler } from './reconciler';

/**
 * The reconciler (docs/operations.md, "Reconciliation"): its scheduled queries run when RECONCILE_WORKER is
 * on; `Reconciler.reconcile` serves the admin API and the CLI.
 */
@Module({
  imports: [PlatformModule, CommandsModule, AlipayGatewayModule],
  providers: [
    {
      provide: RECONCILE_OPTIONS,
      inject: [LedgerConfig],
      useFactory: (config: LedgerConfig) => reconcileOptions(config),
    },
    Reconciler,
  ],
  exports: [Reconciler],
})
export class ReconcileModule {}
