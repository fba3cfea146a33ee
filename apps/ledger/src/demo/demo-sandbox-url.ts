import { DEFAULT_ALIPAY_GATEWAY, type LedgerConfig } from '@ledger/platform';

const GATEWAY_PATH = '/gateway.do';

/**
 * Where the demo's Alipay sandbox serves its pages (trades, cashier, control API at `/docs`): in demo mode
 * the gateway is a sandbox's `…/gateway.do`, the one started beside the ledger or another one named by
 * ALIPAY_GATEWAY (docs/sandbox.md, "Running it"). Undefined in live mode, and for Alipay's own gateway.
 */
export function demoSandboxUrl(mode: LedgerConfig['mode'], gateway: string): string | undefined {
  if (mode !== 'demo' || gateway === DEFAULT_ALIPAY_GATEWAY || !gateway.endsWith(GATEWAY_PATH)) {
    return undefined;
  }
  return gateway.slice(0, -GATEWAY_PATH.length);
}
