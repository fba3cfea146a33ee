import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Reconciler, type ReconcileReport, type ReconcileStatus } from '@ledger/processes';
import { AdminTokenGuard } from '../http/admin-token.guard';
import { ReconcileRequest, reconcileSelectionOf } from './reconcile.dto';

/** Reconciliation with Alipay's `single_trade_query` (docs/operations.md, "Reconciliation"). */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@ApiUnauthorizedResponse({ description: 'missing or wrong bearer token' })
@Controller('admin')
export class AdminReconcileController {
  constructor(private readonly reconciler: Reconciler) {}

  @Post('reconcile')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Ask Alipay now about listed orders, or those placed in a time range and awaiting payment',
    description:
      'Each answer is kept on the inbox channel `query` and decided like a notification; `dryRun` asks ' +
      'and writes nothing. `TRADE_IS_NOT_EXIST` closes nothing: it is listed in `notFound`.',
  })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: true } })
  @ApiBadRequestResponse({ description: 'not exactly one selection, or an invalid one' })
  reconcile(@Body() request: ReconcileRequest): Promise<ReconcileReport> {
    return this.reconciler.reconcile(reconcileSelectionOf(request), request.dryRun === true);
  }

  @Get('reconcile')
  @ApiOperation({
    summary: 'The reconcile schedule, orders paid by a query with no notification, the oldest unpaid order',
    description:
      'A growing `paidByQueryWithoutNotification` or an old `oldestAwaitingPayment` means notifications ' +
      'do not reach the ledger (a wrong notify_url, a firewall).',
  })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: true } })
  status(): Promise<ReconcileStatus> {
    return this.reconciler.status();
  }
}
