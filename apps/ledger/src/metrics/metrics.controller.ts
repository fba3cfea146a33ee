import type { ServerResponse } from 'node:http';
import { Controller, Get, Res, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { LedgerMetrics } from '@ledger/platform';
import { MetricsTokenGuard } from './metrics-token.guard';

@ApiTags('health')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: LedgerMetrics) {}

  /**
   * Always 200 with the counters of this process; the gauges read from the database are left out, and
   * `ledger_database_up` is 0, when the database does not answer within the scrape's budget.
   */
  @Get()
  @UseGuards(MetricsTokenGuard)
  @ApiOperation({ summary: 'Prometheus metrics (text format), names prefixed ledger_' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'the metrics; see docs/operations.md, "Metrics"' })
  @ApiUnauthorizedResponse({ description: 'METRICS_TOKEN is set and the bearer token is not it' })
  async scrape(@Res() response: ServerResponse): Promise<void> {
    const text = await this.metrics.render();
    response.writeHead(200, { 'content-type': this.metrics.contentType, 'cache-control': 'no-store' });
    response.end(text);
  }
}
