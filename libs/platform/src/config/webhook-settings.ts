/**
 * The merchant's webhook settings (docs/webhooks.md, "Configuration"), checked at start so that a secret or a
 * schedule that cannot work refuses the start instead of failing every delivery later.
 */

/** The secret of the demo shop inside the ledger: published in the source, refused in live mode. */
export const DEMO_WEBHOOK_SECRET = 'whsec_ZGVtby1zaG9wLXNlY3JldC0wMDAwMDAwMDAwMDA=';

export const DEFAULT_WEBHOOK_RETRY_SCHEDULE = '5s,30s,2m,10m,1h,6h,24h';

const SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;
const DURATION = /^(\d{1,9})(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_DELAY_MS = 7 * 86_400_000;
const MAX_RETRIES = 30;

/** Undefined when the secret is usable, else what is wrong with it (never the secret itself). */
export function webhookSecretProblem(secret: string): string | undefined {
  const match = SECRET.exec(secret);
  const bytes = match === null ? 0 : Buffer.from(match[1], 'base64').length;
  if (match === null || bytes < 24 || bytes > 64) {
    return (
      'MERCHANT_WEBHOOK_SECRET=(redacted): must be whsec_ followed by the base64 of 24 to 64 random bytes, ' +
      'e.g. whsec_$(openssl rand -base64 32)'
    );
  }
  return undefined;
}

/** The pauses before each retry, in ms, or what is wrong with the schedule. */
export function parseRetrySchedule(text: string): { delaysMs: number[] } | { problem: string } {
  const entries = text.split(',').map((entry) => entry.trim());
  const refuse = (why: string) => ({
    problem:
      `MERCHANT_WEBHOOK_RETRY_SCHEDULE=${JSON.stringify(text)}: ${why}; it lists the pauses before each ` +
      `retry, 1 to ${MAX_RETRIES} durations (ms, s, m, h, d) of at most 7d, e.g. ${DEFAULT_WEBHOOK_RETRY_SCHEDULE}`,
  });
  if (entries.length > MAX_RETRIES) return refuse(`${entries.length} entries`);
  const delaysMs: number[] = [];
  for (const entry of entries) {
    const match = DURATION.exec(entry);
    if (match === null) return refuse(`${JSON.stringify(entry)} is not a duration`);
    const ms = Number(match[1]) * UNIT_MS[match[2]];
    if (ms < 1 || ms > MAX_DELAY_MS) return refuse(`${entry} is out of range`);
    delaysMs.push(ms);
  }
  return { delaysMs };
}
