import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Body, Get, Param, Post, Query, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  CompleteDeliveryCommand,
  CompleteReturnCommand,
  ResolveAnomaliesCommand,
  StreamReads,
} from '@ledger/commands';
import { orderStreamId } from '@ledger/domain';
import { LedgerLogger } from '@ledger/platform';
import { WebhookQueries } from '@ledger/processes';
import { ORDER_STATUSES, OrderQueries, ProjectionsService, RefundBatchQueries } from '@ledger/projections';
import type { OrderStatus } from '@ledger/domain';
import { OrderHistoryQuery } from '../admin/order-history.query';
import { readYourWrites } from '../http/read-your-writes';
import { ConfirmedActions, type ConfirmedAction } from './confirmed-action';
import { ConsoleController, refusalOf } from './console-controller';
import { orderPageBody } from './pages/order.page';
import { orderHref, renderOrdersPage, type OrderSearchForm } from './pages/orders.page';
import { ConsoleSession, type ConsoleContext } from './session/console-request';
import { facts } from './views/components';
import { instantOfBeijingInput } from './views/format';
import { formValue } from './views/forms';
import { renderConsolePage } from './views/layout';
import { sendHtml } from './views/respond';

const queryText = (value: unknown) => (typeof value === 'string' ? value.trim() : '');

/** Why a reason cannot be recorded, or undefined. */
export function reasonProblem(reason: string): string | undefined {
  if (reason === '') return 'Say why: the reason is recorded with the action.';
  if (reason.length > 500) return `The reason is ${reason.length} characters: at most 500.`;
  return undefined;
}

/** The two things a person may record as done by hand. */
const BY_HAND = {
  delivery: {
    title: 'Complete the delivery by hand',
    action: 'record the delivery as done (DeliveryCompleted), by hand',
    confirmLabel: 'Complete the delivery',
    done: 'The delivery is recorded as completed by hand.',
  },
  return: {
    title: 'Complete the return by hand',
    action: 'record the goods as taken back (ReturnCompleted), by hand',
    confirmLabel: 'Complete the return',
    done: 'The return is recorded as completed by hand.',
  },
} as const;

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
    private readonly actions: ConfirmedActions,
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
    return this.completeByHand('delivery', context, outTradeNo, body, response);
  }

  @Post('orders/:outTradeNo/return')
  completeReturn(
    @ConsoleSession() context: ConsoleContext,
    @Param('outTradeNo') outTradeNo: string,
    @Body() body: unknown,
    @Res() response: ServerResponse,
  ): Promise<void> {
    return this.completeByHand('return', context, outTradeNo, body, response);
  }

  /** A delivery or a return recorded as done by a person (docs/fulfilment.md, the resolutions). */
  private completeByHand(
    what: keyof typeof BY_HAND,
    context: ConsoleContext,
    outTradeNo: string,
    body: unknown,
    response: ServerResponse,
  ): Promise<void> {
    const reason = formValue(body, 'reason');
    const reference = formValue(body, 'reference');
    const kind = BY_HAND[what];
    return this.act(context, response, body, outTradeNo, {
      path: what,
      title: kind.title,
      summary: facts([
        ['Order', outTradeNo],
        ['Action', kind.action],
        ['Operator', context.operator],
        ['Reason', reason],
        ['Reference', reference || '—'],
      ]),
      hidden: { reason, reference },
      confirmLabel: kind.confirmLabel,
      problem: reasonProblem(reason),
      act: () => {
        const at = new Date().toISOString();
        const details = {
          outTradeNo,
          ...(reference === '' ? {} : { reference }),
          source: { via: 'operator' as const, operator: context.operator, reason },
        };
        const metadata = { causationId: `console:${randomUUID()}` };
        return this.commands.execute(
          what === 'delivery'
            ? new CompleteDeliveryCommand({ type: 'CompleteDelivery', deliveredAt: at, ...details }, metadata)
            : new CompleteReturnCommand({ type: 'CompleteReturn', returnedAt: at, ...details }, metadata),
        );
      },
      done: kind.done,
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
      problem,
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

  /** An action on the order, shown before it acts (docs/console.md, "Actions"). */
  private act(
    context: ConsoleContext,
    response: ServerResponse,
    body: unknown,
    outTradeNo: string,
    action: ConfirmedAction,
  ): Promise<void> {
    orderStreamId(outTradeNo);
    const target = { href: orderHref(outTradeNo), label: `order ${outTradeNo}`, section: 'orders' as const };
    return this.actions.run(context, response, body, target, action);
  }
}
