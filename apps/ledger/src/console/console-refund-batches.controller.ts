import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Body, Get, Param, Post, Query, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { formatYuan, parseBatchNo, parseYuan } from '@ledger/alipay-protocol';
import {
  CancelRefundBatchCommand,
  MarkRefundBatchOutcomeCommand,
  PreviewRefundBatchQuery,
  StreamReads,
  type RefundRequestItem,
} from '@ledger/commands';
import { isValidOutTradeNo, type RefundMode } from '@ledger/domain';
import { LedgerLogger, OperatorSessions } from '@ledger/platform';
import { RefundRequests } from '@ledger/processes';
import {
  ProjectionsService,
  REFUND_BATCH_STATES,
  RefundBatchQueries,
  type RefundBatchState,
} from '@ledger/projections';
import { ApiError } from '../http/api-error';
import { readYourWrites } from '../http/read-your-writes';
import { RequestRefundsCommand } from '../refunds/request-refunds.handler';
import { ConfirmedActions, type ConfirmedAction } from './confirmed-action';
import { ConsoleController, refusalOf } from './console-controller';
import { reasonProblem } from './console-orders.controller';
import { orderHref } from './pages/orders.page';
import {
  batchHref,
  renderBatchListPage,
  renderBatchPage,
  renderBatchPreviewPage,
  renderNewBatchPage,
  type BatchListForm,
  type BatchRowForm,
  type NewBatchForm,
} from './pages/refund-batches.page';
import { ConsoleSession, type ConsoleContext } from './session/console-request';
import { facts } from './views/components';
import { formValue, formValues, isConfirmed } from './views/forms';
import { redirect, sendHtml } from './views/respond';

const queryText = (value: unknown) => (typeof value === 'string' ? value.trim() : '');
const IDEMPOTENCY_KEY = /^console-[0-9a-f-]{36}$/;

/** "12" and "12.5" as yuan with two decimals; anything else as typed, for the parser to name. */
function yuanText(amount: string): string {
  if (/^(0|[1-9][0-9]*)$/.test(amount)) return `${amount}.00`;
  if (/^(0|[1-9][0-9]*)\.[0-9]$/.test(amount)) return `${amount}0`;
  return amount;
}

function batchNoOf(batchNo: string): string {
  const parsed = parseBatchNo(batchNo);
  if (!parsed.ok) throw new ApiError('INVALID_REQUEST', `batchNo: ${parsed.errors[0].message}`, 'batchNo');
  return batchNo;
}

/**
 * `/console/refund-batches` (docs/console.md, "Refund batches"): the batches and their records, the
 * resolutions of a waiting batch, and submitting a batch: a preview against each order without writing,
 * then the same command as `POST /refunds` (`RequestRefundsCommand`), under an idempotency key made by the
 * preview, so that a form sent twice records one batch.
 */
@ConsoleController()
export class ConsoleRefundBatchesController {
  constructor(
    private readonly batches: RefundBatchQueries,
    private readonly reads: StreamReads,
    private readonly requests: RefundRequests,
    private readonly queries: QueryBus,
    private readonly commands: CommandBus,
    private readonly projections: ProjectionsService,
    private readonly sessions: OperatorSessions,
    private readonly logger: LedgerLogger,
    private readonly actions: ConfirmedActions,
  ) {}

  @Get('refund-batches')
  async list(
    @ConsoleSession() context: ConsoleContext,
    @Query() query: Record<string, unknown>,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const form: BatchListForm = {
      state: queryText(query.state),
      mode: queryText(query.mode),
      outTradeNo: queryText(query.outTradeNo),
    };
    const cursor = queryText(query.cursor) || undefined;
    const problem =
      form.state !== '' && !REFUND_BATCH_STATES.includes(form.state as RefundBatchState)
        ? `State: choose one of ${REFUND_BATCH_STATES.join(', ')}.`
        : form.mode !== '' && form.mode !== 'pwd' && form.mode !== 'nopwd'
          ? 'Mode: choose pwd or nopwd.'
          : form.outTradeNo !== '' && !isValidOutTradeNo(form.outTradeNo)
            ? 'out_trade_no: 1 to 64 letters, digits, "_" or "-".'
            : undefined;
    if (problem !== undefined) {
      sendHtml(
        response,
        400,
        renderBatchListPage(context, { form, items: [], nextCursor: null, error: problem }),
      );
      return;
    }
    await readYourWrites(this.projections, this.logger, 'the console batch list');
    const page = await this.batches.list(
      {
        ...(form.state === '' ? {} : { state: form.state as RefundBatchState }),
        ...(form.mode === '' ? {} : { mode: form.mode as RefundMode }),
        ...(form.outTradeNo === '' ? {} : { outTradeNo: form.outTradeNo }),
        limit: 25,
      },
      cursor,
    );
    sendHtml(
      response,
      200,
      renderBatchListPage(context, {
        form,
        ...(cursor === undefined ? {} : { cursor }),
        items: page.items,
        nextCursor: page.nextCursor,
      }),
    );
  }

  @Get('refund-batches/new')
  newBatch(
    @ConsoleSession() context: ConsoleContext,
    @Query('outTradeNo') outTradeNo: unknown,
    @Res() response: ServerResponse,
  ): void {
    const first = typeof outTradeNo === 'string' && isValidOutTradeNo(outTradeNo) ? outTradeNo : '';
    const page = renderNewBatchPage(context, {
      rows: first === '' ? [] : [{ outTradeNo: first, amount: '', reason: '' }],
      mode: 'nopwd',
      from: '',
    });
    sendHtml(response, page.status, page.document);
  }

  /** The preview (nothing written), then, confirmed, the submission. */
  @Post('refund-batches/new')
  async submit(
    @ConsoleSession() context: ConsoleContext,
    @Body() body: unknown,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const [orders, amounts, reasons] = ['outTradeNo', 'amount', 'reason'].map((name) =>
      formValues(body, name),
    );
    const rows: BatchRowForm[] = orders
      .map((outTradeNo, index) => ({
        outTradeNo: outTradeNo.trim(),
        amount: (amounts[index] ?? '').trim(),
        reason: (reasons[index] ?? '').trim(),
      }))
      .filter((row) => row.outTradeNo !== '' || row.amount !== '' || row.reason !== '');
    const mode = formValue(body, 'mode') === 'pwd' ? 'pwd' : 'nopwd';
    const from = formValue(body, 'from') === 'order' ? 'order' : '';
    const form: NewBatchForm = { rows, mode, from };
    const items = this.readRows(rows);
    if (typeof items === 'string') {
      const page = renderNewBatchPage(context, form, items, 400);
      sendHtml(response, page.status, page.document);
      return;
    }
    const typedKey = formValue(body, 'idempotencyKey');
    const idempotencyKey = IDEMPOTENCY_KEY.test(typedKey) ? typedKey : `console-${randomUUID()}`;
    if (!isConfirmed(body)) {
      const preview = await this.queries.execute(new PreviewRefundBatchQuery(items));
      sendHtml(
        response,
        preview.acceptable ? 200 : 409,
        renderBatchPreviewPage(context, { ...form, idempotencyKey }, preview),
      );
      return;
    }
    let answered;
    try {
      answered = await this.commands.execute(
        new RequestRefundsCommand(
          {
            mode,
            items: items.map((item) => ({
              outTradeNo: item.outTradeNo,
              amount: formatYuan(item.amount),
              reason: item.reason,
            })),
          },
          idempotencyKey,
        ),
      );
    } catch (error) {
      const refusal = refusalOf(error);
      const preview = await this.queries.execute(new PreviewRefundBatchQuery(items));
      sendHtml(
        response,
        refusal.status,
        renderBatchPreviewPage(
          context,
          { ...form, idempotencyKey },
          preview,
          `The ledger refused: ${refusal.message}`,
        ),
      );
      return;
    }
    const batch = answered.body;
    this.logger.log(
      `console: ${context.operator} submitted refund batch ${batch.batchNo} (${batch.mode})`,
      'Console',
    );
    await this.sessions.leaveFlash(context.sessionId, {
      kind: batch.state === 'rejected' ? 'error' : 'success',
      text:
        `Refund batch ${batch.batchNo} (${batch.mode}, ¥${batch.totalAmount}): ${batch.state}` +
        (batch.message === undefined ? '.' : ` — ${batch.message}.`),
    });
    redirect(
      response,
      from === 'order' && rows.length === 1 ? orderHref(rows[0].outTradeNo) : batchHref(batch.batchNo),
    );
  }

  @Get('refund-batches/:batchNo')
  async batch(
    @ConsoleSession() context: ConsoleContext,
    @Param('batchNo') batchNo: string,
    @Res() response: ServerResponse,
  ): Promise<void> {
    batchNoOf(batchNo);
    await readYourWrites(this.projections, this.logger, `refund batch ${batchNo} in the console`);
    const batch = await this.batches.get(batchNo);
    if (batch === undefined) throw new ApiError('NOT_FOUND', `the ledger knows no refund batch ${batchNo}`);
    let pwdUrl: string | undefined;
    if (batch.mode === 'pwd' && batch.state === 'submitted') {
      const view = await this.reads.refundBatchView(batchNo);
      if (view !== undefined) pwdUrl = this.requests.pwd(view.submitted).url;
    }
    sendHtml(response, 200, renderBatchPage(context, batch, pwdUrl));
  }

  @Post('refund-batches/:batchNo/cancel')
  cancel(
    @ConsoleSession() context: ConsoleContext,
    @Param('batchNo') batchNo: string,
    @Body() body: unknown,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const reason = formValue(body, 'reason');
    return this.resolve(context, response, body, batchNoOf(batchNo), {
      path: 'cancel',
      title: 'Cancel the refund batch',
      summary: facts([
        ['Batch', batchNo],
        ['Action', 'cancel it in the ledger: its reservations are released on each order'],
        ['Operator', context.operator],
        ['Reason', reason],
      ]),
      hidden: { reason },
      confirmLabel: 'Cancel the batch',
      problem: reasonProblem(reason),
      act: () =>
        this.commands.execute(
          new CancelRefundBatchCommand(
            {
              type: 'CancelRefundBatch',
              batchNo,
              operator: context.operator,
              reason,
              cancelledAt: new Date().toISOString(),
            },
            { causationId: `console:${randomUUID()}` },
          ),
        ),
      done: `Batch ${batchNo} is cancelled.`,
    });
  }

  @Post('refund-batches/:batchNo/outcome')
  markOutcome(
    @ConsoleSession() context: ConsoleContext,
    @Param('batchNo') batchNo: string,
    @Body() body: unknown,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const reason = formValue(body, 'reason');
    const accepted = formValue(body, 'accepted');
    return this.resolve(context, response, body, batchNoOf(batchNo), {
      path: 'outcome',
      title: 'Mark the outcome of the refund batch',
      summary: facts([
        ['Batch', batchNo],
        [
          'Alipay’s console shows',
          accepted === 'true' ? 'accepted: hold the reservations' : 'not accepted: release them',
        ],
        ['Operator', context.operator],
        ['Reason', reason],
      ]),
      hidden: { reason, accepted },
      confirmLabel: 'Mark the outcome',
      problem:
        accepted !== 'true' && accepted !== 'false'
          ? 'Choose accepted or not accepted.'
          : reasonProblem(reason),
      act: () =>
        this.commands.execute(
          new MarkRefundBatchOutcomeCommand(
            {
              type: 'MarkRefundBatchOutcome',
              batchNo,
              accepted: accepted === 'true',
              operator: context.operator,
              reason,
              markedAt: new Date().toISOString(),
            },
            { causationId: `console:${randomUUID()}` },
          ),
        ),
      done: `The outcome of batch ${batchNo} is marked.`,
    });
  }

  /** The records as the command wants them, or the message of the first row at fault. */
  private readRows(rows: BatchRowForm[]): RefundRequestItem[] | string {
    if (rows.length === 0) return 'Fill in at least one row.';
    const items: RefundRequestItem[] = [];
    for (const [index, row] of rows.entries()) {
      const at = `Row ${index + 1}`;
      if (!isValidOutTradeNo(row.outTradeNo))
        return `${at}: out_trade_no must be 1 to 64 letters, digits, "_" or "-".`;
      const amount = parseYuan(yuanText(row.amount));
      if (!amount.ok || amount.value < 1) return `${at}: the amount must be yuan, e.g. 12.34, at least 0.01.`;
      if (row.reason === '') return `${at}: give a reason.`;
      if (/[\^|$#]/.test(row.reason)) return `${at}: the reason must not contain ^ | $ or #.`;
      const fault = this.requests.reasonFault(row.reason);
      if (fault !== undefined) return `${at}: the reason ${fault}.`;
      items.push({ outTradeNo: row.outTradeNo, amount: amount.value, reason: row.reason });
    }
    return items;
  }

  /** An action on the batch, shown before it acts (docs/console.md, "Actions"). */
  private resolve(
    context: ConsoleContext,
    response: ServerResponse,
    body: unknown,
    batchNo: string,
    action: ConfirmedAction,
  ): Promise<void> {
    const target = {
      href: batchHref(batchNo),
      label: `batch ${batchNo}`,
      section: 'refund-batches' as const,
    };
    return this.actions.run(context, response, body, target, action);
  }
}
