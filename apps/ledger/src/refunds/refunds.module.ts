import { Module } from '@nestjs/common';
import { NopwdRefundsModule } from '@ledger/processes';
import { RefundsController } from './refunds.controller';

/**
 * `POST /refunds` (docs/product-rules.md, HTTP endpoints): records a batch, and sends a nopwd one through the processes'
 * `NopwdSender`, whose resender takes over the batches the gateway has not answered.
 */
@Module({
  imports: [NopwdRefundsModule],
  controllers: [RefundsController],
})
export class RefundsModule {}
