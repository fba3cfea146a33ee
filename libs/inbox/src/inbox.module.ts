import { Module } from '@nestjs/common';
import { PlatformModule } from '@ledger/platform';
import { InboxQueries } from './inbox-queries';
import { InboxRecovery } from './inbox-recovery';
import { InboxStore } from './inbox-store';

/**
 * The raw inbox of notifications: `InboxQueries` (admin API) and the sweep that gives interrupted
 * notifications an outcome.
 */
@Module({
  imports: [PlatformModule],
  providers: [InboxStore, InboxQueries, InboxRecovery],
  exports: [InboxStore, InboxQueries, InboxRecovery],
})
export class InboxModule {}
