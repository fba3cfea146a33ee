import { applyDecorators, Controller, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ConsoleExceptionFilter, statusOf } from './console-exception.filter';
import { ConsoleSessionGuard } from './session/console-session.guard';

/**
 * A controller of console pages (docs/console.md, "Adding a page"): under /console, behind the session
 * guard (sign-in, and the form token and origin of every POST), its errors shown as pages, out of the API
 * description.
 */
export function ConsoleController(): ClassDecorator {
  return applyDecorators(
    ApiExcludeController(),
    UseFilters(ConsoleExceptionFilter),
    UseGuards(ConsoleSessionGuard),
    Controller('console'),
  );
}

/** What the ledger refused (4xx), as a page shows it next to the form; anything else is thrown on. */
export function refusalOf(error: unknown): { status: number; message: string } {
  const refusal = statusOf(error);
  if (refusal.status < 400 || refusal.status >= 500) throw error;
  return refusal;
}
