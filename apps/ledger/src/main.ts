import 'reflect-metadata';
import { ConfigError, LedgerLogger, loadConfig, logDestination } from '@ledger/platform';
import { demoBanner } from './demo/demo-banner';
import { startDemoSandbox } from './demo-sandbox';
import { createLedgerApp } from './ledger-app';

// EX_CONFIG from sysexits.h: the start was refused because of the configuration.
const EXIT_CONFIG = 78;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw error;
  }

  // Readable lines for a person at a terminal in demo mode, JSON for everything else (docs/operations.md, "Logs").
  const logger = new LedgerLogger(config.logLevel, logDestination(config.mode));
  for (const warning of config.warnings) logger.warn(warning, 'Ledger');
  const demo = await startDemoSandbox(config, logger);
  config = demo.config;
  const ledger = await createLedgerApp(config, { logger });
  await ledger.app.listen(config.http.port, config.http.host);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received: stopping`, 'Ledger');
    Promise.all([ledger.close(), demo.sandbox?.close()]).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(error, 'Ledger');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  const base = config.http.publicBaseUrl;
  const where =
    ledger.database.kind === 'embedded' ? `embedded PostgreSQL in ${config.database.dataDir}` : 'PostgreSQL';
  logger.log(
    `ledger listening on ${config.http.host}:${config.http.port} (${config.mode} mode, ${where})`,
    'Ledger',
  );
  if (config.pages.apiDocs) logger.log(`API documentation: ${base}/docs`, 'Ledger');
  if (config.mode === 'live' && config.pages.demoPage) {
    logger.log(`the order page at ${base}/demo places real orders; it asks for the admin token`, 'Ledger');
  }
  if (demo.sandboxUrl) {
    logger.log(
      `demo mode: the Alipay sandbox runs at ${demo.sandboxUrl} (cashier pages, control API at ${demo.sandboxUrl}/docs); ` +
        `place a test order at ${base}/demo, or with POST ${base}/orders and open its paymentUrl`,
      'Ledger',
    );
  }
  // Printed where the lines go, after every line of the start rather than among them.
  if (config.mode === 'demo') {
    // Where to go, for a person rather than a log reader; it carries the token line.
    logger.print(
      demoBanner({
        baseUrl: base,
        gateway: config.alipay.gateway,
        ...(demo.sandboxUrl === undefined ? {} : { sandboxUrl: demo.sandboxUrl }),
        ...(config.admin.tokenGenerated ? { generatedToken: config.admin.token } : {}),
      }),
    );
  } else if (config.admin.tokenGenerated) {
    // With no ADMIN_TOKEN a random one is generated and shown once.
    logger.print(
      `\nAdmin token (generated for this run; set ADMIN_TOKEN to fix it): ${config.admin.token}\n\n`,
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `ledger failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
