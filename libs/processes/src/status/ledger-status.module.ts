import { Module } from '@nestjs/common';
import { PlatformModule } from '@ledger/platform';
import { ProjectionsModule } from '@ledger/projections';
import { LedgerStatus } from './ledger-status';

/** `LedgerStatus`: the ledger at a glance, for the CLI's `status`. */
@Module({
  imports: [PlatformModule, ProjectionsModule],
  providers: [LedgerStatus],
  exports: [LedgerStatus],
})
export class LedgerStatusModule {}
