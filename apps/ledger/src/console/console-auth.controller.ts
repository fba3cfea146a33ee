import { createHash, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Body, Controller, Get, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { LedgerConfig, LedgerLogger, OperatorSessions } from '@ledger/platform';
import { ConsoleExceptionFilter, safeNext } from './console-exception.filter';
import { clearedSessionCookie, sessionCookie, sessionCookieOf } from './session/console-cookie';
import { ConsoleSession, type ConsoleContext, type ConsoleRequest } from './session/console-request';
import { ConsoleSessionGuard } from './session/console-session.guard';
import { crossOriginReason } from './session/same-origin';
import { errorMessage, formValue } from './views/forms';
import { html } from './views/html';
import { renderBarePage } from './views/layout';
import { redirect, sendHtml } from './views/respond';
import { CONSOLE_STYLESHEET } from './views/stylesheet';

const CONTEXT = 'Console';

/** An operator's name, as every resolution records it (docs/product-rules.md, "Operator resolutions"). */
const OPERATOR = /^[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?$/;

const hours = (ms: number) => `${Math.round(ms / 3_600_000)} hours`;

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

interface SignInForm {
  operator: string;
  next: string;
  error?: string;
  notice?: string;
}

/**
 * Signing in and out of the console (docs/console.md, "Sign-in, sessions and CSRF"), and its stylesheet.
 * The admin token is exchanged for a session: compared as `AdminTokenGuard` compares the bearer token
 * (SHA-256 digests, `timingSafeEqual`), never stored, never shown again.
 */
@ApiExcludeController()
@UseFilters(ConsoleExceptionFilter)
@Controller('console')
export class ConsoleAuthController {
  private readonly expectedToken: Buffer;
  private readonly secureCookie: boolean;

  constructor(
    private readonly sessions: OperatorSessions,
    private readonly config: LedgerConfig,
    private readonly logger: LedgerLogger,
  ) {
    this.expectedToken = digest(config.admin.token);
    this.secureCookie = config.http.publicBaseUrl.startsWith('https:');
  }

  @Get('assets/console.css')
  stylesheet(@Res() response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/css; charset=utf-8',
      'cache-control': 'public, max-age=3600',
    });
    response.end(CONSOLE_STYLESHEET);
  }

  @Get('login')
  async signInPage(
    @Req() request: ConsoleRequest,
    @Query('next') next: unknown,
    @Query('signedOut') signedOut: unknown,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const sessionId = sessionCookieOf(request);
    if (
      sessionId !== undefined &&
      (await this.sessions.resume(sessionId, { takeFlash: false })) !== undefined
    ) {
      redirect(response, safeNext(next));
      return;
    }
    this.signInForm(response, 200, {
      operator: '',
      next: safeNext(next),
      ...(signedOut === '1' ? { notice: 'You are signed out.' } : {}),
    });
  }

  @Post('login')
  async signIn(
    @Req() request: ConsoleRequest,
    @Body() body: unknown,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const operator = formValue(body, 'operator');
    const next = safeNext(formValue(body, 'next'));
    const form = { operator, next };
    const crossOrigin = crossOriginReason(request, this.config.http.publicBaseUrl);
    if (crossOrigin !== undefined) {
      this.logger.warn(`console sign-in refused: ${crossOrigin}`, CONTEXT);
      this.signInForm(response, 403, { ...form, error: `Refused: ${crossOrigin}.` });
      return;
    }
    const source = request.socket.remoteAddress ?? 'unknown';
    const throttle = await this.sessions.throttled(source);
    if (throttle !== undefined) {
      this.logger.warn(
        `console sign-in from ${source} refused unchecked: ${throttle.failures} failed sign-ins within the window`,
        CONTEXT,
      );
      this.signInForm(
        response,
        429,
        {
          ...form,
          error: `Too many failed sign-ins from this address: try again in ${Math.ceil(throttle.retryAfterSeconds / 60)} minute(s).`,
        },
        { 'retry-after': String(throttle.retryAfterSeconds) },
      );
      return;
    }
    if (!OPERATOR.test(operator)) {
      this.signInForm(response, 400, {
        ...form,
        error: 'Your name: 1 to 64 printable ASCII characters (e.g. ops-alice or alice@example.com).',
      });
      return;
    }
    const typed =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>).token : undefined;
    if (typeof typed !== 'string' || !timingSafeEqual(digest(typed), this.expectedToken)) {
      const failures = await this.sessions.recordFailedSignIn(source);
      const { limit } = this.sessions.policy.signInFailures;
      this.logger.warn(
        `console sign-in from ${source} as ${JSON.stringify(operator)} refused: wrong admin token (${failures} of ${limit} failures allowed in the window)`,
        CONTEXT,
      );
      this.signInForm(response, 401, { ...form, error: 'That is not the admin token.' });
      return;
    }
    const opened = await this.sessions.open(operator, source);
    this.logger.log(`console: ${operator} signed in from ${source}`, CONTEXT);
    redirect(response, next, {
      'set-cookie': sessionCookie(opened.id, opened.maxAgeSeconds, this.secureCookie),
    });
  }

  @Post('logout')
  @UseGuards(ConsoleSessionGuard)
  async signOut(@ConsoleSession() context: ConsoleContext, @Res() response: ServerResponse): Promise<void> {
    await this.sessions.close(context.sessionId);
    this.logger.log(`console: ${context.operator} signed out`, CONTEXT);
    redirect(response, '/console/login?signedOut=1', {
      'set-cookie': clearedSessionCookie(this.secureCookie),
    });
  }

  private signInForm(
    response: ServerResponse,
    status: number,
    form: SignInForm,
    headers: Record<string, string> = {},
  ): void {
    const body = html`<section class="signin">
      ${form.notice === undefined ? null : html`<p class="flash flash-success" role="status">${form.notice}</p>`}
      ${errorMessage(form.error)}
      <form method="post" action="/console/login">
        <input type="hidden" name="next" value=${form.next} />
        <p>
          <label for="operator">Your name (recorded with every action you take)</label>
          <input
            type="text"
            id="operator"
            name="operator"
            value=${form.operator}
            autocomplete="username"
            required
            maxlength="64"
          />
        </p>
        <p>
          <label for="token">Admin token (ADMIN_TOKEN)</label>
          <input type="password" id="token" name="token" autocomplete="current-password" required />
        </p>
        <div class="actions"><button type="submit" class="primary" id="sign-in">Sign in</button></div>
      </form>
      <p class="muted">
        The token is exchanged for a session cookie that scripts cannot read. The session ends after
        ${hours(this.sessions.policy.idleMs)} without use, ${hours(this.sessions.policy.absoluteMs)} after
        signing in, or when you sign out.
      </p>
    </section>`;
    sendHtml(response, status, renderBarePage(this.config.mode, { title: 'Sign in', body }), headers);
  }
}
