import type { ServerResponse } from 'node:http';
import { Body, Get, Param, Post, Res } from '@nestjs/common';
import { LedgerLogger, OperatorSessions } from '@ledger/platform';
import { WebhookDispatcher, WebhookQueries } from '@ledger/processes';
import { OrderQueries, ProjectionsService, RefundBatchQueries } from '@ledger/projections';
import { ApiError } from '../http/api-error';
import { readYourWrites } from '../http/read-your-writes';
import { ConsoleController } from './console-controller';
import { renderAttentionPage } from './pages/attention.page';
import { ConsoleSession, type ConsoleContext } from './session/console-request';
import { facts } from './views/components';
import { confirmStep, isConfirmed } from './views/forms';
import { renderConsolePage } from './views/layout';
import { redirect, sendHtml } from './views/respond';

/** Each list of the page shows this many, oldest first. */
const LIST_LENGTH = 50;
const WEBHOOK_ID = /^msg_[A-Za-z0-9_-]{1,60}$/;

/** `/console/attention` (docs/console.md, "Needs attention"), and sending a dead webhook again. */
@ConsoleController()
export class ConsoleAttentionController {
  constructor(
    private readonly orders: OrderQueries,
    private readonly batches: RefundBatchQueries,
    private readonly webhooks: WebhookQueries,
    private readonly dispatcher: WebhookDispatcher,
    private readonly projections: ProjectionsService,
    private readonly sessions: OperatorSessions,
    private readonly logger: LedgerLogger,
  ) {}

  @Get('attention')
  async attention(@ConsoleSession() context: ConsoleContext, @Res() response: ServerResponse): Promise<void> {
    await readYourWrites(this.projections, this.logger, 'the console attention page');
    const [orders, waiting, unknown, dead, health] = await Promise.all([
      this.orders.needingAttention(LIST_LENGTH),
      this.batches.list({ state: 'submitted', limit: LIST_LENGTH }),
      this.batches.list({ state: 'outcome_unknown', limit: LIST_LENGTH }),
      this.webhooks.list({ state: 'dead', limit: LIST_LENGTH }),
      this.webhooks.health(this.dispatcher.endpoint().name),
    ]);
    sendHtml(
      response,
      200,
      renderAttentionPage(context, {
        orders,
        waitingBatches: { items: waiting.items, more: waiting.nextCursor !== null },
        unknownBatches: { items: unknown.items, more: unknown.nextCursor !== null },
        deadWebhooks: { items: dead.items, count: Math.max(health.counts.dead, dead.items.length) },
      }),
    );
  }

  @Post('webhooks/:id/retry')
  async retryWebhook(
    @ConsoleSession() context: ConsoleContext,
    @Param('id') id: string,
    @Body() body: unknown,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const webhook = WEBHOOK_ID.test(id) ? await this.webhooks.get(id) : undefined;
    if (webhook === undefined) throw new ApiError('NOT_FOUND', `no webhook ${id}`);
    if (!isConfirmed(body)) {
      const summary = facts([
        ['Webhook', `${webhook.eventType} about ${webhook.subject}`],
        ['State', webhook.state],
        ['Attempts so far', String(webhook.attempts)],
        ['Action', 'send it again now, with the whole retry schedule ahead'],
      ]);
      sendHtml(
        response,
        200,
        renderConsolePage(context, {
          title: 'Send a dead webhook again',
          section: 'attention',
          body: confirmStep(context, {
            action: `/console/webhooks/${encodeURIComponent(id)}/retry`,
            summary,
            hidden: {},
            confirmLabel: 'Send again',
            cancelHref: '/console/attention',
          }),
        }),
      );
      return;
    }
    const retried = await this.webhooks.retryDead(id);
    this.dispatcher.wake();
    this.logger.log(`console: ${context.operator} sent webhook ${id} again`, 'Console');
    await this.sessions.leaveFlash(
      context.sessionId,
      retried.length > 0
        ? { kind: 'success', text: `Webhook ${id} is sent again.` }
        : { kind: 'error', text: `Webhook ${id} is no longer dead: nothing was changed.` },
    );
    redirect(response, '/console/attention');
  }
}
