import type { IncomingMessage } from 'node:http';
import { clearedSessionCookie, sessionCookie, sessionCookieOf } from './console-cookie';
import { crossOriginReason } from './same-origin';

const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const BASE = 'https://shop.example.com';

describe('the console’s origin check', () => {
  it('lets a form of the console itself through, by Origin or by Referer', () => {
    expect(crossOriginReason(request({ origin: BASE }), BASE)).toBeUndefined();
    expect(crossOriginReason(request({ referer: `${BASE}/console/orders/A` }), BASE)).toBeUndefined();
    // The console opened by another name of the same server.
    expect(
      crossOriginReason(request({ origin: 'http://10.0.0.5:3000', host: '10.0.0.5:3000' }), BASE),
    ).toBeUndefined();
  });

  it('refuses another origin, an opaque one, and another site as referrer', () => {
    expect(
      crossOriginReason(request({ origin: 'https://evil.example', host: 'shop.example.com' }), BASE),
    ).toContain('another origin');
    expect(crossOriginReason(request({ origin: 'null' }), BASE)).toContain('another origin');
    expect(crossOriginReason(request({ referer: 'https://shop.example.com.evil.example/' }), BASE)).toContain(
      'another site',
    );
    expect(crossOriginReason(request({ referer: 'not a url' }), BASE)).toBeDefined();
  });

  it('leaves a request with neither header to the form token', () => {
    expect(crossOriginReason(request({}), BASE)).toBeUndefined();
  });
});

describe('the session cookie', () => {
  it('is HttpOnly, SameSite=Strict, on /console, and Secure when the ledger is served over HTTPS', () => {
    expect(sessionCookie('abc', 60, true)).toBe(
      'ledger_console=abc; Path=/console; Max-Age=60; HttpOnly; SameSite=Strict; Secure',
    );
    expect(sessionCookie('abc', 60, false)).not.toContain('Secure');
    expect(clearedSessionCookie(false)).toContain('Max-Age=0');
  });

  it('is read among other cookies', () => {
    expect(sessionCookieOf(request({ cookie: 'a=1; ledger_console=xyz; b=2' }))).toBe('xyz');
    expect(sessionCookieOf(request({ cookie: 'ledger_consoleX=1' }))).toBeUndefined();
    expect(sessionCookieOf(request({}))).toBeUndefined();
  });
});
