import { Module } from '@nestjs/common';
import { AlipayGatewayModule } from '@ledger/alipay-gateway';
import { RefundSubmissions } from '@ledger/ingest';
import { NopwdSender } from './nopwd-sender';
import { RefundRequests } from './refund-requests';
import { RefundResender } from './refund-resender';
import { DEFAULT_REFUNDS_OPTIONS, REFUNDS_OPTIONS } from './refunds-options';
import { RefundsController } from './refunds.controller';

/**
 * `POST /refunds` (docs/product-rules.md, "HTTP endpoints"; docs/operations.md, "The resender") and the
 * resender of nopwd batches the gateway has not answered. Needs RefundBatchCommands and OrderCommands
 * (IngestModule), RefundBatchQueries and ProjectionsService (ProjectionsModule) and the EventStore, all
 * global.
 */
@Module({
  imports: [AlipayGatewayModule],
  controllers: [RefundsController],
  providers: [
    { provide: REFUNDS_OPTIONS, useValue: DEFAULT_REFUNDS_OPTIONS },
    RefundSubmissions,
    RefundRequests,
    NopwdSender,
    RefundResender,
  ],
})
export class RefundsModule {}
