import type { VNode } from 'preact';
import type { ReplayReport } from '@ledger/commands';
import { INBOX_CHANNELS, INBOX_OUTCOMES, type InboxNotificationView } from '@ledger/inbox';
import type { ConsoleContext } from '../session/console-request';
import { badge, pager, scrollTable, time, toneOf } from '../views/components';
import { beijingTime } from '../views/format';
import { confirmStep, errorMessage } from '../views/forms';
import { html } from '../views/html';
import { postForm, renderConsolePage } from '../views/layout';
import { notificationEvidence, notificationHref, verifiedBadge } from '../views/notification';
import { orderHref } from './orders.page';
import { batchHref } from './refund-batches.page';

export interface NotificationFilterForm {
  outTradeNo: string;
  channel: string;
  verified: string;
  outcome: string;
  from: string;
  to: string;
}

function filterForm(form: NotificationFilterForm): VNode {
  const select = (name: keyof NotificationFilterForm, label: string, options: readonly string[]) =>
    html`<p>
      <label for=${`filter-${name}`}>${label}</label>
      <select id=${`filter-${name}`} name=${name}>
        <option value="">any</option>
        ${options.map((option) => html`<option value=${option} selected=${form[name] === option}>${option}</option>`)}
      </select>
    </p>`;
  return html`<form method="get" action="/console/notifications" class="filters">
    <p>
      <label for="filter-outTradeNo">out_trade_no</label>
      <input type="text" id="filter-outTradeNo" name="outTradeNo" value=${form.outTradeNo} />
    </p>
    ${select('channel', 'Channel', INBOX_CHANNELS)} ${select('verified', 'Verified', ['true', 'false'])}
    ${select('outcome', 'Outcome', INBOX_OUTCOMES)}
    <p>
      <label for="filter-from">Received from (Beijing time)</label>
      <input type="datetime-local" id="filter-from" name="from" value=${form.from} />
    </p>
    <p>
      <label for="filter-to">Received before (Beijing time)</label>
      <input type="datetime-local" id="filter-to" name="to" value=${form.to} />
    </p>
    <div class="actions">
      <button type="submit" class="primary">Filter</button>
      <a href="/console/notifications" class="button">Clear</a>
    </div>
  </form>`;
}

function subjectLink(view: InboxNotificationView): VNode | string {
  if (view.outTradeNo !== null) return html`<a href=${orderHref(view.outTradeNo)}>${view.outTradeNo}</a>`;
  if (view.batchNo !== null) return html`<a href=${batchHref(view.batchNo)}>${view.batchNo}</a>`;
  return '—';
}

export function renderNotificationsPage(
  context: ConsoleContext,
  data: {
    form: NotificationFilterForm;
    cursor?: string;
    items: InboxNotificationView[];
    nextCursor: string | null;
    error?: string;
  },
): string {
  const rows = data.items.map(
    (view) =>
      html`<tr>
        <td>
          <input
            type="checkbox"
            name="ids"
            value=${String(view.id)}
            id=${`select-${view.id}`}
            aria-label=${`Select notification ${view.id}`}
          />
        </td>
        <td class="nowrap"><a href=${notificationHref(view.id)}>#${view.id}</a></td>
        <td class="nowrap">${time(view.receivedAt)}</td>
        <td>${view.channel}</td>
        <td class="nowrap">${subjectLink(view)}</td>
        <td>${view.notifyType ?? '—'}</td>
        <td>${verifiedBadge(view.verified)}</td>
        <td>${badge(view.outcome, toneOf(view.outcome))}</td>
      </tr>`,
  );
  const body = html`<div>
    <section>${filterForm(data.form)}</section>
    ${errorMessage(data.error)}
    <section>
      <h2>Replay a selection</h2>
      ${postForm(
        context,
        '/console/notifications/replay',
        html`${scrollTable(
            ['', 'Id', 'Received', 'Channel', 'Order or batch', 'notify_type', 'Verified', 'Outcome'],
            data.items.length === 0
              ? html`<tr>
                  <td colspan="8" class="muted">No notification matches.</td>
                </tr>`
              : rows,
            { id: 'notifications' },
          )}
          <div class="actions">
            <button type="submit" class="primary" id="preview-selected">
              Preview the replay of the selected…
            </button>
          </div>`,
        { hidden: { selection: 'ids' } },
      )}
      ${pager('/console/notifications', { ...data.form }, data.cursor, data.nextCursor)}
    </section>
    <section>
      <h2>Replay a time range</h2>
      ${postForm(
        context,
        '/console/notifications/replay',
        html`<div class="filters">
          <p>
            <label for="replay-from">Received from (Beijing time)</label>
            <input type="datetime-local" id="replay-from" name="from" required />
          </p>
          <p>
            <label for="replay-to">Received before (Beijing time)</label>
            <input type="datetime-local" id="replay-to" name="to" required />
          </p>
          <div class="actions">
            <button type="submit" class="primary" id="preview-range">Preview…</button>
          </div>
        </div>`,
        { hidden: { selection: 'range' } },
      )}
    </section>
  </div>`;
  return renderConsolePage(context, { title: 'Notifications', section: 'notifications', body });
}

export function renderNotificationPage(context: ConsoleContext, view: InboxNotificationView): string {
  const body = html`<div>
    <section>
      <p>
        ${view.channel} · received ${time(view.receivedAt)} · ${subjectLink(view)} ·
        ${badge(view.outcome, toneOf(view.outcome))}
        ${view.processedAt === null ? null : html` · processed ${time(view.processedAt)}`}
      </p>
      ${notificationEvidence(view, true)}
    </section>
    <section>
      ${postForm(
        context,
        '/console/notifications/replay',
        html`<button type="submit">Preview its replay…</button>`,
        { hidden: { selection: 'ids', ids: String(view.id) } },
      )}
    </section>
  </div>`;
  return renderConsolePage(context, { title: `Notification #${view.id}`, section: 'notifications', body });
}

/** The replay's selection as posted: ids, or a range in Beijing time. */
export interface ReplayForm {
  selection: 'ids' | 'range';
  ids: string[];
  from: string;
  to: string;
}

function selectionText(form: ReplayForm, range?: { from: Date; to: Date }): string {
  return form.selection === 'ids'
    ? `notification(s) ${form.ids.map((id) => `#${id}`).join(', ')}`
    : `notifications received from ${beijingTime(range?.from)} to ${beijingTime(range?.to)}`;
}

function reportBody(report: ReplayReport): VNode {
  const verb = report.dryRun ? 'would add' : 'added';
  return html`<div id="replay-report">
    <p>
      <strong>${report.selected}</strong> selected, <strong>${report.replayed}</strong> run again,
      ${report.skipped.length} skipped; <strong id="replay-events">${report.events}</strong> event(s) ${verb}.
    </p>
    ${
      report.orders.length === 0 && report.batches.length === 0
        ? html`<p class="muted">No new fact: every selected notification is already applied.</p>`
        : scrollTable(
            ['Stream', 'Event', 'Version', 'From notification'],
            [
              ...report.orders.flatMap((order) =>
                order.events.map(
                  (event) =>
                    html`<tr>
                      <td class="nowrap"><a href=${orderHref(order.outTradeNo)}>${order.outTradeNo}</a></td>
                      <td class="event-type">${event.type}</td>
                      <td class="num">${event.version}</td>
                      <td><a href=${notificationHref(event.inboxId)}>#${event.inboxId}</a></td>
                    </tr>`,
                ),
              ),
              ...report.batches.flatMap((batch) =>
                batch.events.map(
                  (event) =>
                    html`<tr>
                      <td class="nowrap"><a href=${batchHref(batch.batchNo)}>${batch.batchNo}</a></td>
                      <td class="event-type">${event.type}</td>
                      <td class="num">${event.version}</td>
                      <td><a href=${notificationHref(event.inboxId)}>#${event.inboxId}</a></td>
                    </tr>`,
                ),
              ),
            ],
            { id: 'replay-facts', numeric: [2] },
          )
    }
    ${
      report.skipped.length === 0
        ? null
        : html`<details>
            <summary>Skipped (${report.skipped.length})</summary>
            <ul>
              ${report.skipped.map((skip) => html`<li><a href=${notificationHref(skip.inboxId)}>#${skip.inboxId}</a>: ${skip.reason}</li>`)}
            </ul>
          </details>`
    }
  </div>`;
}

/** The dry run's report, and the step that applies it. */
export function renderReplayPreviewPage(
  context: ConsoleContext,
  form: ReplayForm,
  range: { from: Date; to: Date } | undefined,
  report: ReplayReport,
): string {
  const body = html`<div>
    ${confirmStep(context, {
      action: '/console/notifications/replay',
      summary: html`<p>Dry run of ${selectionText(form, range)}: nothing was written.</p>
        ${reportBody(report)}`,
      hidden: { selection: form.selection, ids: form.ids, from: form.from, to: form.to },
      confirmLabel: 'Apply the replay',
      cancelHref: '/console/notifications',
    })}
  </div>`;
  return renderConsolePage(context, { title: 'Replay preview', section: 'notifications', body });
}

export function renderReplayDonePage(
  context: ConsoleContext,
  form: ReplayForm,
  range: { from: Date; to: Date } | undefined,
  report: ReplayReport,
): string {
  const body = html`<section>
    <p class="flash flash-success" role="status">
      Replayed ${selectionText(form, range)} in ${Math.round(report.durationMs)} ms.
    </p>
    ${reportBody(report)}
    <p><a href="/console/notifications">Back to the notifications</a></p>
  </section>`;
  return renderConsolePage(context, { title: 'Replay applied', section: 'notifications', body });
}
