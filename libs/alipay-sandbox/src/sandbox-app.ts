import { ConsoleLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { securityHeaders } from '@ledger/platform';
import { SandboxModule } from './sandbox.module';
import { resolveSandboxOptions, type SandboxOptions } from './sandbox-options';

/**
 * Builds the Alipay sandbox: `gateway.do`, the cashier and trade pages, the notifier, and the JSON control
 * API under `/sandbox/api` with its OpenAPI at `/docs`. The caller listens (`app.listen(port)`) and closes
 * it (`app.close()` also stops the notifier's timers). Throws on invalid options, naming every problem.
 */
export async function createSandboxApp(options: SandboxOptions): Promise<NestExpressApplication> {
  const resolved = resolveSandboxOptions(options);
  const logger =
    options.logger === false ? undefined : (options.logger ?? new ConsoleLogger({ prefix: 'AlipaySandbox' }));
  // No body parser for forms: gateway.do verifies the bytes as they came (GBK included); JSON is the
  // control API's only.
  const app = await NestFactory.create<NestExpressApplication>(SandboxModule.forRoot(resolved, logger), {
    logger: logger ?? false,
    bodyParser: false,
  });
  app.useBodyParser('json', { limit: '100kb' });
  app.disable('x-powered-by');
  app.use(securityHeaders({ https: false, docsPath: '/docs' }));
  SwaggerModule.setup(
    'docs',
    app,
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Alipay sandbox')
        .setDescription(
          "A gateway.do of Alipay's classic merchant API for tests and demos, and the control API that drives it",
        )
        .build(),
    ),
  );
  return app;
}
