import type { OrderSummary, OrderTotals } from '@ledger/projections';
import { ORDER_STATUSES } from '@ledger/projections';
import type { ConsoleContext } from '../session/console-request';
import { badge, money, pager, scrollTable, time, toneOf } from '../views/components';
import { errorMessage } from '../views/forms';
import { html } from '../views/html';
import { renderConsolePage } from '../views/layout';

/** The order search as typed: every field a string, empty when not given. */
export interface OrderSearchForm {
  outTradeNo: string;
  tradeNo: string;
  buyer: string;
  status: string;
  /** `datetime-local` values, Beijing time. */
  from: string;
  to: string;
}

export interface OrdersPageData {
  form: OrderSearchForm;
  cursor?: string;
  items: OrderSummary[];
  nextCursor: string | null;
  totals?: OrderTotals;
  error?: string;
}

export function orderHref(outTradeNo: string): string {
  return `/console/orders/${encodeURIComponent(outTradeNo)}`;
}

function searchForm(form: OrderSearchForm) {
  const text = (name: keyof OrderSearchForm, label: string, placeholder = '') =>
    html`<p>
      <label for=${`search-${name}`}>${label}</label>
      <input type="text" id=${`search-${name}`} name=${name} value=${form[name]} placeholder=${placeholder} />
    </p>`;
  return html`<form method="get" action="/console" class="filters" role="search">
    ${text('outTradeNo', 'out_trade_no')} ${text('tradeNo', 'trade_no')}
    ${text('buyer', 'Buyer (e-mail or id)', 'buyer@example.com / 2088…')}
    <p>
      <label for="search-status">Status</label>
      <select id="search-status" name="status">
        <option value="">any</option>
        ${ORDER_STATUSES.map((status) => html`<option value=${status} selected=${form.status === status}>${status}</option>`)}
      </select>
    </p>
    <p>
      <label for="search-from">Placed from (Beijing time)</label>
      <input type="datetime-local" id="search-from" name="from" value=${form.from} />
    </p>
    <p>
      <label for="search-to">Placed before (Beijing time)</label>
      <input type="datetime-local" id="search-to" name="to" value=${form.to} />
    </p>
    <div class="actions">
      <button type="submit" class="primary" id="search">Search</button>
      <a href="/console" class="button">Clear</a>
    </div>
  </form>`;
}

function orderRow(order: OrderSummary) {
  return html`<tr>
    <td class="nowrap"><a href=${orderHref(order.outTradeNo)}>${order.outTradeNo}</a></td>
    <td class="subject">${order.subject ?? html`<span class="muted">never placed</span>`}</td>
    <td>${badge(order.status ?? 'unknown', toneOf(order.status))}</td>
    <td class="num">${money(order.totalFee)}</td>
    <td class="num">${money(order.paidFee)}</td>
    <td class="num">${money(order.refundedFee)}</td>
    <td>${order.buyerEmail ?? order.buyerId ?? '—'}</td>
    <td class="nowrap">${order.tradeNo ?? '—'}</td>
    <td>${badge(order.deliveryState, toneOf(order.deliveryState))}</td>
    <td class="nowrap">${time(order.createdAt)}</td>
  </tr>`;
}

/** `/console`: the order search, its totals and a page of orders, newest first. */
export function renderOrdersPage(context: ConsoleContext, data: OrdersPageData): string {
  const { totals } = data;
  const body = html`<div>
    <section>${searchForm(data.form)}</section>
    ${errorMessage(data.error)}
    ${
      totals === undefined
        ? null
        : html`<p class="totals" id="totals">
            <span><strong>${totals.count}</strong> order(s)</span>
            <span>ordered ${money(totals.totalFee)}</span>
            <span>paid ${money(totals.paidFee)}</span>
            <span>refunded ${money(totals.refundedFee)}</span>
          </p>`
    }
    ${scrollTable(
      [
        'out_trade_no',
        'Subject',
        'Status',
        'Amount',
        'Paid',
        'Refunded',
        'Buyer',
        'trade_no',
        'Delivery',
        'Placed',
      ],
      data.items.length === 0
        ? html`<tr>
            <td colspan="10" class="muted">No order matches.</td>
          </tr>`
        : data.items.map(orderRow),
      { id: 'orders', numeric: [3, 4, 5] },
    )}
    ${pager('/console', { ...data.form }, data.cursor, data.nextCursor)}
  </div>`;
  return renderConsolePage(context, { title: 'Orders', section: 'orders', body });
}
