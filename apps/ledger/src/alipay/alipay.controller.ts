import type { ServerResponse } from 'node:http';
import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiConsumes, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ReceiveNotificationCommand } from '@ledger/commands';
import type { IngestResult, RawNotification } from '@ledger/inbox';
import { ForegroundWork, LedgerConfig, LedgerLogger, pageSecurityHeaders } from '@ledger/platform';
import { ProjectionsService } from '@ledger/projections';
import { demoSandboxUrl } from '../demo/demo-sandbox-url';
import { RETRY_AFTER_SECONDS } from '../http/ledger-exception.filter';
import { readYourWrites } from '../http/read-your-writes';
import type { RequestWithRawBody } from './raw-body';
import { receivedHeaders } from './raw-body';
import { type DemoReturnLinks, renderReturnPage, returnPageKind } from './return-page';

/** The HTTP status of a notify reply; Alipay only reads the body (anything but `success` is retried). */
function notifyStatus(result: IngestResult): number {
  if (result.reply === 'success') return 200;
  if (result.detail.outcome === 'rejected') return result.detail.reason === 'body_too_large' ? 413 : 400;
  return 503;
}

function rawNotification(request: RequestWithRawBody, channel: RawNotification['channel']): RawNotification {
  const url = request.originalUrl ?? request.url ?? '';
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  const captured = request.alipayRawBody;
  const headers = captured?.headers ?? receivedHeaders(request);
  const contentType = headers['content-type'];
  // A return_url's parameters are its query string; Node hands the request target over as Latin-1, so
  // these are the bytes the browser sent.
  const body =
    channel === 'return' ? Buffer.from(query === -1 ? '' : url.slice(query + 1), 'latin1') : captured?.bytes;
  return {
    channel,
    receivedAt: new Date(),
    ...(request.socket.remoteAddress === undefined ? {} : { remoteAddress: request.socket.remoteAddress }),
    method: request.method ?? '',
    path,
    headers,
    ...(contentType === undefined
      ? {}
      : { contentType: Array.isArray(contentType) ? contentType.join(', ') : contentType }),
    body: body ?? Buffer.alloc(0),
    receivedBytes: channel === 'return' ? (body?.length ?? 0) : (captured?.receivedBytes ?? 0),
    ...(channel === 'return' || captured?.declaredBytes === undefined
      ? {}
      : { declaredBytes: captured.declaredBytes }),
    truncated: channel !== 'return' && captured?.truncated === true,
  };
}

/**
 * The Alipay edge (docs/product-rules.md, "HTTP endpoints"): `POST /alipay/notify` (payments) and `POST
 * /alipay/refund-notify` (batch refund results) answer exactly `success` once the notification has committed,
 * `fail` otherwise, without waiting for the projections (Alipay reads none); `GET /alipay/return` runs the
 * same pipeline on the redirect's query and shows the buyer a small page once the projections show it. Bodies are read raw (see raw-body.ts), never through
 * a DTO or a ValidationPipe.
 */
@ApiTags('alipay')
@Controller('alipay')
export class AlipayController {
  /** What the demo's return page links to; undefined in live mode. */
  private readonly demoLinks?: DemoReturnLinks;

  constructor(
    private readonly commands: CommandBus,
    private readonly projections: ProjectionsService,
    private readonly logger: LedgerLogger,
    private readonly foreground: ForegroundWork,
    config: LedgerConfig,
  ) {
    if (config.mode === 'demo') {
      const sandboxUrl = demoSandboxUrl(config.mode, config.alipay.gateway);
      this.demoLinks = {
        orderPage: config.pages.demoPage,
        ...(sandboxUrl === undefined ? {} : { sandboxUrl }),
      };
    }
  }

  @Post('notify')
  @ApiOperation({ summary: "Alipay's asynchronous payment notification (trade_status_sync)" })
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiProduces('text/plain')
  @ApiResponse({ status: 200, description: '`success`: stored, verified and applied (or nothing new)' })
  @ApiResponse({
    status: 400,
    description: '`fail`: not verified or unusable; kept in the inbox with the reason',
  })
  @ApiResponse({
    status: 413,
    description: '`fail`: larger than 1 MiB, refused before it is read in full; its first 64 KiB are kept',
  })
  @ApiResponse({
    status: 503,
    description: '`fail`: could not be finished now (gateway, database); Alipay retries',
  })
  notify(@Req() request: RequestWithRawBody, @Res() response: ServerResponse): Promise<void> {
    return this.receive(request, response, 'notify');
  }

  @Post('refund-notify')
  @ApiOperation({
    summary: 'The asynchronous result of a batch refund (batch_refund_notify), pwd and nopwd alike',
  })
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiProduces('text/plain')
  @ApiResponse({
    status: 200,
    description: '`success`: stored, verified, reconciled per record and applied (or nothing new)',
  })
  @ApiResponse({
    status: 400,
    description: '`fail`: not verified, unusable, or another notify_type; kept in the inbox with the reason',
  })
  @ApiResponse({
    status: 413,
    description: '`fail`: larger than 1 MiB, refused before it is read in full; its first 64 KiB are kept',
  })
  @ApiResponse({
    status: 503,
    description: '`fail`: could not be finished now (gateway, database); Alipay retries',
  })
  refundNotify(@Req() request: RequestWithRawBody, @Res() response: ServerResponse): Promise<void> {
    return this.receive(request, response, 'refund_notify');
  }

  @Get('return')
  @ApiOperation({ summary: "The buyer's redirect from Alipay (return_url): processed like a notification" })
  @ApiProduces('text/html')
  @ApiResponse({ status: 200, description: 'a page saying paid, pending, or could not be verified' })
  async return(@Req() request: RequestWithRawBody, @Res() response: ServerResponse): Promise<void> {
    const result = await this.commands.execute(
      new ReceiveNotificationCommand(rawNotification(request, 'return')),
    );
    // The buyer's next page (the merchant's order page) reads the projections.
    if (result.checkpoint !== undefined) {
      await readYourWrites(
        this.projections,
        this.logger,
        `return_url visit ${result.inboxId ?? '?'} is committed`,
        result.checkpoint,
      );
    }
    // Always 200: the page is for a person, and some browsers replace short error pages with their own.
    response.writeHead(200, {
      ...pageSecurityHeaders([]),
      // The URL carries the signed parameters: do not hand them to the next site.
      'referrer-policy': 'no-referrer',
    });
    response.end(renderReturnPage(returnPageKind(result), result, this.demoLinks));
  }

  private async receive(
    request: RequestWithRawBody,
    response: ServerResponse,
    channel: 'notify' | 'refund_notify',
  ): Promise<void> {
    // Alipay waits on the reply (and retries when it is slow): background work yields meanwhile.
    const done = this.foreground.begin();
    let result: IngestResult;
    try {
      result = await this.commands.execute(new ReceiveNotificationCommand(rawNotification(request, channel)));
    } finally {
      done();
    }
    const status = notifyStatus(result);
    response.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'no-store',
      ...(status === 413 ? { connection: 'close' } : {}),
      // Alipay keeps its own schedule; other senders (the sandbox, a proxy) learn when to come back.
      ...(status === 503 ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : {}),
    });
    response.end(result.reply);
  }
}
