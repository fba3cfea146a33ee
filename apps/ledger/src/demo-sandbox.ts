import type { INestApplication } from '@nestjs/common';
import { createSandboxApp } from '@ledger/alipay-sandbox';
import {
  DEFAULT_ALIPAY_GATEWAY,
  DEMO_ALIPAY,
  hostInUrl,
  LedgerConfig,
  type LedgerLogger,
} from '@ledger/platform';

/** The retry schedule of the demo sandbox runs 60 times faster than Alipay's (4 min → 4 s). */
const DEMO_TIME_SCALE = 60;

/**
 * Demo mode (no Alipay credentials, no ALIPAY_GATEWAY): the sandbox gateway runs in this process on the next
 * port, and the ledger talks to it, so a newcomer can pay an order and see its notifications.
 * It listens where the ledger does (loopback unless HOST says otherwise): its control API has no token.
 * Returns the config pointed at the sandbox, and the sandbox to close on shutdown.
 */
export async function startDemoSandbox(
  config: LedgerConfig,
  logger: LedgerLogger,
): Promise<{ config: LedgerConfig; sandbox?: INestApplication; sandboxUrl?: string }> {
  if (config.mode !== 'demo' || config.alipay.gateway !== DEFAULT_ALIPAY_GATEWAY) return { config };
  const port = config.http.port + 1;
  const sandboxUrl = `http://${hostInUrl(config.http.host)}:${port}`;
  const sandbox = await createSandboxApp({
    merchants: [{ partner: DEMO_ALIPAY.partner, md5Keys: [DEMO_ALIPAY.md5Key] }],
    publicBaseUrl: sandboxUrl,
    timeScale: DEMO_TIME_SCALE,
    logger,
  });
  await sandbox.listen(port, config.http.host);
  return {
    config: new LedgerConfig({
      ...config,
      alipay: { ...config.alipay, gateway: `${sandboxUrl}/gateway.do` },
    }),
    sandbox,
    sandboxUrl,
  };
}
