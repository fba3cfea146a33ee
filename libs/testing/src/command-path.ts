import { Test, type TestingModule } from '@nestjs/testing';
import { CommandBus } from '@nestjs/cqrs';
import { CommandsModule, NotificationPipeline, StreamReads } from '@ledger/commands';
import { LEDGER_EVENT_CATALOGUE } from '@ledger/domain';
import { EventStore, EventStoreModule } from '@ledger/event-store';
import { NOTIFY_ID_CHECK, type NotifyIdCheck } from '@ledger/inbox';
import { LedgerLogger, PlatformModule, loadConfig } from '@ledger/platform';
import type { TestDatabase } from './test-database';

/** The command path on a test database, booted as the ledger boots it: the bus, its handlers, the reads. */
export interface CommandPath {
  module: TestingModule;
  bus: CommandBus;
  store: EventStore;
  reads: StreamReads;
  pipeline: NotificationPipeline;
  close(): Promise<void>;
}

/** Every notify_id genuine, unless the test says otherwise. */
const GENUINE: NotifyIdCheck = () => Promise.resolve({ genuine: true, body: 'true' });

/** Boots CommandsModule on `database`; `env` is the configuration's environment (quiet logs by default). */
export async function startCommandPath(
  database: TestDatabase,
  options: { notifyIdCheck?: NotifyIdCheck; env?: Record<string, string> } = {},
): Promise<CommandPath> {
  const config = loadConfig({ LOG_LEVEL: 'fatal', ...options.env }, { envFile: false });
  const logger = new LedgerLogger('fatal');
  const module = await Test.createTestingModule({
    imports: [
      PlatformModule.forRoot({ config, database, logger }),
      // The pipeline is provided here, as the Alipay edge provides it: it needs the config and the logger.
      PlatformModule,
      EventStoreModule.forRoot({ catalogue: LEDGER_EVENT_CATALOGUE }),
      CommandsModule,
    ],
    providers: [
      NotificationPipeline,
      { provide: NOTIFY_ID_CHECK, useValue: options.notifyIdCheck ?? GENUINE },
    ],
  })
    .setLogger(logger)
    .compile();
  await module.init();
  return {
    module,
    bus: module.get(CommandBus),
    store: module.get(EventStore),
    reads: module.get(StreamReads),
    pipeline: module.get(NotificationPipeline),
    close: () => module.close(),
  };
}
