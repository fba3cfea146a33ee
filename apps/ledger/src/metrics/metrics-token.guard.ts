import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { LedgerConfig } from '@ledger/platform';
import { ApiError } from '../http/api-error';

const BEARER = /^Bearer ([\x21-\x7e]+)$/i;

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * `GET /metrics` is open, like `/health`, unless `METRICS_TOKEN` is set; then it needs
 * `Authorization: Bearer <METRICS_TOKEN>` (docs/operations.md, "Metrics"), compared as the admin token is:
 * SHA-256 digests, `timingSafeEqual`.
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(config: LedgerConfig) {
    if (config.metrics.token !== undefined) this.expected = digest(config.metrics.token);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.expected === undefined) return true;
    const header = context.switchToHttp().getRequest<IncomingMessage>().headers.authorization;
    const match = header === undefined ? null : BEARER.exec(header);
    if (match === null || !timingSafeEqual(digest(match[1]), this.expected)) {
      throw new ApiError('UNAUTHORIZED', 'the metrics need an Authorization: Bearer <METRICS_TOKEN> header');
    }
    return true;
  }
}
