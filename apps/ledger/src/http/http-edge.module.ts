import { Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { PlatformModule } from '@ledger/platform';
import { AdminTokenGuard } from './admin-token.guard';
import { LedgerExceptionFilter } from './ledger-exception.filter';
import { LedgerValidationPipe } from './ledger-validation.pipe';

/**
 * What every JSON route shares: the exception filter (coded errors → `{statusCode, error, message}`),
 * the validation pipe for our DTOs, and the admin token guard for `/orders`, `/refunds` and `/admin/*`.
 */
@Module({
  imports: [PlatformModule],
  providers: [
    { provide: APP_FILTER, useClass: LedgerExceptionFilter },
    { provide: APP_PIPE, useClass: LedgerValidationPipe },
    AdminTokenGuard,
  ],
  exports: [AdminTokenGuard],
})
export class HttpEdgeModule {}
