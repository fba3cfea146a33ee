import { Controller, Get, Param, Query, StreamableFile, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiPropertyOptional,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { LedgerLogger } from '@ledger/platform';
import {
  AccountingExports,
  EXPORT_FORMATS,
  EXPORT_KINDS,
  parseExportRequest,
  ProjectionsService,
} from '@ledger/projections';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { AdminTokenGuard } from '../http/admin-token.guard';
import { exportDownload } from '../http/export-download';

const RANGE = 'A date (midnight in Beijing) or an ISO 8601 instant with its zone';

/** The query of `GET /admin/exports/:kind`; its meaning is checked by `parseExportRequest`. */
export class ExportQuery {
  @ApiPropertyOptional({ description: `${RANGE}; the range is [from, to)`, example: '2024-05-01' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  from?: string;

  @ApiPropertyOptional({ description: `${RANGE}; exclusive`, example: '2024-06-01' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  to?: string;

  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'csv' })
  @IsOptional()
  @IsString()
  @MaxLength(16)
  format?: string;
}

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@ApiUnauthorizedResponse({ description: 'missing or wrong bearer token' })
@Controller('admin/exports')
export class AdminExportsController {
  constructor(
    private readonly exports: AccountingExports,
    private readonly projections: ProjectionsService,
    private readonly logger: LedgerLogger,
  ) {}

  /**
   * An export for accounting (docs/operations.md, "Exports"), streamed page by page: orders by placement
   * time, payments, refund outcomes or money movements by Alipay's time, in `[from, to)`.
   */
  @Get(':kind')
  @ApiOperation({
    summary: 'Orders, payments, refunds or money movements of a time range, as CSV or JSON lines',
    description:
      'CSV: UTF-8 with a byte order mark, RFC 4180 quoting, CRLF; a text field starting with = + - @ (or a ' +
      'tab or CR) is prefixed with an apostrophe so that spreadsheets never evaluate it. JSON lines: one ' +
      'object per row. Amounts in yuan with two decimals, times in Beijing time with +08:00.',
  })
  @ApiParam({ name: 'kind', enum: EXPORT_KINDS })
  @ApiProduces('text/csv', 'application/x-ndjson')
  @ApiOkResponse({
    description: 'the rows, streamed; Content-Disposition names a file',
    content: {
      'text/csv': { schema: { type: 'string' } },
      'application/x-ndjson': { schema: { type: 'string' } },
    },
  })
  @ApiBadRequestResponse({ description: 'an unknown kind or format, or a missing or reversed range' })
  async export(@Param('kind') kind: string, @Query() query: ExportQuery): Promise<StreamableFile> {
    // Checked before anything is read or sent: a bad request is a 400, never a cut stream.
    const request = parseExportRequest({ kind, from: query.from, to: query.to, format: query.format });
    const { exports, projections, logger } = this;
    return exportDownload({ exports, projections, logger }, request, 'AdminExports');
  }
}
