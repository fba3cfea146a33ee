import { Module } from '@nestjs/common';
import { DemoController } from './demo.controller';

/**
 * The order page (issue 6 §5). `LedgerModule` imports it when DEMO_PAGE is on (by default in demo mode
 * only). It needs `OrdersModule`'s controller, found at start.
 */
@Module({ controllers: [DemoController] })
export class DemoModule {}
