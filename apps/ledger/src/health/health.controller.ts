import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** SPEC §4: 200 when the database answers, 503 otherwise. */
  @Get()
  @HealthCheck()
  @ApiOkResponse({ description: 'the database answers' })
  @ApiServiceUnavailableResponse({ description: 'the database does not answer' })
  check() {
    return this.health.check([
      () => this.database.pingCheck('database', { connection: this.dataSource, timeout: 2_000 }),
    ]);
  }
}
