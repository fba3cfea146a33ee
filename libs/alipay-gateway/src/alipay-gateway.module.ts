import { Module } from '@nestjs/common';
import { LedgerConfig, PlatformModule } from '@ledger/platform';
import { AlipayGateway } from './alipay-gateway';

/**
 * Provides the `AlipayGateway` of the configured merchant (ALIPAY_PARTNER, ALIPAY_KEY or the RSA key,
 * ALIPAY_INPUT_CHARSET, ALIPAY_GATEWAY) to the modules that import it: the notify edge, the refunds and the
 * fulfilment worker share one client.
 */
@Module({
  imports: [PlatformModule],
  providers: [
    {
      provide: AlipayGateway,
      useFactory: (config: LedgerConfig) => AlipayGateway.fromConfig(config),
      inject: [LedgerConfig],
    },
  ],
  exports: [AlipayGateway],
})
export class AlipayGatewayModule {}
