import { EXPORT_FORMATS, EXPORT_KINDS, type ExportFormat, type ExportKind } from '@ledger/projections';
import type { ConsoleContext } from '../session/console-request';
import { facts, time } from '../views/components';
import { errorMessage } from '../views/forms';
import { html } from '../views/html';
import { renderConsolePage } from '../views/layout';

/** Where the form downloads from. */
export const EXPORT_DOWNLOAD_PATH = '/console/exports/download';

/** The export form as typed: every field a string; `from` and `to` are dates (`<input type="date">`). */
export interface ExportForm {
  kind: string;
  from: string;
  to: string;
  format: string;
}

export interface ExportsPageData {
  form: ExportForm;
  /** The rows the selection has now and the instants it spans, when it was counted. */
  count?: { rows: number; from: Date; to: Date };
  error?: string;
}

const KIND_EXPLANATIONS: Record<ExportKind, string> = {
  orders: 'one row per order placed, by the time it was placed',
  payments: 'one row per payment, by Alipay’s payment time',
  refunds: 'one row per refund outcome, by Alipay’s time of the refund',
  movements: 'each payment as income and each refund as an expense, by Alipay’s time',
};

const FORMAT_LABELS: Record<ExportFormat, string> = { csv: 'CSV', jsonl: 'JSON lines' };

/**
 * `/console/exports`: the form of an export for accounting. "Download" GETs the file; "Count rows" shows
 * how many rows the selection has now, without downloading.
 */
export function renderExportsPage(context: ConsoleContext, data: ExportsPageData): string {
  const { form } = data;
  const body = html`<div>
    <section>
      <form method="get" action=${EXPORT_DOWNLOAD_PATH} class="filters" id="export-form">
        <p>
          <label for="export-kind">What</label>
          <select id="export-kind" name="kind">
            ${EXPORT_KINDS.map((kind) => html`<option value=${kind} selected=${form.kind === kind}>${kind}</option>`)}
          </select>
        </p>
        <p>
          <label for="export-from">From (Beijing date, from midnight)</label>
          <input type="date" id="export-from" name="from" value=${form.from} required />
        </p>
        <p>
          <label for="export-to">Before (Beijing date, not included)</label>
          <input type="date" id="export-to" name="to" value=${form.to} required />
        </p>
        <p>
          <label for="export-format">Format</label>
          <select id="export-format" name="format">
            ${EXPORT_FORMATS.map((format) => html`<option value=${format} selected=${form.format === format}>${FORMAT_LABELS[format]}</option>`)}
          </select>
        </p>
        <div class="actions">
          <button type="submit" class="primary" id="download">Download</button>
          <button type="submit" formaction="/console/exports" id="count">Count rows</button>
        </div>
      </form>
    </section>
    ${errorMessage(data.error)}
    ${
      data.count === undefined
        ? null
        : html`<p role="status" id="export-count">
            <strong>${data.count.rows}</strong> row(s) in this selection now, from
            ${time(data.count.from.toISOString())} to before ${time(data.count.to.toISOString())}.
          </p>`
    }
    <section>
      ${facts(EXPORT_KINDS.map((kind) => [kind, KIND_EXPLANATIONS[kind]] as const))}
      <p class="muted">
        A date is midnight in Beijing (UTC+8), where the day of Alipay’s statements begins; the range is
        [from, before): to include 31 May, choose 1 June. Amounts are in yuan with two decimals, times in
        Beijing time with their offset. CSV is UTF-8 with a byte order mark, which spreadsheets need to show
        Chinese. The file is streamed as it is read, so a long range does not wait for the whole.
      </p>
    </section>
  </div>`;
  return renderConsolePage(context, { title: 'Exports', section: 'exports', body });
}
