import { Module } from '@nestjs/common';
import { DemoController } from './demo.controller';

/**
 * The demo order page (issue 6 §5). `LedgerModule` imports it only in demo mode (no Alipay credentials):
 * the page places orders without the admin token. It needs `OrdersModule`'s controller, found at start.
 */
@Module({ controllers: [DemoController] })
export class DemoModule {}
