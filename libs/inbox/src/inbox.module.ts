import { Module } from '@nestjs/common';
import { InboxQueries } from './inbox-queries';
import { InboxRecovery } from './inbox-recovery';

/**
 * The raw inbox of notifications: `InboxQueries` (admin API) and the sweep that gives interrupted
 * notifications an outcome. Needs PlatformModule's DataSource, LedgerConfig and LedgerLogger.
 */
@Module({
  providers: [InboxQueries, InboxRecovery],
  exports: [InboxQueries, InboxRecovery],
})
export class InboxModule {}
