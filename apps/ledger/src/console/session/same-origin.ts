import type { IncomingMessage } from 'node:http';

/**
 * The origins a console form may be posted from: PUBLIC_BASE_URL's, and the origin the browser addressed
 * (its Host header, over http or https), for a console opened by another name of the same server. Another
 * site's page cannot make a browser send our Host with its own Origin.
 */
function allowedOrigins(request: IncomingMessage, publicBaseUrl: string): Set<string> {
  const origins = new Set([new URL(publicBaseUrl).origin]);
  const host = request.headers.host;
  if (host !== undefined && /^[A-Za-z0-9.:[\]-]+$/.test(host)) {
    origins.add(`http://${host.toLowerCase()}`);
    origins.add(`https://${host.toLowerCase()}`);
  }
  return origins;
}

function originOf(url: string): string | undefined {
  return URL.canParse(url) ? new URL(url).origin : undefined;
}

/**
 * Why a POST is not from one of the console's own pages, or undefined when it may be: the `Origin` header
 * when the browser sent one (`null` included: an opaque origin is never ours), else the `Referer`. A request
 * with neither is let through to the form-token check, which alone decides (docs/console.md, "CSRF").
 */
export function crossOriginReason(request: IncomingMessage, publicBaseUrl: string): string | undefined {
  const allowed = allowedOrigins(request, publicBaseUrl);
  const origin = request.headers.origin;
  if (origin !== undefined) {
    return allowed.has(origin.toLowerCase())
      ? undefined
      : `the form was sent from another origin (${origin})`;
  }
  const referer = request.headers.referer;
  if (referer !== undefined) {
    const from = originOf(referer);
    return from !== undefined && allowed.has(from) ? undefined : 'the form was sent from another site';
  }
  return undefined;
}
