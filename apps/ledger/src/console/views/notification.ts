import type { VNode } from 'preact';
import type { InboxNotificationView, NotifyVerifyEvidence, StoredVerification } from '@ledger/inbox';
import { badge, facts, jsonDetails, scrollTable, time, toneOf } from './components';
import { beijingTime } from './format';
import { html, type Markup } from './html';

// One stored notification as evidence (docs/console.md, "One order"): its bytes decoded in the charset
// verification chose, the signature check's explanation and what notify_verify answered, as
// GET /admin/notifications/:id shows them.

export function notificationHref(id: number): string {
  return `/console/notifications/${id}`;
}

export function verifiedBadge(verified: boolean | null): VNode {
  return verified === true
    ? badge('verified', 'ok')
    : verified === false
      ? badge('not verified', 'bad')
      : badge('not checked');
}

function notifyVerifyText(evidence: NotifyVerifyEvidence | null): Markup {
  if (evidence === null) return html`<span class="muted">not asked</span>`;
  if ('skipped' in evidence) {
    return html`not asked (${evidence.skipped}) · ${beijingTime(evidence.checkedAt)}`;
  }
  if ('error' in evidence) {
    return html`<span class="badge bad">could not ask</span> ${evidence.error.code}: ${evidence.error.message}
      · ${evidence.latencyMs} ms · ${beijingTime(evidence.checkedAt)}`;
  }
  return html`${badge(`answered ${evidence.body}`, evidence.answer ? 'ok' : 'bad')} in ${evidence.latencyMs}
  ms · ${beijingTime(evidence.checkedAt)}`;
}

function verificationFacts(verification: StoredVerification | null): Markup {
  if (verification === null) return html`<p class="muted">The signature was not checked.</p>`;
  const entries: Array<readonly [string, Markup]> = [
    ['Outcome', verification.summary],
    [
      'Charset',
      'charsetSource' in verification
        ? `${verification.charset} (${verification.charsetSource})`
        : verification.charset,
    ],
    ['Sign type', verification.configuredSignType],
  ];
  if ('matchedKeyIndex' in verification && verification.matchedKeyIndex !== undefined) {
    entries.push(['Key that matched', `#${verification.matchedKeyIndex + 1}`]);
  }
  if ('preSign' in verification)
    entries.push(['Pre-sign string', html`<code>${verification.preSign}</code>`]);
  if ('hints' in verification && verification.hints.length > 0) {
    entries.push([
      'Hints',
      html`<ul>
        ${verification.hints.map((hint) => html`<li>${hint}</li>`)}
      </ul>`,
    ]);
  }
  return html`<div>${facts(entries)}${jsonDetails('The whole explanation', verification)}</div>`;
}

/** A one-line header of a notification: id, channel, when, verified, outcome. */
export function notificationHeadline(view: InboxNotificationView): VNode {
  return html`<span class="headline">
    <a href=${notificationHref(view.id)}>notification #${view.id}</a> · ${view.channel}
    ${view.notifyType === null ? '' : ` · ${view.notifyType}`} · received ${time(view.receivedAt)}
    ${verifiedBadge(view.verified)} ${badge(view.outcome, toneOf(view.outcome))}
  </span>`;
}

/** The evidence of one notification; `open` unfolds the body and the checks at once (its own page). */
export function notificationEvidence(view: InboxNotificationView, open = false): VNode {
  const { body } = view;
  return html`<div class="evidence">
    ${facts([
      ['notify_id', view.notifyId ?? '—'],
      ['notify_verify', notifyVerifyText(view.notifyVerify)],
      ['Signature', verifiedBadge(view.verified)],
      ['From', `${view.method} ${view.path} · ${view.remoteAddress ?? 'unknown address'}`],
    ])}
    <details open=${open}>
      <summary>
        Raw body, decoded as ${body.charset} (${body.byteLength}
        bytes${body.shortened ? ', first 4 KiB shown' : ''})
      </summary>
      <pre class="raw-body">${body.text}</pre>
      ${body.shortened ? html`<p><a href=${notificationHref(view.id)}>The whole body</a></p>` : null}
    </details>
    ${
      body.params.length === 0
        ? null
        : html`<details open=${open}>
            <summary>Parameters (${body.params.length})</summary>
            ${scrollTable(
              ['Name', 'Value'],
              body.params.map(
                (param) =>
                  html`<tr>
                    <td class="nowrap">${param.name}</td>
                    <td>${param.value}</td>
                  </tr>`,
              ),
            )}
          </details>`
    }
    <details open=${open}>
      <summary>Signature verification</summary>
      ${verificationFacts(view.verification)}
    </details>
    ${view.outcomeDetail === null ? null : jsonDetails(`Outcome: ${view.outcome}`, view.outcomeDetail, open)}
  </div>`;
}
