import { Module } from '@nestjs/common';
import { AlipayGatewayModule } from '@ledger/alipay-gateway';
import { EventStoreModule } from '@ledger/event-store';
import { CommandsModule } from '@ledger/commands';
import { PlatformModule } from '@ledger/platform';
import { ProjectionsModule } from '@ledger/projections';
import { ProcessConsumersModule } from '../consumers/process-consumers.module';
import { NopwdSender } from './nopwd-sender';
import { RefundBatchSends } from './refund-batch-sends';
import { RefundRequests } from './refund-requests';
import { RefundResender } from './refund-resender';
import { DEFAULT_REFUNDS_OPTIONS, REFUNDS_OPTIONS } from './refunds-options';

/**
 * Sending nopwd refund batches: `NopwdSender` (for `POST /refunds`), the resender of the batches the
 * gateway has not answered, and the batch requests (`RefundRequests`, also the pwd page's URL).
 */
@Module({
  imports: [
    PlatformModule,
    EventStoreModule,
    CommandsModule,
    ProjectionsModule,
    AlipayGatewayModule,
    ProcessConsumersModule,
  ],
  providers: [
    { provide: REFUNDS_OPTIONS, useValue: DEFAULT_REFUNDS_OPTIONS },
    RefundRequests,
    RefundBatchSends,
    NopwdSender,
    RefundResender,
  ],
  exports: [REFUNDS_OPTIONS, RefundRequests, RefundBatchSends, NopwdSender, RefundResender],
})
export class NopwdRefundsModule {}
