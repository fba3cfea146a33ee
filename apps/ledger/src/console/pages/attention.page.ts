import type { VNode } from 'preact';
import type { WebhookSummary } from '@ledger/processes';
import type { AttentionList, OrdersNeedingAttention, RefundBatchListItem } from '@ledger/projections';
import type { ConsoleContext } from '../session/console-request';
import { badge, money, scrollTable, time } from '../views/components';
import { html } from '../views/html';
import { postForm, renderConsolePage } from '../views/layout';
import { orderHref } from './orders.page';
import { batchHref, batchSummaryTable } from './refund-batches.page';

export interface AttentionPageData {
  orders: OrdersNeedingAttention;
  /** pwd batches waiting for the payment password, nopwd ones for the gateway's answer. */
  waitingBatches: { items: RefundBatchListItem[]; more: boolean };
  unknownBatches: { items: RefundBatchListItem[]; more: boolean };
  deadWebhooks: { items: WebhookSummary[]; count: number };
}

function orderList(
  id: string,
  title: string,
  explanation: string,
  list: AttentionList,
  detail: (order: AttentionList['items'][number]) => VNode | string,
): VNode {
  return html`<section id=${id}>
    <h2>${title} <span class="badge ${list.count > 0 ? 'bad' : 'ok'}">${list.count}</span></h2>
    <p class="muted">${explanation}</p>
    ${
      list.count === 0
        ? html`<p class="muted">None.</p>`
        : scrollTable(
            ['out_trade_no', 'Subject', 'Paid', 'What', 'Since'],
            list.items.map(
              (order) =>
                html`<tr>
                  <td class="nowrap">
                    <a href=${`${orderHref(order.outTradeNo)}#actions`}>${order.outTradeNo}</a>
                  </td>
                  <td>${order.subject ?? '—'}</td>
                  <td class="num">${money(order.paidFee)}</td>
                  <td>${detail(order)}</td>
                  <td class="nowrap">${time(order.updatedAt)}</td>
                </tr>`,
            ),
            { numeric: [2] },
          )
    }
  </section>`;
}

function batchList(
  id: string,
  title: string,
  explanation: string,
  list: { items: RefundBatchListItem[]; more: boolean },
): VNode {
  return html`<section id=${id}>
    <h2>
      ${title}
      <span class="badge ${list.items.length > 0 ? 'warn' : 'ok'}"
        >${list.items.length}${list.more ? '+' : ''}</span
      >
    </h2>
    <p class="muted">${explanation}</p>
    ${list.items.length === 0 ? html`<p class="muted">None.</p>` : batchSummaryTable(list.items)}
  </section>`;
}

/** `/console/attention`: what waits for a person, each linking to where it is resolved. */
export function renderAttentionPage(context: ConsoleContext, data: AttentionPageData): string {
  const { orders, deadWebhooks } = data;
  const body = html`<div>
    ${orderList(
      'open-anomalies',
      'Open anomalies',
      'Delivery is blocked until an operator accepts or confirms the anomaly on the order’s page.',
      orders.openAnomalies,
      (order) =>
        order.anomalies
          .filter((anomaly) => anomaly.resolution === undefined)
          .map((anomaly) => anomaly.kind)
          .join(', '),
    )}
    ${orderList(
      'return-reviews',
      'Returns to review',
      'Delivered, then partly refunded: complete the return by hand when the goods come back.',
      orders.returnReviews,
      () => badge('manual_review', 'warn'),
    )}
    ${orderList(
      'shipping-failures',
      'Shipping confirmations refused',
      'Alipay refused send_goods_confirm_by_platform for good: confirm the shipment on Alipay’s side.',
      orders.shippingFailures,
      () => badge('failed', 'bad'),
    )}
    ${batchList(
      'batches-waiting',
      'Refund batches waiting',
      'pwd: waiting for the payment password on Alipay’s page (cancel it if it will not be confirmed); nopwd: the gateway has not answered yet.',
      data.waitingBatches,
    )}
    ${batchList(
      'batches-unknown',
      'Refund batches whose outcome is unknown',
      'A nopwd call went unanswered and may have reached Alipay: check Alipay’s console, then mark the outcome.',
      data.unknownBatches,
    )}
    <section id="dead-webhooks">
      <h2>
        Dead webhooks
        <span class="badge ${deadWebhooks.count > 0 ? 'bad' : 'ok'}">${deadWebhooks.count}</span>
      </h2>
      <p class="muted">The merchant’s endpoint never answered 2xx within the retry schedule.</p>
      ${
        deadWebhooks.items.length === 0
          ? html`<p class="muted">None.</p>`
          : scrollTable(
              ['Type', 'Subject', 'Attempts', 'Last answer', 'Created', ''],
              deadWebhooks.items.map(
                (webhook) =>
                  html`<tr>
                    <td class="nowrap">${webhook.eventType}</td>
                    <td class="nowrap">
                      ${
                        webhook.eventType.startsWith('order.')
                          ? html`<a href=${orderHref(webhook.subject)}>${webhook.subject}</a>`
                          : html`<a href=${batchHref(webhook.subject)}>${webhook.subject}</a>`
                      }
                    </td>
                    <td class="num">${webhook.attempts}</td>
                    <td>${webhook.lastStatus ?? webhook.lastError ?? '—'}</td>
                    <td class="nowrap">${time(webhook.createdAt)}</td>
                    <td>
                      ${postForm(context, `/console/webhooks/${encodeURIComponent(webhook.id)}/retry`, html`<button type="submit">Send again…</button>`)}
                    </td>
                  </tr>`,
              ),
              { numeric: [2] },
            )
      }
    </section>
  </div>`;
  return renderConsolePage(context, { title: 'Needs attention', section: 'attention', body });
}
