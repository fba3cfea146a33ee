import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { LEDGER_PROJECTION_NAMES, ProjectionsService, type RebuildReport } from '@ledger/projections';
import { IsIn, IsOptional } from 'class-validator';
import { AdminTokenGuard } from '../http/admin-token.guard';

/** `POST /admin/projections/rebuild`: one projection, or every one. */
export class RebuildRequest {
  @ApiPropertyOptional({
    enum: LEDGER_PROJECTION_NAMES,
    description: 'The projection to rebuild; every projection, one after the other, when absent',
  })
  @IsOptional()
  @IsIn(LEDGER_PROJECTION_NAMES, { message: `must be one of ${LEDGER_PROJECTION_NAMES.join(', ')}` })
  projection?: string;
}

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

class RebuildStatusView {
  @ApiProperty({ description: 'An instance is rebuilding it now; false: shadows a stopped rebuild left' })
  running: boolean;

  @ApiProperty({ description: "The global position the rebuild's checkpoint has reached" })
  position: number;

  @ApiProperty({ description: "The newest event's global position" })
  headPosition: number;

  @ApiProperty({ description: "When the rebuild's checkpoint last moved" })
  updatedAt: Date;
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

  @ApiProperty({
    type: RebuildStatusView,
    nullable: true,
    description: 'Its rebuild, read from the database whichever instance runs it; null when there is none',
  })
  rebuild: RebuildStatusView | null;
}

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@ApiUnauthorizedResponse({ description: 'missing or wrong bearer token' })
@Controller('admin/projections')
export class AdminProjectionsController {
  constructor(private readonly projections: ProjectionsService) {}

  @Get()
  @ApiOperation({ summary: 'How far each projection is behind the event store, and its rebuild if any' })
  @ApiOkResponse({ type: [ProjectionLagView] })
  async lag(): Promise<ProjectionLagView[]> {
    const active = new Map(this.projections.status().map((s) => [s.projection, s.active]));
    return (await this.projections.overview()).map(({ projection, events, seconds, rebuild }) => ({
      projection,
      active: active.get(projection) ?? false,
      events,
      seconds,
      rebuild,
    }));
  }

  /**
   * Rebuilds one projection, or every projection, from position 0 into shadow tables, swapped in when
   * complete; the live projections serve meanwhile. `GET /admin/projections` shows the progress meanwhile,
   * on any instance.
   */
  @Post('rebuild')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rebuild one projection, or every one, from the event store; returns counts and duration',
  })
  @ApiOkResponse({ type: RebuildReportView })
  @ApiBadRequestResponse({ description: 'no projection of that name' })
  @ApiConflictResponse({ description: 'a rebuild or a verification of it is already running' })
  rebuild(@Body() request: RebuildRequest): Promise<RebuildReport> {
    return this.projections.rebuild(request.projection);
  }
}
