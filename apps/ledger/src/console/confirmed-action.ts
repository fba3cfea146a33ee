import type { ServerResponse } from 'node:http';
import { Injectable } from '@nestjs/common';
import { LedgerLogger, OperatorSessions } from '@ledger/platform';
import { ProjectionsService } from '@ledger/projections';
import { readYourWrites } from '../http/read-your-writes';
import { refusalOf } from './console-controller';
import type { ConsoleContext } from './session/console-request';
import { confirmStep, isConfirmed } from './views/forms';
import { html, type Markup } from './views/html';
import { renderConsolePage, type ConsoleSection } from './views/layout';
import { redirect, sendHtml } from './views/respond';

/** What a command decided: new events (read back before the redirect) or nothing new. */
type ActionDecision = { kind: 'appended'; transactionId: string; position: number } | { kind: 'no_new_fact' };

/** The page an action belongs to: where its form posts, and where the browser goes back to. */
export interface ActionTarget {
  /** The page's address, e.g. `/console/orders/ORDER-1`. */
  href: string;
  /** What the page shows, for the log and the link back: `order ORDER-1`. */
  label: string;
  section: ConsoleSection;
}

/** An action an operator asked for, with a reason, shown before it acts. */
export interface ConfirmedAction {
  /** The route's last segment under the target: the confirmed form posts there again. */
  path: string;
  title: string;
  summary: Markup;
  hidden: Record<string, string>;
  confirmLabel: string;
  /** What is wrong with the form, or undefined. */
  problem: string | undefined;
  act(): Promise<ActionDecision>;
  done: string;
}

/**
 * Every console action in two steps (docs/console.md, "Actions"): the first POST shows what will happen, the
 * confirmed one acts, waits until the projections show it, leaves a flash message and sends the browser back
 * to the page; a refusal of the ledger is shown on the confirmation step with its status.
 */
@Injectable()
export class ConfirmedActions {
  constructor(
    private readonly projections: ProjectionsService,
    private readonly sessions: OperatorSessions,
    private readonly logger: LedgerLogger,
  ) {}

  async run(
    context: ConsoleContext,
    response: ServerResponse,
    body: unknown,
    target: ActionTarget,
    action: ConfirmedAction,
  ): Promise<void> {
    const page = (status: number, error?: string) =>
      sendHtml(
        response,
        status,
        renderConsolePage(context, {
          title: action.title,
          section: target.section,
          body:
            action.problem !== undefined
              ? html`<section>
                  <p class="flash flash-error" role="alert">${action.problem}</p>
                  <p><a href=${`${target.href}#actions`} class="button">Back to the ${target.label}</a></p>
                </section>`
              : confirmStep(context, {
                  action: `${target.href}/${action.path}`,
                  summary: action.summary,
                  hidden: action.hidden,
                  confirmLabel: action.confirmLabel,
                  cancelHref: target.href,
                  ...(error === undefined ? {} : { error }),
                }),
        }),
      );
    if (action.problem !== undefined) return page(400);
    if (!isConfirmed(body)) return page(200);
    let decision: ActionDecision;
    try {
      decision = await action.act();
    } catch (error) {
      const refusal = refusalOf(error);
      return page(refusal.status, `The ledger refused: ${refusal.message}`);
    }
    if (decision.kind === 'appended') {
      await readYourWrites(this.projections, this.logger, `${action.title} on ${target.label}`, {
        transactionId: decision.transactionId,
        position: decision.position,
      });
    }
    this.logger.log(`console: ${context.operator}: ${action.title} on ${target.label}`, 'Console');
    await this.sessions.leaveFlash(context.sessionId, {
      kind: 'success',
      text:
        decision.kind === 'appended'
          ? action.done
          : `${action.done} (it already was: nothing new was recorded)`,
    });
    redirect(response, target.href);
  }
}
