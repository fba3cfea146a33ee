import { Module } from '@nestjs/common';
import { AlipayGatewayModule } from '@ledger/alipay-gateway';
import { CommandsModule } from '@ledger/commands';
import { NopwdSender } from './nopwd-sender';
import { RefundRequests } from './refund-requests';
import { RefundResender } from './refund-resender';
import { DEFAULT_REFUNDS_OPTIONS, REFUNDS_OPTIONS } from './refunds-options';
import { RefundsController } from './refunds.controller';
import { RequestRefundsHandler } from './request-refunds.handler';

/**
 * `POST /refunds` (SPEC §4, issue 5 §1) and the resender of nopwd batches the gateway has not answered.
 * Commands go on the bus (CommandsModule); needs RefundBatchQueries and ProjectionsService
 * (ProjectionsModule), global.
 */
@Module({
  imports: [AlipayGatewayModule, CommandsModule],
  controllers: [RefundsController],
  providers: [
    { provide: REFUNDS_OPTIONS, useValue: DEFAULT_REFUNDS_OPTIONS },
    RequestRefundsHandler,
    RefundRequests,
    NopwdSender,
    RefundResender,
  ],
})
export class RefundsModule {}
