import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { parseBatchNo } from '@ledger/alipay-protocol';
import { LedgerLogger } from '@ledger/platform';
import { ProjectionsService, RefundBatchQueries } from '@ledger/projections';
import { AdminTokenGuard } from '../http/admin-token.guard';
import { ApiError } from '../http/api-error';
import { readYourWrites } from '../http/read-your-writes';
import { timeRange } from './admin.dto';
import {
  RefundBatchListQuery,
  RefundBatchPageView,
  RefundBatchView,
  toRefundBatchListItemView,
  toRefundBatchView,
} from './refund-batch.dto';

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@ApiUnauthorizedResponse({ description: 'missing or wrong bearer token' })
@Controller('admin/refund-batches')
export class AdminRefundBatchesController {
  constructor(
    private readonly batches: RefundBatchQueries,
    private readonly projections: ProjectionsService,
    private readonly logger: LedgerLogger,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'List refund batches, newest first: filter by state, mode, order and submission time; cursor pages',
    description: 'Pages of 20 by default, at most 100. Items leave out the records: read one batch for them.',
  })
  @ApiOkResponse({ type: RefundBatchPageView })
  @ApiBadRequestResponse({ description: 'a filter or the cursor is invalid' })
  async list(@Query() query: RefundBatchListQuery): Promise<RefundBatchPageView> {
    await readYourWrites(this.projections, this.logger, 'the refund batch list');
    const page = await this.batches.list(
      {
        ...(query.state === undefined ? {} : { state: query.state }),
        ...(query.mode === undefined ? {} : { mode: query.mode }),
        ...(query.outTradeNo === undefined ? {} : { outTradeNo: query.outTradeNo }),
        ...timeRange(query.from, query.to),
        ...(query.limit === undefined ? {} : { limit: query.limit }),
      },
      query.cursor,
    );
    return { items: page.items.map(toRefundBatchListItemView), nextCursor: page.nextCursor };
  }

  @Get(':batchNo')
  @ApiOperation({
    summary: 'One refund batch: its state, the gateway error, each record with its result, anomalies',
  })
  @ApiOkResponse({ type: RefundBatchView })
  @ApiBadRequestResponse({ description: 'not a batch_no (yyyyMMdd + 3 to 24 digits)' })
  @ApiNotFoundResponse({ description: 'the ledger knows no such batch' })
  async get(@Param('batchNo') batchNo: string): Promise<RefundBatchView> {
    const parsed = parseBatchNo(batchNo);
    if (!parsed.ok) {
      const problems = parsed.errors.map((e) => e.message).join('; ');
      throw new ApiError('INVALID_REQUEST', `batchNo: ${problems}`, 'batchNo');
    }
    await readYourWrites(this.projections, this.logger, `refund batch ${batchNo}`);
    const batch = await this.batches.get(batchNo);
    if (batch === undefined) {
      throw new ApiError('NOT_FOUND', `the ledger knows no refund batch ${batchNo}`, 'batchNo');
    }
    return toRefundBatchView(batch);
  }
}
