import { Module } from '@nestjs/common';
import { CommandsModule } from '@ledger/commands';
import { PlatformModule } from '@ledger/platform';
import { ProjectionsModule } from '@ledger/projections';
import { HttpEdgeModule } from '../http/http-edge.module';
import { OrdersController } from './orders.controller';
import { PaymentRequests } from './payment-requests';
import { PlaceOrderRequestHandler } from './place-order-request.handler';

/**
 * `POST /orders` (docs/product-rules.md, "HTTP endpoints"): signs payment requests and places orders on the
 * command bus.
 */
@Module({
  imports: [PlatformModule, HttpEdgeModule, CommandsModule, ProjectionsModule],
  controllers: [OrdersController],
  providers: [PaymentRequests, PlaceOrderRequestHandler],
})
export class OrdersModule {}
