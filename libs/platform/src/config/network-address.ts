import { isIP } from 'node:net';

function normalized(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  // The URL parser compresses IPv6 (0:0:0:0:0:0:0:1 → ::1) and reads IPv4 shorthands (127.1 → 127.0.0.1).
  if (isIP(bare) === 6) return new URL(`http://[${bare}]`).hostname.slice(1, -1);
  try {
    return new URL(`http://${bare}`).hostname;
  } catch {
    return bare;
  }
}

/** IPv4 that an IPv4-mapped IPv6 address carries (`::ffff:7f00:1` → `127.0.0.1`), if it is one. */
function mappedIpv4(ipv6: string): string | undefined {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ipv6);
  if (dotted) return dotted[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(ipv6);
  if (!hex) return undefined;
  const [high, low] = [parseInt(hex[1], 16), parseInt(hex[2], 16)];
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** Whether `host` names this machine only: localhost (and *.localhost), 127.0.0.0/8 or ::1. */
export function isLoopbackHost(host: string): boolean {
  const address = normalized(host);
  if (address === 'localhost' || address.endsWith('.localhost')) return true;
  if (address === '::1') return true;
  const ipv4 = isIP(address) === 6 ? mappedIpv4(address) : address;
  return ipv4 !== undefined && isIP(ipv4) === 4 && ipv4.startsWith('127.');
}

/** Whether `host` is the address of no machine, only "every interface": 0.0.0.0 or ::. */
export function isUnspecifiedHost(host: string): boolean {
  const address = normalized(host);
  return address === '0.0.0.0' || address === '::' || mappedIpv4(address) === '0.0.0.0';
}

/** How a URL on this machine names a listen address: `localhost` for every interface, IPv6 in brackets. */
export function hostInUrl(listenHost: string): string {
  if (isUnspecifiedHost(listenHost)) return 'localhost';
  const bare = listenHost.replace(/^\[(.*)\]$/, '$1');
  return isIP(bare) === 6 ? `[${bare}]` : bare;
}
