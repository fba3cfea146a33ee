import { Module } from '@nestjs/common';
import { CommandsModule } from '@ledger/commands';
import { LedgerConfig, PlatformModule } from '@ledger/platform';
import { ProcessConsumersModule } from '../consumers/process-consumers.module';
import { RefundBatchWork } from './refund-batch-work';
import { REFUND_OVERDUE_OPTIONS, RefundOverdueCheck, refundOverdueOptions } from './refund-overdue-check';

/**
 * The periodic check that flags refund batches left without a result (docs/operations.md), after
 * `REFUND_RESULT_TIMEOUT_MINUTES`, and expires `pwd` batches never confirmed, after
 * `REFUND_PWD_BATCH_EXPIRE_AFTER_HOURS`.
 */
@Module({
  imports: [PlatformModule, CommandsModule, ProcessConsumersModule],
  providers: [
    {
      provide: REFUND_OVERDUE_OPTIONS,
      inject: [LedgerConfig],
      useFactory: (config: LedgerConfig) =>
        refundOverdueOptions(config.refunds.resultTimeoutMinutes, config.refunds.pwdBatchExpireAfterHours),
    },
    RefundBatchWork,
    RefundOverdueCheck,
  ],
  exports: [RefundOverdueCheck],
})
export class RefundOverdueModule {}
