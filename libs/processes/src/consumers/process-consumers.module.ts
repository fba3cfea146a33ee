import { Module } from '@nestjs/common';
import { EventStoreModule } from '@ledger/event-store';
import { PlatformModule } from '@ledger/platform';
import { ProcessConsumers } from './process-consumers';

/** The process managers' consumers on their one projector, shared by the fulfilment and refund modules. */
@Module({
  imports: [PlatformModule, EventStoreModule],
  providers: [ProcessConsumers],
  exports: [ProcessConsumers],
})
export class ProcessConsumersModule {}
