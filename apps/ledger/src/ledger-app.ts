import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import {
  inRequestContext,
  type LedgerConfig,
  type LedgerDatabase,
  LedgerLogger,
  LedgerMetrics,
  openDatabase,
  REQUEST_ID_HEADER,
  requestContext,
  runMigrations,
  securityHeaders,
} from '@ledger/platform';
import { AlipayController } from './alipay/alipay.controller';
import { ingestTimer } from './alipay/ingest-timer';
import { serveNotifyDirectly } from './alipay/notify-fast-path';
import { captureRawBody } from './alipay/raw-body';
import { LEDGER_MIGRATIONS } from './ledger-migrations';
import { LedgerModule } from './ledger.module';

function describeMigrations(applied: readonly string[]): string {
  if (applied.length === 1) return `applied migration ${applied[0]}`;
  return `applied ${applied.length} migrations, ${applied[0]} to ${applied[applied.length - 1]}`;
}

export interface LedgerApp {
  app: INestApplication;
  database: LedgerDatabase;
  /** Stops HTTP first (in-flight requests finish), then the database. */
  close(): Promise<void>;
}

/**
 * Opens the database (PostgreSQL when DATABASE_URL is set, else the embedded one in DATA_DIR), applies the
 * pending migrations and builds the Nest application. Used by `main.ts` and by the end-to-end tests.
 */
export async function createLedgerApp(
  config: LedgerConfig,
  options: { logger?: LedgerLogger; database?: LedgerDatabase } = {},
): Promise<LedgerApp> {
  const logger = options.logger ?? new LedgerLogger(config.logLevel);
  const database =
    options.database ??
    (await openDatabase({
      databaseUrl: config.database.url,
      dataDir: config.database.dataDir,
      poolSize: config.database.poolSize,
      statementTimeoutMs: config.database.statementTimeoutMs,
      lockTimeoutMs: config.database.lockTimeoutMs,
      acquireTimeoutMs: config.database.acquireTimeoutMs,
      preparedStatements: config.database.preparedStatements,
      applicationName: 'ledger',
      logger,
    }));
  try {
    // A line per migration at debug (a fresh database takes them all), one at info that says what changed.
    const applied = await runMigrations(database.dataSource, LEDGER_MIGRATIONS, {
      log: (message: unknown, context?: string) => logger.debug(message, context),
    });
    if (applied.length > 0) logger.log(describeMigrations(applied), 'Database');

    // Ahead of everything Nest and the modules install (the Alipay edge's raw-body capture included), so
    // that every reply has its request id and headers, and every log line of a request names it.
    const adapter = new ExpressAdapter();
    const everyRequest = [
      requestContext(logger),
      securityHeaders({ https: config.http.publicBaseUrl.startsWith('https:'), docsPath: '/docs' }),
    ];
    for (const middleware of everyRequest) adapter.use(middleware);
    const app = await NestFactory.create<NestExpressApplication>(
      LedgerModule.forRoot({ config, database, logger }),
      adapter,
      { logger, bufferLogs: true },
    );
    app.disable('x-powered-by');
    // The notify endpoints skip the router, through the same middleware as on Express's `/alipay`.
    serveNotifyDirectly(
      app.getHttpServer(),
      app.get(AlipayController),
      [...everyRequest, ingestTimer(app.get(LedgerMetrics)), inRequestContext(captureRawBody)],
      logger,
    );
    // Closed unless configured: the API is for the merchant's servers and the operator's tools, which
    // send the admin token; a browser page of another origin gets no CORS headers at all.
    if (config.http.corsOrigins.length > 0) {
      app.enableCors({
        origin: config.http.corsOrigins.includes('*') ? '*' : config.http.corsOrigins,
        methods: ['GET', 'POST'],
        allowedHeaders: ['authorization', 'content-type', 'idempotency-key', REQUEST_ID_HEADER],
        exposedHeaders: [REQUEST_ID_HEADER, 'retry-after'],
        maxAge: 600,
      });
    }
    // The API description maps every route for whoever asks: on by default in demo mode only (API_DOCS).
    if (config.pages.apiDocs) {
      SwaggerModule.setup(
        'docs',
        app,
        SwaggerModule.createDocument(
          app,
          new DocumentBuilder()
            .setTitle('Alipay ledger')
            .setDescription('Event-sourced order and refund ledger for the Alipay classic merchant API')
            .addBearerAuth()
            .build(),
        ),
      );
    }
    return {
      app,
      database,
      close: async () => {
        await app.close();
        if (!options.database) await database.close();
      },
    };
  } catch (error) {
    if (!options.database) await database.close();
    throw error;
  }
}
