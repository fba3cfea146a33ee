import { Module } from '@nestjs/common';
import { PlatformModule } from '@ledger/platform';
import { NopwdRefundsModule } from '@ledger/processes';
import { ProjectionsModule } from '@ledger/projections';
import { HttpEdgeModule } from '../http/http-edge.module';
import { RefundsController } from './refunds.controller';

/**
 * `POST /refunds` (docs/product-rules.md, "HTTP endpoints"): records a batch, and sends a nopwd one through
 * the processes' `NopwdSender`, whose resender takes over the batches the gateway has not answered.
 */
@Module({
  imports: [PlatformModule, HttpEdgeModule, ProjectionsModule, NopwdRefundsModule],
  controllers: [RefundsController],
})
export class RefundsModule {}
