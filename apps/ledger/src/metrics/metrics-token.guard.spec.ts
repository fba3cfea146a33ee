import type { ExecutionContext } from '@nestjs/common';
import type { LedgerConfig } from '@ledger/platform';
import { ApiError } from '../http/api-error';
import { MetricsTokenGuard } from './metrics-token.guard';

const TOKEN = 'a-metrics-token-of-32-characters';

function scrapeWith(authorization?: string): ExecutionContext {
  const request = { headers: authorization === undefined ? {} : { authorization } };
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

const guard = (token?: string) =>
  new MetricsTokenGuard({ metrics: token === undefined ? {} : { token } } as LedgerConfig);

describe('MetricsTokenGuard', () => {
  it('lets every scrape in when no METRICS_TOKEN is set, as /health does', () => {
    expect(guard().canActivate(scrapeWith())).toBe(true);
    expect(guard().canActivate(scrapeWith('Bearer anything'))).toBe(true);
  });

  it('with METRICS_TOKEN, lets in only its bearer', () => {
    expect(guard(TOKEN).canActivate(scrapeWith(`Bearer ${TOKEN}`))).toBe(true);
    for (const header of [undefined, '', TOKEN, `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, 'Bearer other']) {
      expect(() => guard(TOKEN).canActivate(scrapeWith(header))).toThrow(
        expect.objectContaining({ code: 'UNAUTHORIZED' }) as ApiError,
      );
    }
  });
});
