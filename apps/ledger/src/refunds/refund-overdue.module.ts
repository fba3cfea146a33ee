import { Module } from '@nestjs/common';
import { LedgerConfig } from '@ledger/platform';
import { REFUND_OVERDUE_OPTIONS, RefundOverdueCheck, refundOverdueOptions } from './refund-overdue-check';

/**
 * The periodic check that flags refund batches left without a result (docs/operations.md,
 * "Refund results that do not come"), after `REFUND_RESULT_TIMEOUT_MINUTES`. Needs RefundBatchCommands
 * (IngestModule, global).
 */
@Module({
  providers: [
    {
      provide: REFUND_OVERDUE_OPTIONS,
      inject: [LedgerConfig],
      useFactory: (config: LedgerConfig) => refundOverdueOptions(config.refunds.resultTimeoutMinutes),
    },
    RefundOverdueCheck,
  ],
})
export class RefundOverdueModule {}
