import type { ServerResponse } from 'node:http';
import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  type HealthIndicatorFunction,
  type HealthIndicatorResult,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  LEDGER_DATABASE,
  LedgerConfig,
  type LedgerDatabase,
  pendingMigrations,
  withinTime,
} from '@ledger/platform';
import { ProjectionsService } from '@ledger/projections';
import { RETRY_AFTER_SECONDS } from '../http/ledger-exception.filter';
import { LEDGER_MIGRATIONS } from '../ledger-migrations';

/** Each readiness check gives up after this long: a database that does not answer is not ready. */
const CHECK_TIMEOUT_MS = 2_000;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  /** What runs, known at start: a monitor sees a demo where it expected live payments. */
  private readonly ledger: HealthIndicatorResult;

  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly projections: ProjectionsService,
    private readonly config: LedgerConfig,
    @Inject(LEDGER_DATABASE) opened: LedgerDatabase,
  ) {
    this.ledger = { ledger: { status: 'up', mode: config.mode, database: opened.kind } };
  }

  /** Liveness: 200 when the database answers, 503 otherwise; both say the mode and the database kind. */
  @Get()
  @HealthCheck()
  @ApiOkResponse({
    description: 'the database answers; `ledger` says the mode (demo or live) and the database',
  })
  @ApiServiceUnavailableResponse({ description: 'the database does not answer' })
  check(@Res() response: ServerResponse): Promise<void> {
    return this.answer(response, [() => this.ping(), () => this.ledger]);
  }

  /**
   * Readiness (docs/operations.md, "Readiness"): the database answers, every migration this build knows is
   * applied, and every projection has applied the events older than READY_MAX_PROJECTION_LAG_SECONDS.
   */
  @Get('ready')
  @HealthCheck()
  @ApiOkResponse({ description: 'database, migrations and projections all `up`, with their figures' })
  @ApiServiceUnavailableResponse({
    description:
      '`error` names each check that failed: `database`, `migrations` (the pending ones) or ' +
      '`projections` (those behind, with their lag)',
  })
  ready(@Res() response: ServerResponse): Promise<void> {
    return this.answer(response, [
      () => this.ping(),
      () => this.migrationsApplied(),
      () => this.projectionsCurrent(),
      () => this.ledger,
    ]);
  }

  /**
   * Terminus' body whether the checks pass or not: a 503 names what failed (the exception filter would
   * reduce it to `Service Unavailable`), and is a state the ledger is in, not a defect to log.
   */
  private async answer(response: ServerResponse, checks: HealthIndicatorFunction[]): Promise<void> {
    let status = 200;
    let body: unknown;
    try {
      body = await this.health.check(checks);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      status = 503;
      body = error.getResponse();
    }
    response.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-cache, no-store, must-revalidate',
      ...(status === 503 ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : {}),
    });
    response.end(JSON.stringify(body));
  }

  private ping() {
    return this.database.pingCheck('database', { connection: this.dataSource, timeout: CHECK_TIMEOUT_MS });
  }

  private async migrationsApplied(): Promise<HealthIndicatorResult> {
    const check = this.indicators.check('migrations');
    try {
      const pending = await withinTime(
        pendingMigrations(this.dataSource, LEDGER_MIGRATIONS),
        CHECK_TIMEOUT_MS,
        'migrations',
      );
      return pending.length === 0 ? check.up({ applied: LEDGER_MIGRATIONS.length }) : check.down({ pending });
    } catch (error) {
      return check.down({ message: messageOf(error) });
    }
  }

  private async projectionsCurrent(): Promise<HealthIndicatorResult> {
    const check = this.indicators.check('projections');
    const maxLagSeconds = this.config.readiness.maxProjectionLagSeconds;
    try {
      const lags = await withinTime(this.projections.lag(), CHECK_TIMEOUT_MS, 'projection lag');
      const lag = Object.fromEntries(
        lags.map(({ projection, events, seconds }) => [
          projection,
          { events, seconds: Math.round(seconds * 1000) / 1000 },
        ]),
      );
      const behind = lags
        .filter(({ seconds }) => seconds > maxLagSeconds)
        .map(({ projection }) => projection);
      return behind.length === 0
        ? check.up({ maxLagSeconds, lag })
        : check.down({ maxLagSeconds, behind, lag });
    } catch (error) {
      return check.down({ maxLagSeconds, message: messageOf(error) });
    }
  }
}
