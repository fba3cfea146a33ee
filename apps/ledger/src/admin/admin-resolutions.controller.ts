import { randomUUID } from 'node:crypto';
import { Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { parseBatchNo } from '@ledger/alipay-protocol';
import {
  CancelRefundBatchCommand,
  MarkRefundBatchOutcomeCommand,
  ResolveAnomaliesCommand,
  type OrderDecision,
  type RefundBatchDecision,
} from '@ledger/commands';
import { orderStreamId } from '@ledger/domain';
import { LedgerLogger } from '@ledger/platform';
import {
  OrderQueries,
  OrderView,
  ProjectionsService,
  RefundBatchQueries,
  toOrderView,
} from '@ledger/projections';
import { AdminTokenGuard } from '../http/admin-token.guard';
import { ApiError } from '../http/api-error';
import { orderNotFound } from './order-history.query';
import { RefundBatchView, toRefundBatchView } from './refund-batch.dto';
import {
  CancelRefundBatchRequest,
  MarkRefundBatchOutcomeRequest,
  ResolveAnomaliesRequest,
} from './resolution.dto';

/** How long a resolution waits for the projections to show it before answering anyway. */
const READ_YOUR_WRITES_MS = 2_000;

function batchNoOf(batchNo: string): string {
  const parsed = parseBatchNo(batchNo);
  if (!parsed.ok) {
    const problems = parsed.errors.map((e) => e.message).join('; ');
    throw new ApiError('INVALID_REQUEST', `batchNo: ${problems}`, 'batchNo');
  }
  return batchNo;
}

/**
 * Operator resolutions (docs/operations.md, "Operator resolutions"): each one an event with who (`operator`),
 * when and why (`reason`), appended through the command bus like every other write, then answered with the
 * order or batch as the projections show it.
 */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@ApiUnauthorizedResponse({ description: 'missing or wrong bearer token' })
@Controller('admin')
export class AdminResolutionsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly orders: OrderQueries,
    private readonly batches: RefundBatchQueries,
    private readonly projections: ProjectionsService,
    private readonly logger: LedgerLogger,
  ) {}

  @Post('orders/:outTradeNo/anomalies/resolve')
  @HttpCode(200)
  @ApiOperation({
    summary: "Accept or confirm the order's open anomalies, with who and why",
    description:
      'Covers every anomaly not yet resolved (AnomalyResolved on the order stream). accept: they no longer ' +
      'block delivery; confirm: the order stays blocked for good. A later anomaly blocks again.',
  })
  @ApiOkResponse({ type: OrderView })
  @ApiBadRequestResponse({ description: 'decision, operator or reason missing or invalid' })
  @ApiNotFoundResponse({ description: 'the ledger knows no such order' })
  @ApiConflictResponse({ description: 'NO_OPEN_ANOMALY: nothing left to resolve' })
  async resolveAnomalies(
    @Param('outTradeNo') outTradeNo: string,
    @Body() body: ResolveAnomaliesRequest,
  ): Promise<OrderView> {
    orderStreamId(outTradeNo);
    if ((await this.orders.get(outTradeNo)) === undefined) throw orderNotFound(outTradeNo);
    const decision = await this.commands.execute(
      new ResolveAnomaliesCommand(
        {
          type: 'ResolveAnomalies',
          outTradeNo,
          decision: body.decision,
          operator: body.operator,
          reason: body.reason,
          resolvedAt: new Date().toISOString(),
        },
        { causationId: `admin:${randomUUID()}` },
      ),
    );
    await this.awaitProjections(decision);
    const order = await this.orders.get(outTradeNo);
    if (order === undefined) throw orderNotFound(outTradeNo);
    return toOrderView(order);
  }

  @Post('refund-batches/:batchNo/cancel')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Cancel a pwd batch still waiting for confirmation on Alipay’s page, with who and why',
    description:
      'RefundBatchCancelled on the batch, each reservation released on its order (RefundFailed with the ' +
      'operator and reason). Cancelling in the ledger does not withdraw the page: a result that still comes ' +
      'is recorded, with a conflicting_batch_outcome anomaly. The same cancellation again changes nothing.',
  })
  @ApiOkResponse({ type: RefundBatchView })
  @ApiBadRequestResponse({ description: 'batchNo, operator or reason invalid' })
  @ApiNotFoundResponse({ description: 'the ledger knows no such batch' })
  @ApiConflictResponse({ description: 'BATCH_NOT_CANCELLABLE: a nopwd batch, or no longer waiting' })
  async cancel(
    @Param('batchNo') batchNo: string,
    @Body() body: CancelRefundBatchRequest,
  ): Promise<RefundBatchView> {
    const decision = await this.commands.execute(
      new CancelRefundBatchCommand(
        {
          type: 'CancelRefundBatch',
          batchNo: batchNoOf(batchNo),
          operator: body.operator,
          reason: body.reason,
          cancelledAt: new Date().toISOString(),
        },
        { causationId: `admin:${randomUUID()}` },
      ),
    );
    await this.awaitProjections(decision);
    return this.batch(batchNo);
  }

  @Post('refund-batches/:batchNo/outcome')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Mark a nopwd batch whose outcome is unknown as accepted or not, after checking Alipay’s console',
    description:
      'RefundBatchOutcomeMarked with the operator and reason. accepted: the reservations are held until the ' +
      'result; not accepted: they are released on each order. Only for a batch in state outcome_unknown.',
  })
  @ApiOkResponse({ type: RefundBatchView })
  @ApiBadRequestResponse({ description: 'batchNo, accepted, operator or reason invalid' })
  @ApiNotFoundResponse({ description: 'the ledger knows no such batch' })
  @ApiConflictResponse({
    description: 'BATCH_OUTCOME_NOT_UNKNOWN: the batch is not waiting with its outcome unknown',
  })
  async markOutcome(
    @Param('batchNo') batchNo: string,
    @Body() body: MarkRefundBatchOutcomeRequest,
  ): Promise<RefundBatchView> {
    const decision = await this.commands.execute(
      new MarkRefundBatchOutcomeCommand(
        {
          type: 'MarkRefundBatchOutcome',
          batchNo: batchNoOf(batchNo),
          accepted: body.accepted,
          operator: body.operator,
          reason: body.reason,
          markedAt: new Date().toISOString(),
        },
        { causationId: `admin:${randomUUID()}` },
      ),
    );
    await this.awaitProjections(decision);
    return this.batch(batchNo);
  }

  private async batch(batchNo: string): Promise<RefundBatchView> {
    const batch = await this.batches.get(batchNo);
    if (batch === undefined) {
      throw new ApiError('NOT_FOUND', `the ledger knows no refund batch ${batchNo}`, 'batchNo');
    }
    return toRefundBatchView(batch);
  }

  private async awaitProjections(decision: OrderDecision | RefundBatchDecision): Promise<void> {
    if (decision.kind !== 'appended') return;
    await this.projections
      .waitForProjections(
        { transactionId: decision.transactionId, position: decision.position },
        READ_YOUR_WRITES_MS,
      )
      .catch((error: unknown) => {
        this.logger.warn(
          `resolution on ${decision.streamId} is recorded but not yet projected: ${String(error)}`,
          'AdminResolutions',
        );
      });
  }
}
