import { Module } from '@nestjs/common';
import { CommandsModule } from '@ledger/commands';
import { PlatformModule } from '@ledger/platform';
import { OrdersModule } from '../orders/orders.module';
import { DemoController } from './demo.controller';

/**
 * The order page (docs/product-rules.md, "Demo mode"). `LedgerModule` imports it when DEMO_PAGE is on (by
 * default in demo mode only). It places orders on the command bus, with `OrdersModule`'s handler.
 */
@Module({ imports: [PlatformModule, CommandsModule, OrdersModule], controllers: [DemoController] })
export class DemoModule {}
