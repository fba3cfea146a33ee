import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Body, Get, Param, Post, Query, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  CompleteDeliveryCommand,
  CompleteReturnCommand,
  ResolveAnomaliesCommand,
  StreamReads,
  type OrderDecision,
} from '@ledger/commands';
import { orderStreamId } from '@ledger/domain';
import { LedgerLogger, OperatorSessions } from '@ledger/platform';
import { WebhookQueries } from '@ledger/processes';
import { ORDER_STATUSES, OrderQueries, ProjectionsService, RefundBatchQueries } from '@ledger/projections';
import type { OrderStatus } from '@ledger/domain';
import { OrderHistoryQuery } from '../admin/order-history.query';
import { readYourWrites } from '../http/read-your-writes';
import { ConsoleController, refusalOf } from './console-controller';
import { orderPageBody } from './pages/order.page';
import { orderHref, renderOrdersPage, type OrderSearchForm } from './pages/orders.page';
import { ConsoleSession, type ConsoleContext } from './session/console-request';
import { facts } from './views/components';
import { instantOfBeijingInput } from './views/format';
import { confirmStep, formValue, isConfirmed } from './views/forms';
import { html, type Markup } from './views/html';
import { renderConsolePage } from './views/layout';
import { redirect, sendHtml } from './views/respond';

const queryText = (value: unknown) => (typeof value === 'string' ? value.trim() : '');

/** Why a reason cannot be recorded, or undefined. */
export function reasonProblem(reason: string): string | undefined {
  if (reason === '') return 'Say why: the reason is recorded with the action.';
  if (reason.length > 500) return `The reason is ${reason.length} characters: at most 500.`;
  return undefined;
}

/** An action on an order, once asked and confirmed. */
interface OrderAction {
  /** The route's last segment: the confirmed form posts there again. */
  path: 'delivery' | 'return' | 'anomalies';
  title: string;
  summary: Markup;
  hidden: Record<string, string>;
  confirmLabel: string;
  /** Checks the form; the message of what is wrong, or undefined. */
  problem?: string;
  act(): Promise<OrderDecision>;
  done: string;
}

/**
 * `/console` (the order search) and `/console/orders/:outTradeNo` (docs/console.md, "Orders", "One
 * order"): the projection's state, the stream's timeline with the notification behind each event, the
 * decisions, batches and webhooks, and the actions the state allows now, each confirmed before it acts.
 */
@ConsoleController()
export class ConsoleOrdersController {
  constructor(
    private readonly orders: OrderQueries,
    private readonly batches: RefundBatchQueries,
    private readonly webhooks: WebhookQueries,
    private readonly reads: StreamReads,
    private readonly queries: QueryBus,
    private readonly commands: CommandBus,
    private readonly projections: ProjectionsService,
    private readonly sessions: OperatorSessions,
    private readonly logger: LedgerLogger,
  ) {}

  @Get()
  async list(
    @ConsoleSession() context: ConsoleContext,
    @Query() query: Record<string, unknown>,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const form: OrderSearchForm = {
      outTradeNo: queryText(query.outTradeNo),
      tradeNo: queryText(query.tradeNo),
      buyer: queryText(query.buyer),
      status: queryText(query.status),
      from: queryText(query.from),
      to: queryText(query.to),
    };
    const cursor = queryText(query.cursor) || undefined;
    const from = instantOfBeijingInput(form.from);
    const to = instantOfBeijingInput(form.to);
    const problem =
      from instanceof Date || from === undefined
        ? to instanceof Date || to === undefined
          ? form.status !== '' && !ORDER_STATUSES.includes(form.status as OrderStatus)
            ? `Status: choose one of ${ORDER_STATUSES.join(', ')}.`
            : from !== undefined && to !== undefined && from >= to
              ? 'The time range is empty: "from" must be before "before".'
              : undefined
          : `Placed before: ${to.error}.`
        : `Placed from: ${from.error}.`;
    if (problem !== undefined) {
      sendHtml(
        response,
        400,
        renderOrdersPage(context, { form, items: [], nextCursor: null, error: problem }),
      );
      return;
    }
    const filters = {
      ...(form.outTradeNo === '' ? {} : { outTradeNo: form.outTradeNo }),
      ...(form.tradeNo === '' ? {} : { tradeNo: form.tradeNo }),
      ...(form.buyer === '' ? {} : { buyer: form.buyer }),
      ...(form.status === '' ? {} : { status: form.status as OrderStatus }),
      ...(from instanceof Date ? { from } : {}),
      ...(to instanceof Date ? { to } : {}),
    };
    await readYourWrites(this.projections, this.logger, 'the console order list');
    try {
      const [page, totals] = await Promise.all([
        this.orders.list({ ...filters, limit: 25 }, cursor),
        this.orders.totals(filters),
      ]);
      sendHtml(
        response,
        200,
        renderOrdersPage(context, {
          form,
          ...(cursor === undefined ? {} : { cursor }),
          items: page.items,
          nextCursor: page.nextCursor,
          totals,
        }),
      );
    } catch (error) {
      const refusal = refusalOf(error);
      sendHtml(
        response,
        refusal.status,
        renderOrdersPage(context, { form, items: [], nextCursor: null, error: refusal.message }),
      );
    }
  }

  @Get('orders/:outTradeNo')
  async order(
    @ConsoleSession() context: ConsoleContext,
    @Param('outTradeNo') outTradeNo: string,
    @Res() response: ServerResponse,
  ): Promise<void> {
    orderStreamId(outTradeNo);
    await readYourWrites(this.projections, this.logger, `order ${outTradeNo} in the console`);
    const history = await this.queries.execute(new OrderHistoryQuery(outTradeNo));
    const [summary, loaded, batches, webhooks] = await Promise.all([
      this.orders.get(outTradeNo),
      this.reads.order(outTradeNo),
      this.batches.list({ outTradeNo, limit: 50 }),
      this.webhooks.list({ subject: outTradeNo, limit: 50 }),
    ]);
    const body = orderPageBody(context, {
      outTradeNo,
      ...(summary === undefined ? {} : { summary }),
      state: loaded.state,
      events: history.events,
      batches: batches.items,
      webhooks: webhooks.items,
    });
    sendHtml(
      response,
      200,
      renderConsolePage(context, { title: `Order ${outTradeNo}`, section: 'orders', body }),
    );
  }

  @Post('orders/:outTradeNo/delivery')
  completeDelivery(
    @ConsoleSession() context: ConsoleContext,
    @Param('outTradeNo') outTradeNo: string,
    @Body() body: unknown,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const reason = formValue(body, 'reason');
    const reference = formValue(body, 'reference');
    return this.act(context, response, body, outTradeNo, {
      path: 'delivery',
      title: 'Complete the delivery by hand',
      summary: facts([
        ['Order', outTradeNo],
        ['Action', 'record the delivery as done (DeliveryCompleted), by hand'],
        ['Operator', context.operator],
        ['Reason', reason],
        ['Reference', reference || '—'],
      ]),
      hidden: { reason, reference },
      confirmLabel: 'Complete the delivery',
      ...(reasonProblem(reason) === undefined ? {} : { problem: reasonProblem(reason) }),
      act: () =>
        this.commands.execute(
          new CompleteDeliveryCommand(
            {
              type: 'CompleteDelivery',
              outTradeNo,
              deliveredAt: new Date().toISOString(),
              ...(reference === '' ? {} : { reference }),
              source: { via: 'operator', operator: context.operator, reason },
            },
            { causationId: `console:${randomUUID()}` },
          ),
        ),
      done: 'The delivery is recorded as completed by hand.',
    });
  }

  @Post('orders/:outTradeNo/return')
  completeReturn(
    @ConsoleSession() context: ConsoleContext,
    @Param('outTradeNo') outTradeNo: string,
    @Body() body: unknown,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const reason = formValue(body, 'reason');
    const reference = formValue(body, 'reference');
    return this.act(context, response, body, outTradeNo, {
      path: 'return',
      title: 'Complete the return by hand',
      summary: facts([
        ['Order', outTradeNo],
        ['Action', 'record the goods as taken back (ReturnCompleted), by hand'],
        ['Operator', context.operator],
        ['Reason', reason],
        ['Reference', reference || '—'],
      ]),
      hidden: { reason, reference },
      confirmLabel: 'Complete the return',
      ...(reasonProblem(reason) === undefined ? {} : { problem: reasonProblem(reason) }),
      act: () =>
        this.commands.execute(
          new CompleteReturnCommand(
            {
              type: 'CompleteReturn',
              outTradeNo,
              returnedAt: new Date().toISOString(),
              ...(reference === '' ? {} : { reference }),
              source: { via: 'operator', operator: context.operator, reason },
            },
            { causationId: `console:${randomUUID()}` },
          ),
        ),
      done: 'The return is recorded as completed by hand.',
    });
  }

  @Post('orders/:outTradeNo/anomalies')
  resolveAnomalies(
    @ConsoleSession() context: ConsoleContext,
    @Param('outTradeNo') outTradeNo: string,
    @Body() body: unknown,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const reason = formValue(body, 'reason');
    const decision = formValue(body, 'decision');
    const problem =
      decision !== 'accept' && decision !== 'confirm'
        ? 'Decision: choose accept or confirm.'
        : reasonProblem(reason);
    return this.act(context, response, body, outTradeNo, {
      path: 'anomalies',
      title: 'Resolve the open anomalies',
      summary: facts([
        ['Order', outTradeNo],
        [
          'Decision',
          decision === 'accept'
            ? 'accept: the anomalies no longer block the order'
            : 'confirm: the anomalies stand, the order stays blocked for good',
        ],
        ['Operator', context.operator],
        ['Reason', reason],
      ]),
      hidden: { reason, decision },
      confirmLabel: decision === 'accept' ? 'Accept the anomalies' : 'Confirm the anomalies',
      ...(problem === undefined ? {} : { problem }),
      act: () =>
        this.commands.execute(
          new ResolveAnomaliesCommand(
            {
              type: 'ResolveAnomalies',
              outTradeNo,
              decision: decision as 'accept' | 'confirm',
              operator: context.operator,
              reason,
              resolvedAt: new Date().toISOString(),
            },
            { causationId: `console:${randomUUID()}` },
          ),
        ),
      done: decision === 'accept' ? 'The anomalies are accepted.' : 'The anomalies are confirmed.',
    });
  }

  /**
   * The two steps of an order's action: the first POST shows what will be done (nothing is written), the
   * confirmed one acts, leaves a flash message and sends the browser back to the order; a refusal of the
   * ledger is shown on the confirmation step with its status.
   */
  private async act(
    context: ConsoleContext,
    response: ServerResponse,
    body: unknown,
    outTradeNo: string,
    action: OrderAction,
  ): Promise<void> {
    orderStreamId(outTradeNo);
    const back = orderHref(outTradeNo);
    const page = (status: number, error?: string) =>
      sendHtml(
        response,
        status,
        renderConsolePage(context, {
          title: action.title,
          section: 'orders',
          body: confirmStep(context, {
            action: `${back}/${action.path}`,
            summary: action.summary,
            hidden: action.hidden,
            confirmLabel: action.confirmLabel,
            cancelHref: back,
            ...(error === undefined ? {} : { error }),
          }),
        }),
      );
    if (action.problem !== undefined) {
      sendHtml(
        response,
        400,
        renderConsolePage(context, {
          title: action.title,
          section: 'orders',
          body: html`<section>
            <p class="flash flash-error" role="alert">${action.problem}</p>
            <p><a href=${`${back}#actions`} class="button">Back to the order</a></p>
          </section>`,
        }),
      );
      return;
    }
    if (!isConfirmed(body)) {
      page(200);
      return;
    }
    let decision: OrderDecision;
    try {
      decision = await action.act();
    } catch (error) {
      const refusal = refusalOf(error);
      page(refusal.status, `The ledger refused: ${refusal.message}`);
      return;
    }
    if (decision.kind === 'appended') {
      await readYourWrites(this.projections, this.logger, `${action.title} on ${outTradeNo}`, {
        transactionId: decision.transactionId,
        position: decision.position,
      });
    }
    this.logger.log(`console: ${context.operator}: ${action.title} on order ${outTradeNo}`, 'Console');
    await this.sessions.leaveFlash(context.sessionId, {
      kind: 'success',
      text:
        decision.kind === 'appended'
          ? action.done
          : `${action.done} (it already was: nothing new was recorded)`,
    });
    redirect(response, back);
  }
}
