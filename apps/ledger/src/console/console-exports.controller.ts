import type { ServerResponse } from 'node:http';
import { Get, Query, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { formatBeijingTime } from '@ledger/alipay-protocol';
import { LedgerLogger } from '@ledger/platform';
import {
  AccountingExports,
  parseExportRequest,
  ProjectionsService,
  type ExportRequest,
} from '@ledger/projections';
import { exportDownload } from '../http/export-download';
import { ConsoleController, refusalOf } from './console-controller';
import { renderExportsPage, type ExportForm } from './pages/exports.page';
import { ConsoleSession, type ConsoleContext } from './session/console-request';
import { sendHtml } from './views/respond';

const CONTEXT = 'Console';
const DAY_MS = 86_400_000;

const queryText = (value: unknown) => (typeof value === 'string' ? value.trim() : '');

function formOf(query: Record<string, unknown>): ExportForm {
  return {
    kind: queryText(query.kind),
    from: queryText(query.from),
    to: queryText(query.to),
    format: queryText(query.format),
  };
}

/** The form as it first shows: this month so far, today included, as CSV. */
function defaultForm(now: Date): ExportForm {
  const today = formatBeijingTime(now).slice(0, 10);
  return {
    kind: 'orders',
    from: `${today.slice(0, 8)}01`,
    to: formatBeijingTime(new Date(now.getTime() + DAY_MS)).slice(0, 10),
    format: 'csv',
  };
}

/**
 * `/console/exports` (docs/console.md, "Exports"): the form, and the download of an export for accounting,
 * streamed as the admin API streams it (`exportDownload`). A download changes nothing, so it is a GET; the
 * session guard still requires a signed-in operator.
 */
@ConsoleController()
export class ConsoleExportsController {
  constructor(
    private readonly exports: AccountingExports,
    private readonly projections: ProjectionsService,
    private readonly adapterHost: HttpAdapterHost,
    private readonly logger: LedgerLogger,
  ) {}

  @Get('exports')
  async page(
    @ConsoleSession() context: ConsoleContext,
    @Query() query: Record<string, unknown>,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const form = formOf(query);
    if (Object.values(form).every((value) => value === '')) {
      sendHtml(response, 200, renderExportsPage(context, { form: defaultForm(new Date()) }));
      return;
    }
    const request = this.checked(context, form, response);
    if (request === undefined) return;
    const rows = await this.exports.count(request);
    sendHtml(
      response,
      200,
      renderExportsPage(context, { form, count: { rows, from: request.from, to: request.to } }),
    );
  }

  @Get('exports/download')
  async download(
    @ConsoleSession() context: ConsoleContext,
    @Query() query: Record<string, unknown>,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const request = this.checked(context, formOf(query), response);
    if (request === undefined) return;
    const { exports, projections, logger } = this;
    const file = await exportDownload({ exports, projections, logger }, request, CONTEXT);
    this.logger.log(
      `console: ${context.operator} downloads the ${request.kind} export of ` +
        `[${request.from.toISOString()}, ${request.to.toISOString()}) as ${request.format}`,
      CONTEXT,
    );
    response.setHeader('cache-control', 'no-store');
    // Nest's own reply of a streamed file, as for a handler that returns it: piped with back-pressure, and
    // the file's error handler on a failure.
    this.adapterHost.httpAdapter.reply(response, file, 200);
  }

  /** The export the form asks for; or, when it is wrong, the form again with why (400) and undefined. */
  private checked(
    context: ConsoleContext,
    form: ExportForm,
    response: ServerResponse,
  ): ExportRequest | undefined {
    try {
      return parseExportRequest({
        kind: form.kind,
        from: form.from,
        to: form.to,
        ...(form.format === '' ? {} : { format: form.format }),
      });
    } catch (error) {
      const refusal = refusalOf(error);
      sendHtml(response, refusal.status, renderExportsPage(context, { form, error: refusal.message }));
      return undefined;
    }
  }
}
