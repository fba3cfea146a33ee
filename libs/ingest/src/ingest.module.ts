import { Global, Module } from '@nestjs/common';
import { CommandsModule } from '@ledger/commands';

/**
 * The command path under its old, global module, for the modules that inject its adapters without
 * importing it (the background workers). Removed with the adapters.
 */
@Global()
@Module({ imports: [CommandsModule], exports: [CommandsModule] })
export class IngestModule {}
