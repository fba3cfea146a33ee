import { Module } from '@nestjs/common';
import { DemoController } from './demo.controller';

/**
 * The order page (docs/product-rules.md, "Demo mode"). `LedgerModule` imports it when DEMO_PAGE is on (by
 * default in demo mode only). It needs `OrdersModule`'s controller, found at start.
 */
@Module({ controllers: [DemoController] })
export class DemoModule {}
