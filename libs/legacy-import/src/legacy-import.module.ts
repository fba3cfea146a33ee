import { Module } from '@nestjs/common';
import { CommandsModule, NotificationPipeline } from '@ledger/commands';
import { NOTIFY_ID_CHECK, type NotifyIdCheck } from '@ledger/inbox';
import { PlatformModule } from '@ledger/platform';
import { LogImporter } from './log-importer';
import { OrderTableImporter } from './order-table-importer';

/** `notify_verify` is never asked for an imported notification: its notify_id died years ago. */
const NEVER_ASKED: NotifyIdCheck = () =>
  Promise.reject(new Error('notify_verify is not asked for imported notifications'));

/**
 * The import of a PHP integration's history (docs/operations.md, "Importing a PHP integration's history"):
 * its notification logs through the notification pipeline, its order table through the command bus.
 */
@Module({
  imports: [PlatformModule, CommandsModule],
  providers: [
    NotificationPipeline,
    { provide: NOTIFY_ID_CHECK, useValue: NEVER_ASKED },
    LogImporter,
    OrderTableImporter,
  ],
  exports: [LogImporter, OrderTableImporter],
})
export class LegacyImportModule {}
