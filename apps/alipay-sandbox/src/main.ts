import 'reflect-metadata';
import { ConsoleLogger } from '@nestjs/common';
import { createSandboxApp, SandboxOptionsError } from '@ledger/alipay-sandbox';
import { DEMO_ALIPAY } from '@ledger/platform';

// The sandbox on its own: `node dist/apps/alipay-sandbox/src/main.js`. Environment: SANDBOX_PORT (3001),
// SANDBOX_PARTNER and SANDBOX_KEY (the ledger's demo credentials), SANDBOX_PUBLIC_BASE_URL
// (http://localhost:$SANDBOX_PORT).

// EX_CONFIG from sysexits.h: the start was refused because of the configuration.
const EXIT_CONFIG = 78;

async function main(): Promise<void> {
  const env = process.env;
  const port = Number(env.SANDBOX_PORT ?? 3001);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    process.stderr.write(`SANDBOX_PORT=${JSON.stringify(env.SANDBOX_PORT)} is not a port number\n`);
    process.exit(EXIT_CONFIG);
  }
  const partner = env.SANDBOX_PARTNER || DEMO_ALIPAY.partner;
  const publicBaseUrl = env.SANDBOX_PUBLIC_BASE_URL || `http://localhost:${port}`;
  const logger = new ConsoleLogger({ prefix: 'AlipaySandbox' });
  let app;
  try {
    app = await createSandboxApp({
      merchants: [{ partner, md5Keys: [env.SANDBOX_KEY || DEMO_ALIPAY.md5Key] }],
      publicBaseUrl,
      logger,
    });
  } catch (error) {
    if (error instanceof SandboxOptionsError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }
  await app.listen(port);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: stopping`);
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  logger.log(`gateway: ${publicBaseUrl}/gateway.do (partner ${partner}, MD5)`);
  logger.log(`control API documentation: ${publicBaseUrl}/docs`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `sandbox failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
