import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { CommandsModule } from '@ledger/commands';
import { InboxModule } from '@ledger/inbox';
import { OperatorSessions, PlatformModule } from '@ledger/platform';
import { ProjectionsModule } from '@ledger/projections';
import type { DataSource } from 'typeorm';
import { ConsoleAuthController } from './console-auth.controller';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { ConsoleSessionGuard } from './session/console-session.guard';

/**
 * The operator's web console at /console (docs/console.md): server-rendered pages over the same queries and
 * commands as the admin API, signed in with the admin token exchanged for a session kept in PostgreSQL.
 * Served in both modes.
 */
@Module({
  imports: [PlatformModule, CommandsModule, InboxModule, ProjectionsModule],
  controllers: [ConsoleAuthController],
  providers: [
    {
      provide: OperatorSessions,
      inject: [getDataSourceToken()],
      useFactory: (dataSource: DataSource) => new OperatorSessions(dataSource),
    },
    ConsoleSessionGuard,
    ConsoleExceptionFilter,
  ],
  exports: [OperatorSessions, ConsoleSessionGuard, ConsoleExceptionFilter],
})
export class ConsoleModule {}
