import { Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { WebhookDispatcher, WebhookQueries } from '@ledger/processes';
import { AdminTokenGuard } from '../http/admin-token.guard';
import { ApiError } from '../http/api-error';
import {
  EndpointHealthView,
  WebhookListQuery,
  WebhookPageView,
  WebhookRetryView,
  WebhookView,
} from './webhooks.dto';

const WEBHOOK_ID = /^msg_[A-Za-z0-9_-]{1,60}$/;
/** `created_at` as PostgreSQL writes a timestamptz as text, to the microsecond. */
const CREATED_AT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === 'string' &&
      CREATED_AT.test(value[0]) &&
      typeof value[1] === 'string' &&
      WEBHOOK_ID.test(value[1])
    ) {
      return { createdAt: value[0], id: value[1] };
    }
  } catch {
    // Falls through to the refusal.
  }
  throw new ApiError('INVALID_REQUEST', 'cursor: is not a cursor of this list', 'cursor');
}

function webhookId(id: string): string {
  if (!WEBHOOK_ID.test(id))
    throw new ApiError('INVALID_REQUEST', `id: ${JSON.stringify(id)} is not a webhook id`, 'id');
  return id;
}

/** The merchant webhooks' delivery log (docs/webhooks.md, "The admin API"). */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@ApiUnauthorizedResponse({ description: 'missing or wrong bearer token' })
@Controller('admin/webhooks')
export class AdminWebhooksController {
  constructor(
    private readonly webhooks: WebhookQueries,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'List webhooks, newest first, with their attempts, replies and next try; filter by state',
    description: 'Pages of 20 by default, at most 100.',
  })
  @ApiOkResponse({ type: WebhookPageView })
  @ApiBadRequestResponse({ description: 'a filter or the cursor is invalid' })
  async list(@Query() query: WebhookListQuery): Promise<WebhookPageView> {
    const page = await this.webhooks.list({
      ...(query.state === undefined ? {} : { state: query.state }),
      ...(query.type === undefined ? {} : { eventType: query.type }),
      ...(query.subject === undefined ? {} : { subject: query.subject }),
      ...(query.cursor === undefined ? {} : { after: decodeCursor(query.cursor) }),
      limit: query.limit ?? 20,
    });
    return {
      items: page.items,
      nextCursor: page.next === null ? null : encodeCursor(page.next.createdAt, page.next.id),
    };
  }

  @Get('endpoints')
  @ApiOperation({ summary: "Each endpoint's health: webhooks by state, recent attempts, failures in a row" })
  @ApiOkResponse({ type: [EndpointHealthView] })
  async endpoints(): Promise<EndpointHealthView[]> {
    const endpoint = this.dispatcher.endpoint();
    const health = await this.webhooks.health(endpoint.name);
    return [{ ...health, url: endpoint.url ?? null, sending: endpoint.sending }];
  }

  @Post('retry-dead')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send every dead webhook again, now, with the whole retry schedule ahead' })
  @ApiOkResponse({ type: WebhookRetryView })
  async retryAllDead(): Promise<WebhookRetryView> {
    const retried = await this.webhooks.retryDead();
    this.dispatcher.wake();
    return { retried };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One webhook with its attempts and the body sent' })
  @ApiOkResponse({ type: WebhookView })
  @ApiBadRequestResponse({ description: 'not a webhook id' })
  @ApiNotFoundResponse({ description: 'no such webhook' })
  async get(@Param('id') id: string): Promise<WebhookView> {
    const webhook = await this.webhooks.get(webhookId(id));
    if (webhook === undefined) throw new ApiError('NOT_FOUND', `no webhook ${id}`);
    return webhook;
  }

  @Post(':id/retry')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send one dead webhook again, now, with the whole retry schedule ahead' })
  @ApiOkResponse({ type: WebhookRetryView, description: '`retried` is empty when the webhook is not dead' })
  @ApiBadRequestResponse({ description: 'not a webhook id' })
  @ApiNotFoundResponse({ description: 'no such webhook' })
  async retry(@Param('id') id: string): Promise<WebhookRetryView> {
    if ((await this.webhooks.get(webhookId(id))) === undefined) {
      throw new ApiError('NOT_FOUND', `no webhook ${id}`);
    }
    const retried = await this.webhooks.retryDead(id);
    this.dispatcher.wake();
    return { retried };
  }
}
