import type { VNode } from 'preact';
import type { LedgerMode, SessionFlash } from '@ledger/platform';
import type { ConsoleContext } from '../session/console-request';
import { CSRF_FIELD } from '../session/console-session.guard';
import { BEIJING_ZONE_NAME } from './format';
import { html, renderDocument, type Markup } from './html';

/** Where the console's stylesheet is served (the page's CSP allows it and nothing else). */
export const STYLESHEET_PATH = '/console/assets/console.css';

/** The console's sections, in the order of the navigation. */
export const CONSOLE_SECTIONS = [
  { id: 'orders', label: 'Orders', href: '/console' },
  { id: 'attention', label: 'Needs attention', href: '/console/attention' },
  { id: 'notifications', label: 'Notifications', href: '/console/notifications' },
  { id: 'refund-batches', label: 'Refund batches', href: '/console/refund-batches' },
  { id: 'projections', label: 'Projections', href: '/console/projections' },
  { id: 'exports', label: 'Exports', href: '/console/exports' },
] as const;

export type ConsoleSection = (typeof CONSOLE_SECTIONS)[number]['id'];

export interface ConsolePage {
  /** The page's heading and the first part of its title. */
  title: string;
  /** The navigation entry shown as current. */
  section?: ConsoleSection;
  body: Markup;
  /**
   * Reload the page every so many seconds (`<meta http-equiv="refresh">`, no script): a page that follows
   * work running elsewhere, while it runs.
   */
  refreshSeconds?: number;
}

/** The hidden field every console form carries: the session's token, checked on every POST. */
export function csrfField(context: Pick<ConsoleContext, 'csrfToken'>): VNode {
  return html`<input type="hidden" name=${CSRF_FIELD} value=${context.csrfToken} />`;
}

/**
 * A form that POSTs to `action` with the session's token. `fields` are its inputs and buttons; `hidden`
 * adds hidden fields (a value list repeats the name, in order).
 */
export function postForm(
  context: Pick<ConsoleContext, 'csrfToken'>,
  action: string,
  fields: Markup,
  options: { hidden?: Record<string, string | readonly string[] | undefined>; className?: string } = {},
): VNode {
  const hidden = Object.entries(options.hidden ?? {}).flatMap(([name, value]) =>
    value === undefined ? [] : (typeof value === 'string' ? [value] : value).map((item) => [name, item]),
  );
  return html`<form method="post" action=${action} class=${options.className}>
    ${csrfField(context)}
    ${hidden.map(([name, value]) => html`<input type="hidden" name=${name} value=${value} />`)} ${fields}
  </form>`;
}

function flashBanner(flash: SessionFlash | null): Markup {
  if (flash === null) return null;
  return html`<p class=${`flash flash-${flash.kind}`} role=${flash.kind === 'error' ? 'alert' : 'status'}>
    ${flash.text}
  </p>`;
}

function modeBadge(mode: LedgerMode): VNode {
  return html`<span class=${`mode mode-${mode}`} title="LEDGER_MODE">${mode} mode</span>`;
}

function documentOf(title: string, header: Markup, main: Markup, refreshSeconds?: number): string {
  return renderDocument(
    html`<html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        ${refreshSeconds === undefined ? null : html`<meta http-equiv="refresh" content=${String(refreshSeconds)} />`}
        <title>${title} · Ledger console</title>
        <link rel="stylesheet" href=${STYLESHEET_PATH} />
      </head>
      <body>
        ${header}
        <main>${main}</main>
        <footer>Times are Beijing time (${BEIJING_ZONE_NAME}); amounts in yuan (¥).</footer>
      </body>
    </html>`,
  );
}

/** A page of a signed-in session: the navigation, the mode, the operator, sign out, the flash message. */
export function renderConsolePage(context: ConsoleContext, page: ConsolePage): string {
  const header = html`<header class="top">
    <a class="brand" href="/console">Ledger console</a>
    ${modeBadge(context.mode)}
    <nav aria-label="Console">
      ${CONSOLE_SECTIONS.map(
        (section) =>
          html`<a href=${section.href} aria-current=${section.id === page.section ? 'page' : undefined}
            >${section.label}</a
          >`,
      )}
    </nav>
    ${postForm(
      context,
      '/console/logout',
      html`<span class="operator" title="Signed in as">${context.operator}</span>
        <button type="submit" class="link">Sign out</button>`,
      { className: 'signout' },
    )}
  </header>`;
  return documentOf(
    page.title,
    header,
    html`<div>
      ${flashBanner(context.flash)}
      <h1>${page.title}</h1>
      ${page.body}
    </div>`,
    page.refreshSeconds,
  );
}

/** A page without a session: the sign-in page, and refusals before a session is known. */
export function renderBarePage(
  mode: LedgerMode,
  page: Omit<ConsolePage, 'section' | 'refreshSeconds'>,
): string {
  const header = html`<header class="top">
    <a class="brand" href="/console">Ledger console</a>
    ${modeBadge(mode)}
  </header>`;
  return documentOf(
    page.title,
    header,
    html`<div>
      <h1>${page.title}</h1>
      ${page.body}
    </div>`,
  );
}
