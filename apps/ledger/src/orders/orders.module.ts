import { Module } from '@nestjs/common';
import { IngestModule } from '@ledger/ingest';
import { PlatformModule } from '@ledger/platform';
import { ProjectionsModule } from '@ledger/projections';
import { HttpEdgeModule } from '../http/http-edge.module';
import { OrdersController } from './orders.controller';
import { PaymentRequests } from './payment-requests';

/**
 * `POST /orders` (docs/product-rules.md, "HTTP endpoints"): places orders through `OrderCommands` and signs
 * their payment requests.
 */
@Module({
  imports: [PlatformModule, HttpEdgeModule, IngestModule, ProjectionsModule],
  controllers: [OrdersController],
  providers: [PaymentRequests],
})
export class OrdersModule {}
