import { Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ProjectionsService, type RebuildReport } from '@ledger/projections';
import { AdminTokenGuard } from '../http/admin-token.guard';

class RebuiltProjection {
  @ApiProperty({ example: 'order_status' })
  projection: string;

  @ApiProperty({ description: 'Events read from position 0 up to the swap' })
  events: number;

  @ApiProperty({ description: 'Events that failed to apply and were parked' })
  parked: number;

  @ApiProperty({ description: "Rows of the projection's tables after the swap" })
  rows: number;

  @ApiProperty()
  durationMs: number;
}

class RebuildReportView {
  @ApiProperty({ type: [RebuiltProjection] })
  projections: RebuiltProjection[];

  @ApiProperty()
  durationMs: number;
}

class ProjectionLagView {
  @ApiProperty()
  projection: string;

  @ApiProperty({ description: 'Whether this instance is the one projecting it' })
  active: boolean;

  @ApiProperty({ description: 'Committed events after its checkpoint' })
  events: number;

  @ApiProperty({ description: 'Age of the oldest of them' })
  seconds: number;
}

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@ApiUnauthorizedResponse({ description: 'missing or wrong bearer token' })
@Controller('admin/projections')
export class AdminProjectionsController {
  constructor(private readonly projections: ProjectionsService) {}

  @Get()
  @ApiOperation({ summary: 'How far each projection is behind the event store' })
  @ApiOkResponse({ type: [ProjectionLagView] })
  async lag(): Promise<ProjectionLagView[]> {
    const active = new Map(this.projections.status().map((s) => [s.projection, s.active]));
    return (await this.projections.lag()).map((lag) => ({
      projection: lag.projection,
      active: active.get(lag.projection) ?? false,
      events: lag.events,
      seconds: lag.seconds,
    }));
  }

  /**
   * Rebuilds every projection from position 0 into shadow tables, swapped in when complete; the live
   * projections serve meanwhile.
   */
  @Post('rebuild')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rebuild every projection from the event store; returns counts and duration' })
  @ApiOkResponse({ type: RebuildReportView })
  @ApiConflictResponse({ description: 'a rebuild is already running' })
  rebuild(): Promise<RebuildReport> {
    return this.projections.rebuild();
  }
}
