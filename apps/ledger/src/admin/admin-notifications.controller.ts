import { Body, Controller, Get, HttpCode, Param, ParseIntPipe, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { CommandBus } from '@nestjs/cqrs';
import { ReplayNotificationsCommand, type ReplayReport, type ReplaySelection } from '@ledger/commands';
import { InboxQueries, type InboxNotificationView } from '@ledger/inbox';
import { AdminTokenGuard } from '../http/admin-token.guard';
import { ApiError } from '../http/api-error';
import {
  instantOf,
  NotificationListQuery,
  NotificationPageView,
  ReplayRequest,
  timeRange,
} from './admin.dto';

@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@ApiUnauthorizedResponse({ description: 'missing or wrong bearer token' })
@Controller('admin')
export class AdminNotificationsController {
  constructor(
    private readonly inbox: InboxQueries,
    private readonly commands: CommandBus,
  ) {}

  @Get('notifications')
  @ApiOperation({
    summary: 'The raw inbox, newest first: each body decoded for reading, with its verification evidence',
    description:
      'Pages of 20 by default, at most 100. Each item shows the first 4 KiB of its body (`body.shortened` ' +
      'says when there is more); `GET /admin/notifications/{id}` shows all of it.',
  })
  @ApiOkResponse({ type: NotificationPageView })
  @ApiBadRequestResponse({ description: 'a filter or the cursor is invalid' })
  list(@Query() query: NotificationListQuery): Promise<NotificationPageView> {
    const { limit, cursor, from, to, ...filters } = query;
    const range = timeRange(from, to);
    return this.inbox.list(
      {
        ...filters,
        ...(range.from === undefined ? {} : { receivedFrom: range.from }),
        ...(range.to === undefined ? {} : { receivedTo: range.to }),
      },
      { ...(limit === undefined ? {} : { limit }), ...(cursor === undefined ? {} : { cursor }) },
    );
  }

  @Get('notifications/:id')
  @ApiOperation({ summary: 'One stored notification, its whole body and its exact bytes (base64)' })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: true } })
  @ApiNotFoundResponse({ description: 'no notification has this id' })
  get(
    @Param('id', new ParseIntPipe({ exceptionFactory: () => idNotInteger() })) id: number,
  ): Promise<InboxNotificationView> {
    return this.inbox.get(id);
  }

  /**
   * Runs stored, verified notifications again through today's code with the stored evidence
   * (docs/operations.md, "Replay"). Idempotent: each notify_id applies once, so a second replay appends
   * nothing.
   */
  @Post('replay')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Re-process stored notifications (all, a time range or ids); dryRun writes nothing',
  })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: true } })
  @ApiBadRequestResponse({ description: 'not exactly one selection, or an invalid one' })
  replay(@Body() request: ReplayRequest): Promise<ReplayReport> {
    return this.commands.execute(
      new ReplayNotificationsCommand(selectionOf(request), { dryRun: request.dryRun === true }),
    );
  }
}

function idNotInteger(): ApiError {
  return new ApiError('INVALID_REQUEST', 'id: must be an inbox id (a positive integer)', 'id');
}

function selectionOf(request: ReplayRequest): ReplaySelection {
  const { all, from, to, ids } = request;
  const range = from !== undefined || to !== undefined;
  const chosen = [all === true, range, ids !== undefined].filter(Boolean).length;
  if (chosen !== 1) {
    throw new ApiError(
      'INVALID_REQUEST',
      'selection: give exactly one of all: true, from with to, or ids',
      'selection',
    );
  }
  if (all === true) return { all: true };
  if (ids !== undefined) return { ids };
  if (from === undefined || to === undefined) {
    const missing = from === undefined ? 'from' : 'to';
    throw new ApiError('INVALID_REQUEST', `${missing}: a time range needs both from and to`, missing);
  }
  return { from: instantOf(from)!, to: instantOf(to)! };
}
