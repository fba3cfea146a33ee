import { Module } from '@nestjs/common';
import { PlatformModule } from '@ledger/platform';
import { FulfilmentModule, ProcessConsumersModule } from '@ledger/processes';
import { ProjectionsModule } from '@ledger/projections';
import { HttpEdgeModule } from '../http/http-edge.module';
import { MetricsController } from './metrics.controller';
import { MetricsTokenGuard } from './metrics-token.guard';
import { ScrapeReadings } from './scrape-readings';

/**
 * `GET /metrics` (docs/operations.md, "Metrics"): the application's `LedgerMetrics`, counted on where things
 * happen in the libs, with the gauges read from the database at each scrape.
 */
@Module({
  imports: [PlatformModule, HttpEdgeModule, ProjectionsModule, ProcessConsumersModule, FulfilmentModule],
  controllers: [MetricsController],
  providers: [ScrapeReadings, MetricsTokenGuard],
})
export class MetricsModule {}
