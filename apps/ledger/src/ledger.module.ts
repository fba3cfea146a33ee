import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LEDGER_EVENT_CATALOGUE } from '@ledger/domain';
import { EventStoreModule } from '@ledger/event-store';
import { CommandsModule } from '@ledger/commands';
import { InboxModule } from '@ledger/inbox';
import { type LedgerConfig, type LedgerDatabase, type LedgerLogger, PlatformModule } from '@ledger/platform';
import { FulfilmentModule, RefundOverdueModule } from '@ledger/processes';
import { ProjectionsModule } from '@ledger/projections';
import { AdminModule } from './admin/admin.module';
import { AlipayModule } from './alipay/alipay.module';
import { ConsoleModule } from './console/console.module';
import { DemoModule } from './demo/demo.module';
import { DemoShopModule } from './demo/demo-shop';
import { HealthController } from './health/health.controller';
import { HomeController } from './home/home.controller';
import { HttpEdgeModule } from './http/http-edge.module';
import { MetricsModule } from './metrics/metrics.module';
import { OrdersModule } from './orders/orders.module';
import { RefundsModule } from './refunds/refunds.module';

@Module({})
export class LedgerModule {
  static forRoot(runtime: {
    config: LedgerConfig;
    database: LedgerDatabase;
    logger: LedgerLogger;
  }): DynamicModule {
    return {
      module: LedgerModule,
      imports: [
        // Hand the runtime and the store's options over once; every module below imports what it uses.
        PlatformModule.forRoot(runtime),
        EventStoreModule.forRoot({ catalogue: LEDGER_EVENT_CATALOGUE }),
        PlatformModule,
        TerminusModule.forRoot({ logger: false }),
        InboxModule,
        CommandsModule,
        ProjectionsModule,
        HttpEdgeModule,
        OrdersModule,
        AdminModule,
        AlipayModule,
        FulfilmentModule,
        RefundOverdueModule,
        RefundsModule,
        ConsoleModule,
        MetricsModule,
        // On by default in demo mode only; in live mode it places real orders and asks for the admin token.
        ...(runtime.config.pages.demoPage ? [DemoModule] : []),
        // Demo mode without a merchant's endpoint: the shop inside the ledger receives the webhooks.
        ...(runtime.config.webhooks.demoShop ? [DemoShopModule] : []),
      ],
      controllers: [HealthController, HomeController],
    };
  }
}
