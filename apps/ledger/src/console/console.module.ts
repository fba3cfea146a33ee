import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { CommandsModule } from '@ledger/commands';
import { InboxModule } from '@ledger/inbox';
import { OperatorSessions, PlatformModule } from '@ledger/platform';
import { FulfilmentModule, NopwdRefundsModule, ProcessConsumersModule } from '@ledger/processes';
import { ProjectionsModule } from '@ledger/projections';
import type { DataSource } from 'typeorm';
import { ConfirmedActions } from './confirmed-action';
import { ConsoleAttentionController } from './console-attention.controller';
import { ConsoleAuthController } from './console-auth.controller';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { ConsoleExportsController } from './console-exports.controller';
import { ConsoleNotificationsController } from './console-notifications.controller';
import { ConsoleOrdersController } from './console-orders.controller';
import { ConsoleProjectionsController } from './console-projections.controller';
import { ConsoleRefundBatchesController } from './console-refund-batches.controller';
import { ConsoleSessionGuard } from './session/console-session.guard';

/**
 * The operator's web console at /console (docs/console.md): server-rendered pages over the same queries and
 * commands as the admin API, signed in with the admin token exchanged for a session kept in PostgreSQL.
 * Served in both modes.
 */
@Module({
  imports: [
    PlatformModule,
    CommandsModule,
    InboxModule,
    ProjectionsModule,
    FulfilmentModule,
    NopwdRefundsModule,
    ProcessConsumersModule,
  ],
  controllers: [
    ConsoleAuthController,
    ConsoleOrdersController,
    ConsoleAttentionController,
    ConsoleNotificationsController,
    ConsoleRefundBatchesController,
    ConsoleProjectionsController,
    ConsoleExportsController,
  ],
  providers: [
    {
      provide: OperatorSessions,
      inject: [getDataSourceToken()],
      useFactory: (dataSource: DataSource) => new OperatorSessions(dataSource),
    },
    ConsoleSessionGuard,
    ConsoleExceptionFilter,
    ConfirmedActions,
  ],
  exports: [OperatorSessions, ConsoleSessionGuard, ConsoleExceptionFilter],
})
export class ConsoleModule {}
