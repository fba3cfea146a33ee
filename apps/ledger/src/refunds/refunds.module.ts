import { Module } from '@nestjs/common';
import { AlipayGatewayModule } from '@ledger/alipay-gateway';
import { EventStoreModule } from '@ledger/event-store';
import { IngestModule, RefundSubmissions } from '@ledger/ingest';
import { PlatformModule } from '@ledger/platform';
import { ProjectionsModule } from '@ledger/projections';
import { HttpEdgeModule } from '../http/http-edge.module';
import { NopwdSender } from './nopwd-sender';
import { RefundRequests } from './refund-requests';
import { RefundResender } from './refund-resender';
import { DEFAULT_REFUNDS_OPTIONS, REFUNDS_OPTIONS } from './refunds-options';
import { RefundsController } from './refunds.controller';

/**
 * `POST /refunds` (docs/product-rules.md, "HTTP endpoints"; docs/operations.md, "The resender") and the
 * resender of nopwd batches the gateway has not answered.
 */
@Module({
  imports: [
    PlatformModule,
    HttpEdgeModule,
    EventStoreModule,
    IngestModule,
    ProjectionsModule,
    AlipayGatewayModule,
  ],
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
