import type { IncomingMessage, ServerResponse } from 'node:http';

// docs/operations.md, "The HTTP edge": every reply says what a browser may do with it; the few HTML
// pages loosen exactly what they need (their inline style, the form they post).

/** What every reply carries: no sniffing, no framing, no referrer, no sharing with other origins' windows. */
const BASELINE: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // A JSON reply opened in a browser runs nothing and loads nothing.
  'content-security-policy':
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

/** Swagger UI runs its own scripts and styles from the same origin. */
const DOCS_POLICY =
  "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const ONE_YEAR_SECONDS = 31_536_000;

export interface SecurityHeaderOptions {
  /** Served over HTTPS (the public base URL is https): browsers are told to keep to it. */
  readonly https: boolean;
  /** The path of the API documentation, which needs scripts, e.g. `/docs`. */
  readonly docsPath?: string;
}

/** Connect-style middleware that sets the baseline headers on every reply (a page may override them). */
export function securityHeaders(options: SecurityHeaderOptions) {
  const docsPath = options.docsPath;
  return (request: IncomingMessage, response: ServerResponse, next: () => void): void => {
    for (const [name, value] of Object.entries(BASELINE)) response.setHeader(name, value);
    if (docsPath !== undefined && isUnder(request.url ?? '', docsPath)) {
      response.setHeader('content-security-policy', DOCS_POLICY);
    }
    if (options.https) response.setHeader('strict-transport-security', `max-age=${ONE_YEAR_SECONDS}`);
    next();
  };
}

function isUnder(url: string, path: string): boolean {
  return url === path || url.startsWith(`${path}/`) || url.startsWith(`${path}?`);
}

/**
 * The headers of one of our HTML pages: its inline `<style>` and nothing else runs or loads; its forms post
 * only to `formAction` (the page itself, and where a posted form is redirected: a browser checks both), or
 * anywhere when not given.
 */
export function pageSecurityHeaders(formAction?: readonly string[]): Record<string, string> {
  const policy = [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    'img-src data:',
    "frame-ancestors 'none'",
    "base-uri 'none'",
    ...(formAction === undefined
      ? []
      : [`form-action ${formAction.length === 0 ? "'none'" : formAction.join(' ')}`]),
  ].join('; ');
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': policy,
  };
}

/**
 * The headers of the operator's console (docs/console.md, "Sign-in, sessions and CSRF"): its own stylesheet
 * loads and nothing else, no script runs, forms post only to its own origin. The referrer policy is
 * `same-origin` rather than the baseline's `no-referrer`: under `no-referrer` a browser sends `Origin: null`
 * with a form's POST, and the console checks that header.
 */
export function consoleSecurityHeaders(): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'same-origin',
    'content-security-policy': [
      "default-src 'none'",
      "style-src 'self'",
      "img-src 'self' data:",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
  };
}
