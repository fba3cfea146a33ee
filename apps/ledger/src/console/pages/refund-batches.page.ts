import type { VNode } from 'preact';
import { formatYuan } from '@ledger/alipay-protocol';
import type { RefundBatchPreview } from '@ledger/commands';
import { REFUND_BATCH_STATES, type RefundBatchListItem, type RefundBatchSummary } from '@ledger/projections';
import type { ConsoleContext } from '../session/console-request';
import { badge, facts, money, pager, scrollTable, time, toneOf } from '../views/components';
import { confirmStep, errorMessage } from '../views/forms';
import { html } from '../views/html';
import { postForm, renderConsolePage } from '../views/layout';
import { orderHref } from './orders.page';

export function batchHref(batchNo: string): string {
  return `/console/refund-batches/${encodeURIComponent(batchNo)}`;
}

/** The short table of batches an order page and the attention page show: each links to its own page. */
export function batchSummaryTable(batches: RefundBatchListItem[]): VNode {
  return scrollTable(
    ['batch_no', 'Mode', 'State', 'Total', 'Submitted'],
    batches.map(
      (batch) =>
        html`<tr>
          <td class="nowrap"><a href=${batchHref(batch.batchNo)}>${batch.batchNo}</a></td>
          <td>${batch.mode ?? '—'}</td>
          <td>${badge(batch.state, toneOf(batch.state))}</td>
          <td class="num">${money(batch.totalAmount)}</td>
          <td class="nowrap">${time(batch.submittedAt)}</td>
        </tr>`,
    ),
    { numeric: [3] },
  );
}

export interface BatchListForm {
  state: string;
  mode: string;
  outTradeNo: string;
}

export function renderBatchListPage(
  context: ConsoleContext,
  data: {
    form: BatchListForm;
    cursor?: string;
    items: RefundBatchListItem[];
    nextCursor: string | null;
    error?: string;
  },
): string {
  const { form } = data;
  const body = html`<div>
    <p><a href="/console/refund-batches/new" class="button primary" id="new-batch">Submit a batch…</a></p>
    <section>
      <form method="get" action="/console/refund-batches" class="filters">
        <p>
          <label for="batch-state">State</label>
          <select id="batch-state" name="state">
            <option value="">any</option>
            ${REFUND_BATCH_STATES.map((state) => html`<option value=${state} selected=${form.state === state}>${state}</option>`)}
          </select>
        </p>
        <p>
          <label for="batch-mode">Mode</label>
          <select id="batch-mode" name="mode">
            <option value="">any</option>
            ${['pwd', 'nopwd'].map((mode) => html`<option value=${mode} selected=${form.mode === mode}>${mode}</option>`)}
          </select>
        </p>
        <p>
          <label for="batch-order">out_trade_no</label>
          <input type="text" id="batch-order" name="outTradeNo" value=${form.outTradeNo} />
        </p>
        <div class="actions"><button type="submit" class="primary">Filter</button></div>
      </form>
    </section>
    ${errorMessage(data.error)}
    ${scrollTable(
      ['batch_no', 'Mode', 'State', 'Records', 'Total', 'Succeeded', 'Submitted'],
      data.items.length === 0
        ? html`<tr>
            <td colspan="7" class="muted">No batch matches.</td>
          </tr>`
        : data.items.map(
            (batch) =>
              html`<tr>
                <td class="nowrap"><a href=${batchHref(batch.batchNo)}>${batch.batchNo}</a></td>
                <td>${batch.mode ?? '—'}</td>
                <td>${badge(batch.state, toneOf(batch.state))}</td>
                <td class="num">${batch.batchNum ?? '—'}</td>
                <td class="num">${money(batch.totalAmount)}</td>
                <td class="num">${batch.successNum ?? '—'}</td>
                <td class="nowrap">${time(batch.submittedAt)}</td>
              </tr>`,
          ),
      { id: 'batches', numeric: [3, 4, 5] },
    )}
    ${pager('/console/refund-batches', { ...form }, data.cursor, data.nextCursor)}
  </div>`;
  return renderConsolePage(context, { title: 'Refund batches', section: 'refund-batches', body });
}

function batchActions(context: ConsoleContext, batch: RefundBatchSummary): VNode | null {
  const base = batchHref(batch.batchNo);
  const reason = (id: string) =>
    html`<p>
      <label for=${id}>Reason (recorded with the action)</label>
      <textarea id=${id} name="reason" required maxlength="500"></textarea>
    </p>`;
  if (batch.state === 'submitted' && batch.mode === 'pwd') {
    return html`<section id="actions">
      <h2>Actions</h2>
      <div class="card">
        <h3>Cancel the batch</h3>
        <p class="muted">
          It waits for the merchant’s payment password on Alipay’s page. Cancelling releases the reserved
          amounts in the ledger; it does not withdraw Alipay’s page.
        </p>
        ${postForm(
          context,
          `${base}/cancel`,
          html`${reason('cancel-reason')}
            <div class="actions"><button type="submit" class="danger">Review…</button></div>`,
        )}
      </div>
    </section>`;
  }
  if (batch.state === 'outcome_unknown') {
    return html`<section id="actions">
      <h2>Actions</h2>
      <div class="card">
        <h3>Mark the outcome, after checking Alipay’s console</h3>
        ${postForm(
          context,
          `${base}/outcome`,
          html`<p>
              <label for="outcome-accepted">What Alipay’s console shows</label>
              <select id="outcome-accepted" name="accepted">
                <option value="true">accepted: hold the reservations until the result</option>
                <option value="false">not accepted: release the reservations</option>
              </select>
            </p>
            ${reason('outcome-reason')}
            <div class="actions"><button type="submit" class="primary">Review…</button></div>`,
        )}
      </div>
    </section>`;
  }
  return null;
}

export function renderBatchPage(
  context: ConsoleContext,
  batch: RefundBatchSummary,
  pwdUrl: string | undefined,
): string {
  const body = html`<div>
    <section id="batch">
      ${facts([
        ['State', badge(batch.state, toneOf(batch.state))],
        ['Mode', batch.mode ?? '—'],
        ['Records', String(batch.batchNum ?? '—')],
        ['Total', money(batch.totalAmount)],
        ['Succeeded (success_num)', String(batch.successNum ?? '—')],
        ['Gateway error', batch.errorCode ?? '—'],
        ['Submitted', time(batch.submittedAt)],
        ['Last change', time(batch.updatedAt)],
        ...(batch.unanswered === null
          ? []
          : [['Unanswered call', `${batch.unanswered.code}: ${batch.unanswered.detail}`] as const]),
        ...(batch.resolution === null
          ? []
          : [
              [
                'Settled by',
                html`${batch.resolution.action} by <strong>${batch.resolution.operator}</strong>:
                  “${batch.resolution.reason}” · ${time(batch.resolution.at)}`,
              ] as const,
            ]),
      ])}
      ${
        pwdUrl === undefined
          ? null
          : html`<p>
              Waiting for the payment password:
              <a href=${pwdUrl} target="_blank" rel="noopener noreferrer" id="pwd-url"
                >open Alipay’s refund page</a
              >
            </p>`
      }
    </section>
    ${batchActions(context, batch)}
    <section>
      <h2>Records</h2>
      ${scrollTable(
        ['out_trade_no', 'trade_no', 'Amount', 'Reason', 'Result', 'Refunded'],
        batch.items.map(
          (record) =>
            html`<tr>
              <td class="nowrap">
                ${record.outTradeNo === null ? '—' : html`<a href=${orderHref(record.outTradeNo)}>${record.outTradeNo}</a>`}
              </td>
              <td class="nowrap">${record.tradeNo}</td>
              <td class="num">${money(record.amount)}</td>
              <td>${record.reason ?? '—'}</td>
              <td>
                ${record.result === null ? badge('waiting') : badge(`${record.result.code} (${record.result.outcome})`, record.result.outcome === 'failed' ? 'bad' : 'ok')}
              </td>
              <td class="num">${record.result === null ? '—' : money(record.result.amount)}</td>
            </tr>`,
        ),
        { id: 'records', numeric: [2, 5] },
      )}
    </section>
    ${
      batch.anomalies.length === 0
        ? null
        : html`<section>
            <h2>Anomalies</h2>
            ${scrollTable(
              ['Kind', 'Detail', 'trade_no', 'Detected'],
              batch.anomalies.map(
                (anomaly) =>
                  html`<tr>
                    <td>${anomaly.kind}</td>
                    <td>${anomaly.detail}</td>
                    <td>${anomaly.tradeNo ?? '—'}</td>
                    <td class="nowrap">${time(anomaly.detectedAt)}</td>
                  </tr>`,
              ),
            )}
          </section>`
    }
  </div>`;
  return renderConsolePage(context, {
    title: `Refund batch ${batch.batchNo}`,
    section: 'refund-batches',
    body,
  });
}

/** A row of the submission form, as typed. */
export interface BatchRowForm {
  outTradeNo: string;
  amount: string;
  reason: string;
}

export interface NewBatchForm {
  rows: BatchRowForm[];
  mode: string;
  /** `order` when the refund was asked from the order's page: the answer goes back there. */
  from: string;
}

/** Empty rows offered beyond those typed. */
const SPARE_ROWS = 3;

export function renderNewBatchPage(
  context: ConsoleContext,
  form: NewBatchForm,
  error?: string,
  status = 200,
): { status: number; document: string } {
  const rows = [
    ...form.rows,
    ...Array.from({ length: SPARE_ROWS }, () => ({ outTradeNo: '', amount: '', reason: '' })),
  ];
  const body = html`<div>
    ${errorMessage(error)}
    <section>
      <p class="muted">
        One row per order: its out_trade_no, the amount in yuan, and a reason (shown to the buyer by Alipay).
        Empty rows are left out. The next step shows what each order can still refund before anything is
        written.
      </p>
      ${postForm(
        context,
        '/console/refund-batches/new',
        html`<div class="rows">
            ${rows.map(
              (row, index) =>
                html`<div class="row">
                  <p>
                    <label for=${`row-${index}-order`}>out_trade_no</label>
                    <input type="text" id=${`row-${index}-order`} name="outTradeNo" value=${row.outTradeNo} />
                  </p>
                  <p>
                    <label for=${`row-${index}-amount`}>Amount (yuan)</label>
                    <input
                      type="text"
                      id=${`row-${index}-amount`}
                      name="amount"
                      value=${row.amount}
                      inputmode="decimal"
                    />
                  </p>
                  <p>
                    <label for=${`row-${index}-reason`}>Reason</label>
                    <input type="text" id=${`row-${index}-reason`} name="reason" value=${row.reason} />
                  </p>
                </div>`,
            )}
          </div>
          <p>
            <label for="batch-mode">Mode</label>
            <select id="batch-mode" name="mode">
              <option value="nopwd" selected=${form.mode !== 'pwd'}>nopwd: sent to Alipay at once</option>
              <option value="pwd" selected=${form.mode === 'pwd'}>
                pwd: confirmed with the payment password on Alipay’s page
              </option>
            </select>
          </p>
          <div class="actions">
            <button type="submit" class="primary" id="preview-batch">Preview…</button>
          </div>`,
      )}
    </section>
  </div>`;
  return {
    status,
    document: renderConsolePage(context, { title: 'Submit a refund batch', section: 'refund-batches', body }),
  };
}

/** The preview of a batch: each record against its order; the confirmation when every record would pass. */
export function renderBatchPreviewPage(
  context: ConsoleContext,
  form: NewBatchForm & { idempotencyKey: string },
  preview: RefundBatchPreview,
  error?: string,
): string {
  const table = scrollTable(
    [
      'out_trade_no',
      'Subject',
      'Paid',
      'Refunded',
      'Reserved',
      'Refundable',
      'This refund',
      'Reason',
      'Check',
    ],
    preview.records.map(
      (record) =>
        html`<tr>
          <td class="nowrap"><a href=${orderHref(record.outTradeNo)}>${record.outTradeNo}</a></td>
          <td>${record.subject ?? '—'}</td>
          <td class="num">${money(record.paidFee)}</td>
          <td class="num">${money(record.refundedFee)}</td>
          <td class="num">${money(record.reservedFee)}</td>
          <td class="num">${money(record.refundableFee)}</td>
          <td class="num"><strong>${money(record.amount)}</strong></td>
          <td>${record.reason}</td>
          <td>
            ${record.refusal === null ? badge('ok', 'ok') : html`${badge(record.refusal.code, 'bad')} ${record.refusal.message}`}
          </td>
        </tr>`,
    ),
    { id: 'preview', numeric: [2, 3, 4, 5, 6] },
  );
  const cancelHref =
    form.from === 'order' && form.rows.length === 1
      ? orderHref(form.rows[0].outTradeNo)
      : '/console/refund-batches/new';
  const hidden = {
    outTradeNo: form.rows.map((row) => row.outTradeNo),
    amount: form.rows.map((row) => row.amount),
    reason: form.rows.map((row) => row.reason),
    mode: form.mode,
    from: form.from,
    idempotencyKey: form.idempotencyKey,
  };
  const body = html`<div>
    ${
      preview.acceptable
        ? confirmStep(context, {
            action: '/console/refund-batches/new',
            summary: html`<p>
                A <strong>${form.mode}</strong> batch of ${preview.records.length} record(s),
                ¥${formatYuan(preview.totalAmount)} in all. Nothing is written until you confirm.
              </p>
              ${table}`,
            hidden,
            confirmLabel: form.mode === 'nopwd' ? 'Refund now' : 'Record the batch',
            cancelHref,
            ...(error === undefined ? {} : { error }),
          })
        : html`<section>
            ${errorMessage(error ?? 'The ledger would refuse this batch: correct the records marked below.')}
            ${table}
            <p><a href=${cancelHref} class="button">Back</a></p>
          </section>`
    }
  </div>`;
  return renderConsolePage(context, { title: 'Refund batch preview', section: 'refund-batches', body });
}
