import type { VNode } from 'preact';
import { formatYuan } from '@ledger/alipay-protocol';
import { openAnomalies, refundableFee, reservedFee, returnDecision, type OrderState } from '@ledger/domain';
import type { InboxNotificationView } from '@ledger/inbox';
import type { WebhookSummary } from '@ledger/processes';
import type { OrderSummary, RefundBatchListItem } from '@ledger/projections';
import type { ConsoleContext } from '../session/console-request';
import { badge, facts, jsonDetails, money, scrollTable, time, toneOf } from '../views/components';
import { html, type Markup } from '../views/html';
import { postForm } from '../views/layout';
import { notificationEvidence, notificationHeadline } from '../views/notification';
import { batchSummaryTable } from './refund-batches.page';

/** One event of the order's stream, as the history query reads it. */
export interface TimelineEvent {
  position: number;
  version: number;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  recordedAt: string;
  notification: unknown;
}

export interface OrderPageData {
  outTradeNo: string;
  /** The order status projection's row; absent while the projection has not caught up. */
  summary?: OrderSummary;
  /** The stream folded now: what the actions are decided against. */
  state: OrderState;
  events: TimelineEvent[];
  batches: RefundBatchListItem[];
  webhooks: WebhookSummary[];
}

/** Amounts in events are integer fen; these fields hold them. */
const AMOUNT_FIELD = /(Fee|amount|Amount)$/;

function eventFacts(data: unknown): Markup {
  if (typeof data !== 'object' || data === null) return null;
  const shown = Object.entries(data).filter(
    ([name, value]) =>
      name !== 'outTradeNo' &&
      (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'),
  );
  if (shown.length === 0) return null;
  return html`<ul class="event-facts">
    ${shown.map(
      ([name, value]) =>
        html`<li>
          <span class="muted">${name}</span>
          ${AMOUNT_FIELD.test(name) && typeof value === 'number' ? `¥${formatYuan(value)}` : String(value)}
        </li>`,
    )}
  </ul>`;
}

function causeOf(event: TimelineEvent): Markup {
  const notification = event.notification as InboxNotificationView | null;
  if (notification !== null) {
    return html`<div class="cause">
      Caused by ${notificationHeadline(notification)} ${notificationEvidence(notification)}
    </div>`;
  }
  const data = (event.data ?? {}) as Record<string, unknown>;
  const cause = typeof event.metadata.causationId === 'string' ? event.metadata.causationId : '';
  const operator = typeof data.operator === 'string' ? data.operator : undefined;
  const reason = typeof data.reason === 'string' ? data.reason : undefined;
  return html`<div class="cause muted">
    Caused by
    ${operator === undefined ? `an API call (${cause || 'no causation id'})` : html`operator <strong>${operator}</strong>`}
    ${reason === undefined ? null : html`: “${reason}”`}
  </div>`;
}

function timeline(events: TimelineEvent[]): VNode {
  return html`<ol class="timeline" id="timeline">
    ${events.map(
      (event) =>
        html`<li data-event-type=${event.type}>
          <div>
            <span class="event-type">${event.type}</span>
            <span class="muted">v${event.version} · ${time(event.recordedAt)}</span>
          </div>
          ${eventFacts(event.data)} ${causeOf(event)}
          ${jsonDetails('Event data', { data: event.data, metadata: event.metadata })}
        </li>`,
    )}
  </ol>`;
}

function orderFacts(data: OrderPageData): VNode {
  const { summary, state } = data;
  return facts([
    ['Subject', html`<span id="subject">${state.placed?.subject ?? summary?.subject ?? '—'}</span>`],
    ['Status', badge(summary?.status ?? 'unknown', toneOf(summary?.status))],
    ['Alipay trade_status', state.tradeStatus ?? '—'],
    ['refund_status', state.refundStatus ?? '—'],
    ['trade_no', state.tradeNo ?? '—'],
    ['Payment type', state.paymentType ?? '—'],
    ['Amount', money(state.placed?.totalFee)],
    ['Paid', money(state.paidFee)],
    ['Refunded', money(state.refundedFee)],
    ['Reserved by batches in flight', money(reservedFee(state))],
    ['Still refundable', money(refundableFee(state))],
    ['Buyer', [state.buyerEmail, state.buyerId].filter(Boolean).join(' · ') || '—'],
    ['Placed', time(summary?.createdAt)],
    ['Last change', time(summary?.updatedAt)],
  ]);
}

function decisions(data: OrderPageData): VNode {
  const { summary, state } = data;
  return html`<section id="decisions">
    <h2>Decisions</h2>
    ${facts([
      ['Delivery', badge(summary?.deliveryState, toneOf(summary?.deliveryState))],
      ['Return', badge(summary?.returnState, toneOf(summary?.returnState))],
      ['Shipping confirmation', badge(summary?.shippingState, toneOf(summary?.shippingState))],
    ])}
    <h3>Anomalies</h3>
    ${
      state.anomalies.length === 0
        ? html`<p class="muted">None.</p>`
        : scrollTable(
            ['Kind', 'Detail', 'Detected', 'State'],
            state.anomalies.map(
              (anomaly) =>
                html`<tr>
                  <td class="nowrap">${anomaly.kind}</td>
                  <td>${anomaly.detail}</td>
                  <td class="nowrap">${time(anomaly.detectedAt)}</td>
                  <td>
                    ${anomaly.resolution === undefined ? badge('open', 'bad') : badge(anomaly.resolution, 'ok')}
                  </td>
                </tr>`,
            ),
          )
    }
  </section>`;
}

function reasonField(id: string): VNode {
  return html`<p>
    <label for=${id}>Reason (recorded with the action)</label>
    <textarea id=${id} name="reason" required maxlength="500"></textarea>
  </p>`;
}

/** The actions the order's state allows now, each a form that leads to a confirmation step. */
function actions(context: ConsoleContext, data: OrderPageData): VNode {
  const { state, outTradeNo } = data;
  const base = `/console/orders/${encodeURIComponent(outTradeNo)}`;
  const refundable = refundableFee(state);
  const forms: VNode[] = [];
  const refundOpen =
    state.paid &&
    state.closed === undefined &&
    !state.finished &&
    state.paymentType !== 'escrow' &&
    refundable > 0;
  if (refundOpen) {
    forms.push(
      html`<div class="card" id="action-refund">
        <h3>Refund</h3>
        ${postForm(
          context,
          '/console/refund-batches/new',
          html`<p>
              <label for="refund-amount">Amount in yuan (at most ¥${formatYuan(refundable)})</label>
              <input
                type="text"
                id="refund-amount"
                name="amount"
                value=${formatYuan(refundable)}
                inputmode="decimal"
                required
              />
            </p>
            ${reasonField('refund-reason')}
            <p>
              <label for="refund-mode">Mode</label>
              <select id="refund-mode" name="mode">
                <option value="nopwd">nopwd: sent to Alipay at once</option>
                <option value="pwd">pwd: confirmed with the payment password on Alipay’s page</option>
              </select>
            </p>
            <div class="actions"><button type="submit" class="primary">Review the refund…</button></div>`,
          { hidden: { outTradeNo, from: 'order' } },
        )}
      </div>`,
    );
  }
  if (openAnomalies(state).length > 0) {
    forms.push(
      html`<div class="card" id="action-anomalies">
        <h3>Resolve the open anomalies</h3>
        ${postForm(
          context,
          `${base}/anomalies`,
          html`<p>
              <label for="anomaly-decision">Decision</label>
              <select id="anomaly-decision" name="decision">
                <option value="accept">accept: Alipay’s input is understood, the order proceeds</option>
                <option value="confirm">confirm: the anomaly stands, the order stays blocked</option>
              </select>
            </p>
            ${reasonField('anomaly-reason')}
            <div class="actions"><button type="submit" class="primary">Review…</button></div>`,
        )}
      </div>`,
    );
  }
  if (state.placed !== undefined && state.paid && !state.delivered) {
    forms.push(
      html`<div class="card" id="action-delivery">
        <h3>Complete the delivery by hand</h3>
        <p class="muted">
          The goods went out another way; a pending order.delivery_requested webhook is cancelled.
        </p>
        ${postForm(
          context,
          `${base}/delivery`,
          html`${reasonField('delivery-reason')}
            <p>
              <label for="delivery-reference">Reference (waybill, optional)</label>
              <input type="text" id="delivery-reference" name="reference" maxlength="200" />
            </p>
            <div class="actions"><button type="submit" class="primary">Review…</button></div>`,
        )}
      </div>`,
    );
  }
  const returnState = returnDecision(state);
  if (returnState === 'pending' || returnState === 'manual_review') {
    forms.push(
      html`<div class="card" id="action-return">
        <h3>Complete the return by hand</h3>
        ${postForm(
          context,
          `${base}/return`,
          html`${reasonField('return-reason')}
            <p>
              <label for="return-reference">Reference (RMA, optional)</label>
              <input type="text" id="return-reference" name="reference" maxlength="200" />
            </p>
            <div class="actions"><button type="submit" class="primary">Review…</button></div>`,
        )}
      </div>`,
    );
  }
  return html`<section id="actions">
    <h2>Actions</h2>
    ${forms.length === 0 ? html`<p class="muted">Nothing to do on this order now.</p>` : html`<div class="grid">${forms}</div>`}
  </section>`;
}

function batchesSection(batches: RefundBatchListItem[]): VNode {
  return html`<section id="refund-batches">
    <h2>Refund batches</h2>
    ${batches.length === 0 ? html`<p class="muted">None.</p>` : batchSummaryTable(batches)}
  </section>`;
}

function webhooksSection(webhooks: WebhookSummary[]): VNode {
  return html`<section id="webhooks">
    <h2>Webhooks sent</h2>
    ${
      webhooks.length === 0
        ? html`<p class="muted">None.</p>`
        : scrollTable(
            ['Type', 'State', 'Attempts', 'Last answer', 'Created'],
            webhooks.map(
              (webhook) =>
                html`<tr>
                  <td class="nowrap">${webhook.eventType}</td>
                  <td>
                    ${badge(webhook.state, toneOf(webhook.state))}${webhook.note === null ? null : html` <span class="muted">${webhook.note}</span>`}
                  </td>
                  <td class="num">${webhook.attempts}</td>
                  <td>${webhook.lastStatus ?? webhook.lastError ?? '—'}</td>
                  <td class="nowrap">${time(webhook.createdAt)}</td>
                </tr>`,
            ),
            { numeric: [2] },
          )
    }
  </section>`;
}

/** The body of `/console/orders/:outTradeNo`. */
export function orderPageBody(context: ConsoleContext, data: OrderPageData): VNode {
  return html`<div>
    <section id="order">${orderFacts(data)}</section>
    ${actions(context, data)} ${decisions(data)}
    <section>
      <h2>Timeline</h2>
      <p class="muted">
        The order stream’s events in order, each with the notification or the person that caused it.
        <a href=${`/console/notifications?outTradeNo=${encodeURIComponent(data.outTradeNo)}`}
          >Every notification of this order</a
        >
      </p>
      ${timeline(data.events)}
    </section>
    ${batchesSection(data.batches)} ${webhooksSection(data.webhooks)}
  </div>`;
}
