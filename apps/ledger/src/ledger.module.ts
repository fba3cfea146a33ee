import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { EventStoreModule } from '@ledger/event-store';
import { type LedgerConfig, type LedgerDatabase, type LedgerLogger, PlatformModule } from '@ledger/platform';
import { HealthController } from './health/health.controller';

@Module({})
export class LedgerModule {
  static forRoot(runtime: {
    config: LedgerConfig;
    database: LedgerDatabase;
    logger: LedgerLogger;
  }): DynamicModule {
    return {
      module: LedgerModule,
      imports: [
        PlatformModule.forRoot(runtime),
        EventStoreModule.forRoot(),
        TerminusModule.forRoot({ logger: false }),
      ],
      controllers: [HealthController],
    };
  }
}
