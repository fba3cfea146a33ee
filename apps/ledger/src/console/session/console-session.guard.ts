import { timingSafeEqual } from 'node:crypto';
import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { LedgerConfig, OperatorSessions } from '@ledger/platform';
import { sessionCookieOf } from './console-cookie';
import { ConsoleForbidden, ConsoleSignInRequired } from './console-errors';
import type { ConsoleRequest } from './console-request';
import { crossOriginReason } from './same-origin';

/** The name of the hidden field that carries the session's form token. */
export const CSRF_FIELD = '_csrf';

function formToken(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[CSRF_FIELD];
  return typeof value === 'string' ? value : undefined;
}

function sameToken(sent: string, expected: string): boolean {
  const a = Buffer.from(sent, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Every console route but the sign-in page (docs/console.md, "Sign-in, sessions and CSRF"): the session of
 * the cookie, or the sign-in page; on a POST, the same origin and the session's form token (synchronizer
 * token), or 403 before the handler runs. A GET takes the flash message left for it.
 */
@Injectable()
export class ConsoleSessionGuard implements CanActivate {
  constructor(
    private readonly sessions: OperatorSessions,
    private readonly config: LedgerConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<ConsoleRequest>();
    const sessionId = sessionCookieOf(request);
    const posted = request.method !== 'GET' && request.method !== 'HEAD';
    const session =
      sessionId === undefined ? undefined : await this.sessions.resume(sessionId, { takeFlash: !posted });
    if (sessionId === undefined || session === undefined) throw new ConsoleSignInRequired();
    if (posted) {
      const crossOrigin = crossOriginReason(request, this.config.http.publicBaseUrl);
      if (crossOrigin !== undefined) throw new ConsoleForbidden('cross_origin', crossOrigin);
      const sent = formToken(request.body);
      if (sent === undefined || !sameToken(sent, session.csrfToken)) {
        throw new ConsoleForbidden(
          'csrf_token',
          sent === undefined
            ? 'the form did not carry its security token'
            : 'the form carried a security token of another session',
        );
      }
    }
    request.console = {
      sessionId,
      operator: session.operator,
      csrfToken: session.csrfToken,
      mode: this.config.mode,
      flash: session.flash,
    };
    return true;
  }
}
