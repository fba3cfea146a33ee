import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Injectable } from '@nestjs/common';
import { currentRequest, LedgerConfig, LedgerLogger } from '@ledger/platform';
import { isDatabaseUnavailable } from '../http/database-unavailable';
import { codedStatus, RETRY_AFTER_SECONDS } from '../http/ledger-exception.filter';
import { ConsoleForbidden, ConsoleSignInRequired } from './session/console-errors';
import type { ConsoleRequest } from './session/console-request';
import { html } from './views/html';
import { renderBarePage, renderConsolePage } from './views/layout';
import { redirect, sendHtml } from './views/respond';

const CONTEXT = 'Console';

/** Where the sign-in page sends the browser back to: a console page of this ledger, nothing else. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/console(?:[/?][^\\\s]*)?$/.test(next) && !next.startsWith('//')
    ? next
    : '/console';
}

/** The status and message a page shows for a refusal or a failure, as the JSON API would answer it. */
export function statusOf(exception: unknown): { status: number; message: string } {
  const coded = codedStatus(exception);
  if (coded !== undefined) return { status: coded, message: (exception as Error).message };
  if (isDatabaseUnavailable(exception)) {
    return { status: 503, message: 'the database cannot answer now; retry in a few seconds' };
  }
  if (exception instanceof HttpException)
    return { status: exception.getStatus(), message: exception.message };
  return { status: 500, message: 'internal error' };
}

/**
 * The console's errors as pages, never JSON or a stack (docs/console.md, "Errors"): a GET without a session
 * goes to the sign-in page; a refused POST is a 403 page; a refusal of the ledger shows its message with its
 * status; a failure is logged and shown with the request id.
 */
@Catch()
@Injectable()
export class ConsoleExceptionFilter implements ExceptionFilter {
  constructor(
    private readonly config: LedgerConfig,
    private readonly logger: LedgerLogger,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<ConsoleRequest>();
    const response = host.switchToHttp().getResponse<ServerResponse>();
    if (response.headersSent) return;
    if (exception instanceof ConsoleSignInRequired) {
      if (request.method === 'GET' || request.method === 'HEAD') {
        const next = safeNext(request.originalUrl ?? request.url);
        redirect(
          response,
          next === '/console' ? '/console/login' : `/console/login?next=${encodeURIComponent(next)}`,
        );
        return;
      }
      this.page(
        response,
        request,
        403,
        'Signed out',
        'Your session has ended: sign in again, then repeat the action.',
      );
      return;
    }
    if (exception instanceof ConsoleForbidden) {
      this.logger.warn(`console POST ${request.url ?? ''} refused: ${exception.message}`, CONTEXT);
      this.page(
        response,
        request,
        403,
        'Request refused',
        `${exception.message}. Nothing was changed. Open the page again from the console and resubmit.`,
      );
      return;
    }
    const { status, message } = statusOf(exception);
    if (status >= 500) this.logger.error(exception instanceof Error ? exception : String(exception), CONTEXT);
    const requestId = currentRequest()?.requestId;
    const shown =
      status === 500
        ? `Something failed inside the ledger${requestId ? ` (request ${requestId})` : ''}.`
        : message;
    this.page(response, request, status, STATUS_CODES[status] ?? 'Error', shown, status === 503);
  }

  private page(
    response: ServerResponse,
    request: ConsoleRequest,
    status: number,
    title: string,
    message: string,
    retryLater = false,
  ): void {
    const body = html`<p class="flash flash-error" role="alert">${message}</p>
      <p><a href="/console">Back to the console</a></p>`;
    const document =
      request.console === undefined
        ? renderBarePage(this.config.mode, { title, body })
        : renderConsolePage(request.console, { title, body });
    sendHtml(response, status, document, retryLater ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : {});
  }
}
