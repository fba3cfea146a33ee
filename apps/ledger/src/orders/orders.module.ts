import { Module } from '@nestjs/common';
import { CommandsModule } from '@ledger/commands';
import { OrdersController } from './orders.controller';
import { PaymentRequests } from './payment-requests';
import { PlaceOrderRequestHandler } from './place-order-request.handler';

/** `POST /orders` (SPEC §4): signs payment requests and places orders on the command bus. */
@Module({
  imports: [CommandsModule],
  controllers: [OrdersController],
  providers: [PaymentRequests, PlaceOrderRequestHandler],
})
export class OrdersModule {}
