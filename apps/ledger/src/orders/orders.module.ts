import { Module } from '@nestjs/common';
import { OrdersController } from './orders.controller';
import { PaymentRequests } from './payment-requests';

/**
 * `POST /orders` (docs/product-rules.md, "HTTP endpoints"): places orders through `OrderCommands` and signs
 * their payment requests.
 */
@Module({
  controllers: [OrdersController],
  providers: [PaymentRequests],
})
export class OrdersModule {}
