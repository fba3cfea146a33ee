import { Module } from '@nestjs/common';
import { LedgerConfig, LedgerMetrics, PlatformModule } from '@ledger/platform';
import { AlipayGateway } from './alipay-gateway';

/**
 * Provides the `AlipayGateway` of the configured merchant (ALIPAY_PARTNER, ALIPAY_KEY or the RSA key,
 * ALIPAY_INPUT_CHARSET, ALIPAY_GATEWAY) to the modules that import it: the notify edge, the refunds and the
 * fulfilment worker share one client, which times its calls on the application's `LedgerMetrics`.
 */
@Module({
  imports: [PlatformModule],
  providers: [
    {
      provide: AlipayGateway,
      useFactory: (config: LedgerConfig, metrics: LedgerMetrics) =>
        AlipayGateway.fromConfig(config, { metrics }),
      inject: [LedgerConfig, LedgerMetrics],
    },
  ],
  exports: [AlipayGateway],
})
export class AlipayGatewayModule {}
