import { Module } from '@nestjs/common';
import { CommandsModule } from '@ledger/commands';
import { PlatformModule } from '@ledger/platform';
import { NopwdRefundsModule } from '@ledger/processes';
import { ProjectionsModule } from '@ledger/projections';
import { HttpEdgeModule } from '../http/http-edge.module';
import { RefundsController } from './refunds.controller';
import { RequestRefundsHandler } from './request-refunds.handler';

/**
 * `POST /refunds` (docs/product-rules.md, "HTTP endpoints"): records a batch on the command bus, and sends a
 * nopwd one through the processes' `NopwdSender`, whose resender takes over the batches the gateway has not
 * answered.
 */
@Module({
  imports: [PlatformModule, HttpEdgeModule, ProjectionsModule, CommandsModule, NopwdRefundsModule],
  controllers: [RefundsController],
  providers: [RequestRefundsHandler],
})
export class RefundsModule {}
