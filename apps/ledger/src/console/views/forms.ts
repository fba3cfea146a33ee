import type { VNode } from 'preact';
import type { ConsoleContext } from '../session/console-request';
import { html, type Markup } from './html';
import { postForm } from './layout';

// Posted console forms are read here: express's urlencoded parser (qs) gives a string for a field sent
// once, an array for one sent several times, and an object keyed "0", "1"... past 20 repeats.

/** The field's values in the order sent; [] when absent. */
export function formValues(body: unknown, name: string): string[] {
  if (typeof body !== 'object' || body === null) return [];
  const value = (body as Record<string, unknown>)[name];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value)
      .filter(([key, item]) => /^\d+$/.test(key) && typeof item === 'string')
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, item]) => item as string);
  }
  return [];
}

/** The field's single value, trimmed; '' when absent or sent several times. */
export function formValue(body: unknown, name: string): string {
  const values = formValues(body, name);
  return values.length === 1 ? values[0].trim() : '';
}

/** The field that says a confirmation step was passed: its form acts, the first one only previews. */
export const CONFIRM_FIELD = 'confirmed';

export function isConfirmed(body: unknown): boolean {
  return formValue(body, CONFIRM_FIELD) === 'yes';
}

/** An error message above a form, as an alert. */
export function errorMessage(message: string | undefined): Markup {
  return message === undefined ? null : html`<p class="flash flash-error" role="alert">${message}</p>`;
}

export interface ConfirmStep {
  /** Where the confirmed form posts (the same route as the form that asked). */
  action: string;
  /** What the action will do, in words and values, for the operator to check. */
  summary: Markup;
  /** The fields of the first form, posted again unchanged. */
  hidden: Record<string, string | readonly string[] | undefined>;
  confirmLabel: string;
  /** Where "Cancel" leads: back to the page the action was asked from. */
  cancelHref: string;
  /** Why the last try was refused, when it was. */
  error?: string;
}

/** The confirmation step of every action: what it will do, then Confirm (a POST) or Cancel (a link). */
export function confirmStep(context: ConsoleContext, step: ConfirmStep): VNode {
  return html`<section class="confirm" aria-label="Confirm">
    ${errorMessage(step.error)}
    <div class="summary">${step.summary}</div>
    ${postForm(
      context,
      step.action,
      html`<div class="actions">
        <button type="submit" class="primary" id="confirm">${step.confirmLabel}</button>
        <a href=${step.cancelHref} class="button">Cancel</a>
      </div>`,
      { hidden: { ...step.hidden, [CONFIRM_FIELD]: 'yes' } },
    )}
  </section>`;
}
