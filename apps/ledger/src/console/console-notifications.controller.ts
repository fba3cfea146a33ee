import type { ServerResponse } from 'node:http';
import { Body, Get, Param, Post, Query, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { MAX_REPLAY_IDS, ReplayNotificationsCommand, type ReplaySelection } from '@ledger/commands';
import {
  INBOX_CHANNELS,
  INBOX_OUTCOMES,
  InboxQueries,
  type InboxChannel,
  type InboxFilters,
  type InboxOutcome,
} from '@ledger/inbox';
import { LedgerLogger } from '@ledger/platform';
import { ApiError } from '../http/api-error';
import { ConsoleController, refusalOf } from './console-controller';
import {
  renderNotificationPage,
  renderNotificationsPage,
  renderReplayDonePage,
  renderReplayPreviewPage,
  type NotificationFilterForm,
  type ReplayForm,
} from './pages/notifications.page';
import { ConsoleSession, type ConsoleContext } from './session/console-request';
import { instantOfBeijingInput } from './views/format';
import { formValue, formValues, isConfirmed } from './views/forms';
import { html } from './views/html';
import { renderConsolePage } from './views/layout';
import { sendHtml } from './views/respond';

const queryText = (value: unknown) => (typeof value === 'string' ? value.trim() : '');
const INBOX_ID = /^[1-9][0-9]{0,15}$/;

/** A time filter typed in Beijing time, or the message of what is wrong with it. */
function instantFilter(value: string, label: string): Date | undefined | string {
  const instant = instantOfBeijingInput(value);
  return instant === undefined || instant instanceof Date ? instant : `${label}: ${instant.error}.`;
}

/**
 * `/console/notifications` (docs/console.md, "Notifications"): the raw inbox with filters, one
 * notification's evidence, and replay of a selection or a time range, dry first (the replay command's
 * `dryRun`), then applied.
 */
@ConsoleController()
export class ConsoleNotificationsController {
  constructor(
    private readonly inbox: InboxQueries,
    private readonly commands: CommandBus,
    private readonly logger: LedgerLogger,
  ) {}

  @Get('notifications')
  async list(
    @ConsoleSession() context: ConsoleContext,
    @Query() query: Record<string, unknown>,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const form: NotificationFilterForm = {
      outTradeNo: queryText(query.outTradeNo),
      channel: queryText(query.channel),
      verified: queryText(query.verified),
      outcome: queryText(query.outcome),
      from: queryText(query.from),
      to: queryText(query.to),
    };
    const cursor = queryText(query.cursor) || undefined;
    const from = instantFilter(form.from, 'Received from');
    const to = instantFilter(form.to, 'Received before');
    const problem =
      typeof from === 'string'
        ? from
        : typeof to === 'string'
          ? to
          : form.channel !== '' && !INBOX_CHANNELS.includes(form.channel as InboxChannel)
            ? `Channel: choose one of ${INBOX_CHANNELS.join(', ')}.`
            : form.outcome !== '' && !INBOX_OUTCOMES.includes(form.outcome as InboxOutcome)
              ? `Outcome: choose one of ${INBOX_OUTCOMES.join(', ')}.`
              : form.verified !== '' && form.verified !== 'true' && form.verified !== 'false'
                ? 'Verified: choose true or false.'
                : undefined;
    const empty = { form, items: [], nextCursor: null };
    if (problem !== undefined) {
      sendHtml(response, 400, renderNotificationsPage(context, { ...empty, error: problem }));
      return;
    }
    const filters: InboxFilters = {
      ...(form.outTradeNo === '' ? {} : { outTradeNo: form.outTradeNo }),
      ...(form.channel === '' ? {} : { channel: form.channel as InboxChannel }),
      ...(form.outcome === '' ? {} : { outcome: form.outcome as InboxOutcome }),
      ...(form.verified === '' ? {} : { verified: form.verified === 'true' }),
      ...(from instanceof Date ? { receivedFrom: from } : {}),
      ...(to instanceof Date ? { receivedTo: to } : {}),
    };
    try {
      const page = await this.inbox.list(filters, { limit: 25, ...(cursor === undefined ? {} : { cursor }) });
      sendHtml(
        response,
        200,
        renderNotificationsPage(context, {
          form,
          ...(cursor === undefined ? {} : { cursor }),
          items: page.items,
          nextCursor: page.nextCursor,
        }),
      );
    } catch (error) {
      const refusal = refusalOf(error);
      sendHtml(
        response,
        refusal.status,
        renderNotificationsPage(context, { ...empty, error: refusal.message }),
      );
    }
  }

  @Get('notifications/:id')
  async notification(
    @ConsoleSession() context: ConsoleContext,
    @Param('id') id: string,
    @Res() response: ServerResponse,
  ): Promise<void> {
    if (!INBOX_ID.test(id)) throw new ApiError('INVALID_REQUEST', `${id} is not an inbox id`);
    sendHtml(response, 200, renderNotificationPage(context, await this.inbox.get(Number(id))));
  }

  /** The dry run of a selection, then (confirmed) the replay itself and its report. */
  @Post('notifications/replay')
  async replay(
    @ConsoleSession() context: ConsoleContext,
    @Body() body: unknown,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const form: ReplayForm = {
      selection: formValue(body, 'selection') === 'range' ? 'range' : 'ids',
      ids: formValues(body, 'ids'),
      from: formValue(body, 'from'),
      to: formValue(body, 'to'),
    };
    const chosen = this.selectionOf(form);
    if (typeof chosen === 'string') {
      sendHtml(
        response,
        400,
        renderConsolePage(context, {
          title: 'Replay',
          section: 'notifications',
          body: html`<section>
            <p class="flash flash-error" role="alert">${chosen}</p>
            <p><a href="/console/notifications" class="button">Back to the notifications</a></p>
          </section>`,
        }),
      );
      return;
    }
    const range = 'from' in chosen ? chosen : undefined;
    const dryRun = !isConfirmed(body);
    let report;
    try {
      report = await this.commands.execute(new ReplayNotificationsCommand(chosen, { dryRun }));
    } catch (error) {
      const refusal = refusalOf(error);
      sendHtml(
        response,
        refusal.status,
        renderConsolePage(context, {
          title: 'Replay',
          section: 'notifications',
          body: html`<p class="flash flash-error" role="alert">The ledger refused: ${refusal.message}</p>`,
        }),
      );
      return;
    }
    if (dryRun) {
      sendHtml(response, 200, renderReplayPreviewPage(context, form, range, report));
      return;
    }
    this.logger.log(
      `console: ${context.operator} replayed ${report.selected} notification(s): ${report.events} event(s) appended`,
      'Console',
    );
    sendHtml(response, 200, renderReplayDonePage(context, form, range, report));
  }

  private selectionOf(form: ReplayForm): ReplaySelection | string {
    if (form.selection === 'ids') {
      if (form.ids.length === 0) return 'Select at least one notification to replay.';
      if (form.ids.length > MAX_REPLAY_IDS) return `Select at most ${MAX_REPLAY_IDS} notifications.`;
      if (!form.ids.every((id) => INBOX_ID.test(id)))
        return 'The selection holds something that is not an inbox id.';
      return { ids: [...new Set(form.ids.map(Number))] };
    }
    const from = instantFilter(form.from, 'From');
    const to = instantFilter(form.to, 'Before');
    if (typeof from === 'string') return from;
    if (typeof to === 'string') return to;
    if (from === undefined || to === undefined) return 'A time range needs both ends.';
    if (from >= to) return 'The time range is empty: "from" must be before "before".';
    return { from, to };
  }
}
