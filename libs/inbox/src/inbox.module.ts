import { Module } from '@nestjs/common';
import { PlatformModule } from '@ledger/platform';
import { InboxQueries } from './inbox-queries';
import { InboxRecovery } from './inbox-recovery';
import { InboxSignatureAudit } from './inbox-signature-audit';
import { InboxStore } from './inbox-store';

/**
 * The raw inbox of notifications: `InboxQueries` (admin API), the sweep that gives interrupted
 * notifications an outcome, and `InboxSignatureAudit`, which verifies the stored ones again.
 */
@Module({
  imports: [PlatformModule],
  providers: [InboxStore, InboxQueries, InboxRecovery, InboxSignatureAudit],
  exports: [InboxStore, InboxQueries, InboxRecovery, InboxSignatureAudit],
})
export class InboxModule {}
