import { Global, Module } from '@nestjs/common';
import { LedgerConfig } from '@ledger/platform';
import { AlipayGateway } from './alipay-gateway';

/**
 * Provides the `AlipayGateway` of the configured merchant (ALIPAY_PARTNER, ALIPAY_KEY or the RSA key,
 * ALIPAY_INPUT_CHARSET, ALIPAY_GATEWAY) to the whole application: the notify pipeline and the fulfilment
 * worker share one client.
 */
@Global()
@Module({
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
