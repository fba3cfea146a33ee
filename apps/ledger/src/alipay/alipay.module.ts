import { Module } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AlipayGateway, AlipayGatewayModule } from '@ledger/alipay-gateway';
import { CommandsModule, NotificationPipeline } from '@ledger/commands';
import { NOTIFY_ID_CHECK, type NotifyIdCheck } from '@ledger/inbox';
import { inRequestContext, LedgerMetrics, PlatformModule } from '@ledger/platform';
import { ProjectionsModule } from '@ledger/projections';
import { AlipayController } from './alipay.controller';
import { ingestTimer } from './ingest-timer';
import { captureRawBody } from './raw-body';

/**
 * The Alipay edge: the notify and return endpoints, the notification pipeline, and `notify_verify` through
 * the gateway client.
 *
 * The ingest timer and the raw-body capture are registered on the HTTP adapter when this module is
 * constructed: Nest builds the modules in `NestFactory.create` and registers its own body parsers later, in
 * `init()`, so they run first on `/alipay/*`. (A module's `configure()` middleware would run after the
 * parsers.)
 */
@Module({
  imports: [PlatformModule, ProjectionsModule, AlipayGatewayModule, CommandsModule],
  controllers: [AlipayController],
  providers: [
    NotificationPipeline,
    {
      provide: NOTIFY_ID_CHECK,
      inject: [AlipayGateway],
      useFactory:
        (gateway: AlipayGateway): NotifyIdCheck =>
        async (notifyId) => {
          const { verified, answer } = await gateway.notifyVerify(notifyId);
          return { genuine: verified, body: answer };
        },
    },
  ],
})
export class AlipayModule {
  constructor(adapterHost: HttpAdapterHost, metrics: LedgerMetrics) {
    adapterHost.httpAdapter.use('/alipay', ingestTimer(metrics));
    adapterHost.httpAdapter.use('/alipay', inRequestContext(captureRawBody));
  }
}
