import type { IncomingMessage } from 'node:http';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { LedgerMode, SessionFlash } from '@ledger/platform';

/** What every console page knows about the request it answers. */
export interface ConsoleContext {
  /** The session's cookie value: for leaving a flash message and signing out. */
  sessionId: string;
  /** Who signed in: the operator recorded with every action. */
  operator: string;
  /** The session's form token, put in every form. */
  csrfToken: string;
  mode: LedgerMode;
  /** The message the previous request left for this page. */
  flash: SessionFlash | null;
}

/** A request as the console's guard leaves it. */
export type ConsoleRequest = IncomingMessage & {
  body?: unknown;
  originalUrl?: string;
  console?: ConsoleContext;
};

/** The `ConsoleContext` the guard attached: a handler parameter `@ConsoleSession() context: ConsoleContext`. */
export const ConsoleSession = createParamDecorator(
  (_data: unknown, context: ExecutionContext): ConsoleContext => {
    const request = context.switchToHttp().getRequest<ConsoleRequest>();
    if (request.console === undefined) throw new Error('a console route without ConsoleSessionGuard');
    return request.console;
  },
);
