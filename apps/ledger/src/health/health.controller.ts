import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  type HealthIndicatorResult,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { LEDGER_DATABASE, LedgerConfig, type LedgerDatabase } from '@ledger/platform';

@ApiTags('health')
@Controller('health')
export class HealthController {
  /** What runs, known at start: a monitor sees a demo where it expected live payments. */
  private readonly ledger: HealthIndicatorResult;

  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    @InjectDataSource() private readonly dataSource: DataSource,
    config: LedgerConfig,
    @Inject(LEDGER_DATABASE) opened: LedgerDatabase,
  ) {
    this.ledger = { ledger: { status: 'up', mode: config.mode, database: opened.kind } };
  }

  /** 200 when the database answers, 503 otherwise; both say the mode and the database kind. */
  @Get()
  @HealthCheck()
  @ApiOkResponse({
    description: 'the database answers; `ledger` says the mode (demo or live) and the database',
  })
  @ApiServiceUnavailableResponse({ description: 'the database does not answer' })
  check() {
    return this.health.check([
      () => this.database.pingCheck('database', { connection: this.dataSource, timeout: 2_000 }),
      () => this.ledger,
    ]);
  }
}
