import { Module } from '@nestjs/common';
import { PlatformModule } from '@ledger/platform';
import { OrdersModule } from '../orders/orders.module';
import { DemoController } from './demo.controller';

/**
 * The order page (docs/product-rules.md, "Demo mode"). `LedgerModule` imports it when DEMO_PAGE is on (by
 * default in demo mode only). It places orders through `OrdersModule`'s controller, found at start.
 */
@Module({ imports: [PlatformModule, OrdersModule], controllers: [DemoController] })
export class DemoModule {}
