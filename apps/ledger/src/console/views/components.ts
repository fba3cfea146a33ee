import type { VNode } from 'preact';
import { beijingTime, yuan } from './format';
import { html, type Markup } from './html';

/** A table that scrolls sideways on a narrow screen instead of widening the page. */
export function scrollTable(
  head: readonly string[],
  rows: Markup,
  options: { id?: string; numeric?: readonly number[] } = {},
): VNode {
  return html`<div class="table-scroll">
    <table id=${options.id}>
      <thead>
        <tr>
          ${head.map((label, index) => html`<th class=${options.numeric?.includes(index) ? 'num' : undefined}>${label}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
  </div>`;
}

export type Tone = 'ok' | 'warn' | 'bad' | undefined;

export function badge(text: string | null | undefined, tone?: Tone): VNode {
  return html`<span class=${tone === undefined ? 'badge' : `badge ${tone}`}>${text ?? '—'}</span>`;
}

/** An instant in Beijing time, with the exact instant for machines. */
export function time(instant: string | null | undefined): VNode {
  return html`<time datetime=${instant ?? undefined}>${beijingTime(instant)}</time>`;
}

export function money(fen: number | null | undefined): VNode {
  return html`<span class="money">${yuan(fen)}</span>`;
}

/** Label and value pairs. */
export function facts(entries: ReadonlyArray<readonly [string, Markup]>): VNode {
  return html`<dl class="facts">
    ${entries.map(
      ([label, value]) =>
        html`<dt>${label}</dt>
          <dd>${value}</dd>`,
    )}
  </dl>`;
}

/** A value shown as indented JSON, folded away under `label`. */
export function jsonDetails(label: string, value: unknown, open = false): VNode {
  return html`<details open=${open}>
    <summary>${label}</summary>
    <pre>${JSON.stringify(value, null, 2)}</pre>
  </details>`;
}

/** The tone of an order status or decision for its badge. */
export function toneOf(value: string | null | undefined): Tone {
  switch (value ?? '') {
    case 'paid':
    case 'finished':
    case 'delivered':
    case 'returned':
    case 'confirmed':
    case 'completed':
    case 'accepted':
    case 'succeeded':
    case 'applied':
    case 'refunded':
      return 'ok';
    case 'pending':
    case 'awaiting_payment':
    case 'partially_refunded':
    case 'manual_review':
    case 'submitted':
    case 'delivering':
    case 'received':
    case 'no_new_fact':
      return 'warn';
    case 'blocked':
    case 'failed':
    case 'dead':
    case 'rejected':
    case 'outcome_unknown':
    case 'closed':
    case 'expired':
      return 'bad';
    default:
      return undefined;
  }
}

/** Previous and next pages of a cursor-paged list, keeping the filters. */
export function pager(
  path: string,
  filters: Record<string, string | undefined>,
  cursor: string | undefined,
  nextCursor: string | null,
): VNode {
  const params = (at?: string) => {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(filters))
      if (value !== undefined && value !== '') search.set(name, value);
    if (at !== undefined) search.set('cursor', at);
    const text = search.toString();
    return text === '' ? path : `${path}?${text}`;
  };
  return html`<nav class="pager" aria-label="Pages">
    ${cursor === undefined ? null : html`<a href=${params()}>First page</a>`}
    ${nextCursor === null ? html`<span class="muted">Last page</span>` : html`<a href=${params(nextCursor)} rel="next" id="next-page">Next page</a>`}
  </nav>`;
}
