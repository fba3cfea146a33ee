import type { VNode } from 'preact';
import type { ParkedSummary, ProjectionLag } from '@ledger/event-store';
import type { ProjectionOverview } from '@ledger/projections';
import type { ConsoleContext } from '../session/console-request';
import { badge, facts, scrollTable, time } from '../views/components';
import { html } from '../views/html';
import { postForm, renderConsolePage } from '../views/layout';

/** How often the page reloads itself while a rebuild runs. */
export const REBUILD_REFRESH_SECONDS = 2;

/** What the rebuild form's "every projection" choice posts. */
export const ALL_PROJECTIONS = 'all';

export interface ProjectionRow extends ProjectionOverview {
  /** This instance holds the projection's lock and projects it. */
  active: boolean;
  parked: ParkedSummary;
}

export interface ProcessConsumerRow extends Pick<ProjectionLag, 'projection' | 'events' | 'seconds'> {
  active: boolean;
  parked: ParkedSummary;
}

export interface ProjectionsPageData {
  projections: ProjectionRow[];
  consumers: ProcessConsumerRow[];
  /** The projection the rebuild form starts with. */
  rebuild?: string;
}

/** An instant the database gave, in Beijing time. */
function at(instant: Date | string | null): VNode {
  return time(instant === null ? null : new Date(instant).toISOString());
}

/** "0 s", "1.3 s", "42 s": a lag as a person reads it. */
function seconds(value: number): string {
  return `${Number(value.toFixed(value < 10 ? 1 : 0))} s`;
}

function projectingHere(active: boolean): VNode {
  return active ? badge('this instance', 'ok') : badge('not this instance');
}

function parkedCell(parked: ParkedSummary): VNode {
  if (parked.events === 0) return badge('0', 'ok');
  return html`<a href=${`#parked-${parked.projection}`}>
    ${badge(`${parked.events} in ${parked.streams} stream(s)`, 'bad')}
  </a>`;
}

function rebuildCell(rebuild: ProjectionOverview['rebuild']): VNode {
  if (rebuild === null) return html`<span class="muted">none</span>`;
  const { position, headPosition } = rebuild;
  const share = headPosition === 0 ? 100 : Math.min(100, Math.floor((position / headPosition) * 100));
  return html`<div class="rebuild">
    ${
      rebuild.running
        ? badge('running', 'warn')
        : html`${badge('stopped', 'bad')}
            <span class="muted">shadows a stopped rebuild left; the next rebuild replaces them</span>`
    }
    <progress value=${position} max=${Math.max(headPosition, 1)}>${share}%</progress>
    <span class="nowrap">position ${position} of ${headPosition} (${share}%)</span>
    <span class="muted nowrap">moved ${at(rebuild.updatedAt)}</span>
  </div>`;
}

function parkedList(parked: ParkedSummary): VNode | null {
  if (parked.events === 0) return null;
  const more = parked.events - parked.first.length;
  return html`<div id=${`parked-${parked.projection}`}>
    <h3>${parked.projection}: ${parked.events} event(s) in ${parked.streams} stream(s)</h3>
    ${scrollTable(
      ['Stream', 'Version', 'Type', 'Position', 'Error', 'Attempts', 'Parked', 'Last failed'],
      parked.first.map(
        (event) =>
          html`<tr>
            <td class="nowrap">${event.streamId}</td>
            <td class="num">${event.version}</td>
            <td class="nowrap">${event.type}</td>
            <td class="num">${event.globalPosition}</td>
            <td>
              ${event.error ?? html`<span class="muted">waits behind an earlier event of its stream</span>`}
            </td>
            <td class="num">${event.attempts}</td>
            <td class="nowrap">${at(event.parkedAt)}</td>
            <td class="nowrap">${at(event.lastFailedAt)}</td>
          </tr>`,
      ),
      { numeric: [1, 3, 5] },
    )}
    ${more > 0 ? html`<p class="muted">And ${more} more.</p>` : null}
  </div>`;
}

function rebuildForm(context: ConsoleContext, data: ProjectionsPageData): VNode {
  const chosen = data.rebuild ?? ALL_PROJECTIONS;
  return html`<section id="rebuild">
    <h2>Rebuild</h2>
    <p class="muted">
      Folds the projection anew from the first event into shadow tables while the live tables keep serving and
      projecting, then swaps them in at once; every parked event is applied again. It runs in the background,
      on this instance; this page shows its progress, whichever instance you ask.
    </p>
    ${postForm(
      context,
      '/console/projections/rebuild',
      html`<p>
          <label for="rebuild-projection">Projection</label>
          <select id="rebuild-projection" name="projection">
            ${data.projections.map(({ projection }) => html`<option value=${projection} selected=${chosen === projection}>${projection}</option>`)}
            <option value=${ALL_PROJECTIONS} selected=${chosen === ALL_PROJECTIONS}>
              all, one after the other
            </option>
          </select>
        </p>
        <p>
          <label for="rebuild-reason">Reason (recorded in the log)</label>
          <input type="text" id="rebuild-reason" name="reason" required maxlength="500" />
        </p>
        <div class="actions"><button type="submit" id="rebuild-ask">Rebuild…</button></div>`,
      { className: 'filters' },
    )}
  </section>`;
}

/**
 * `/console/projections`: each projection's lag, who projects it, its parked events and its rebuild; the
 * process consumers' lag; the rebuild form. Reloads itself while a rebuild runs.
 */
export function renderProjectionsPage(context: ConsoleContext, data: ProjectionsPageData): string {
  const running = data.projections.filter((row) => row.rebuild?.running === true);
  const parked = [...data.projections, ...data.consumers].map((row) => row.parked);
  const parkedEvents = parked.reduce((sum, summary) => sum + summary.events, 0);
  const body = html`<div>
    <section>
      <h2>Read models</h2>
      <p class="muted">
        The projections folded from the event store. Lag: the events committed after a projection’s
        checkpoint, and the age of the oldest of them.
      </p>
      ${
        running.length === 0
          ? null
          : html`<p role="status" id="rebuild-running">
              Rebuilding ${running.map((row) => row.projection).join(', ')}: this page reloads every
              ${REBUILD_REFRESH_SECONDS} seconds until it is done.
            </p>`
      }
      ${scrollTable(
        ['Projection', 'Lag (events)', 'Lag (time)', 'Projecting', 'Parked', 'Rebuild', ''],
        data.projections.map(
          (row) =>
            html`<tr data-projection=${row.projection}>
              <td class="nowrap">${row.projection}</td>
              <td class="num lag-events">${row.events}</td>
              <td class="num lag-seconds">${seconds(row.seconds)}</td>
              <td>${projectingHere(row.active)}</td>
              <td>${parkedCell(row.parked)}</td>
              <td class="rebuild-state">${rebuildCell(row.rebuild)}</td>
              <td>
                <a href=${`/console/projections?rebuild=${encodeURIComponent(row.projection)}#rebuild`}
                  >Rebuild…</a
                >
              </td>
            </tr>`,
        ),
        { id: 'projections', numeric: [1, 2] },
      )}
    </section>
    ${rebuildForm(context, data)}
    <section id="process-consumers">
      <h2>Process consumers</h2>
      <p class="muted">
        The process managers’ work lists, consumed like the projections. Never rebuilt: rebuilding the
        fulfilment outbox would send every webhook again.
      </p>
      ${scrollTable(
        ['Consumer', 'Lag (events)', 'Lag (time)', 'Projecting', 'Parked'],
        data.consumers.map(
          (row) =>
            html`<tr data-consumer=${row.projection}>
              <td class="nowrap">${row.projection}</td>
              <td class="num">${row.events}</td>
              <td class="num">${seconds(row.seconds)}</td>
              <td>${projectingHere(row.active)}</td>
              <td>${parkedCell(row.parked)}</td>
            </tr>`,
        ),
        { numeric: [1, 2] },
      )}
    </section>
    <section id="parked">
      <h2>
        Parked events
        <span class="badge ${parkedEvents > 0 ? 'bad' : 'ok'}">${parkedEvents}</span>
      </h2>
      <p class="muted">
        An event its projection could not apply is parked with its error, and so is every later event of its
        stream, which stays as it was while the others flow on. A rebuild applies them all again.
      </p>
      ${parkedEvents === 0 ? html`<p class="muted">None: every event applied.</p>` : parked.map(parkedList)}
    </section>
  </div>`;
  return renderConsolePage(context, {
    title: 'Projections',
    section: 'projections',
    body,
    ...(running.length === 0 ? {} : { refreshSeconds: REBUILD_REFRESH_SECONDS }),
  });
}

/** What the rebuild's confirmation step shows. */
export function rebuildSummary(
  context: ConsoleContext,
  projections: readonly string[],
  reason: string,
): VNode {
  return facts([
    ['Projection', projections.join(', ')],
    [
      'Action',
      'fold it anew from the first event into shadow tables, then swap them in; the live tables serve meanwhile',
    ],
    ['How', 'in the background: the projections page shows its progress'],
    ['Operator', context.operator],
    ['Reason', reason],
  ]);
}
