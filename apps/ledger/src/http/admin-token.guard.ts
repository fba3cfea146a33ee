import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { LedgerConfig } from '@ledger/platform';
import { ApiError } from './api-error';

const BEARER = /^Bearer ([\x21-\x7e]+)$/i;

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * `Authorization: Bearer <ADMIN_TOKEN>` on `/orders`, `/refunds` and `/admin/*` (docs/product-rules.md,
 * "HTTP endpoints"), 401 otherwise. The tokens are compared as SHA-256 digests with `timingSafeEqual`: equal
 * lengths whatever was sent, and a comparison whose time says nothing about how much of the token was right.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(config: LedgerConfig) {
    this.expected = digest(config.admin.token);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<IncomingMessage>().headers.authorization;
    if (header === undefined || header === '') {
      throw new ApiError('UNAUTHORIZED', 'an Authorization: Bearer <ADMIN_TOKEN> header is required');
    }
    const match = BEARER.exec(header);
    if (match === null) {
      throw new ApiError('UNAUTHORIZED', 'the Authorization header must be "Bearer <ADMIN_TOKEN>"');
    }
    if (!timingSafeEqual(digest(match[1]), this.expected)) {
      throw new ApiError('UNAUTHORIZED', 'the bearer token is not the admin token');
    }
    return true;
  }
}
