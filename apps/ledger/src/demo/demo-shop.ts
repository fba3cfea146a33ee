import type { ServerResponse } from 'node:http';
import { Controller, Get, HttpCode, Module, Post, Req, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiExcludeController } from '@nestjs/swagger';
import { escapeHtml } from '@ledger/alipay-protocol';
import { LedgerConfig, inRequestContext, pageSecurityHeaders, PlatformModule } from '@ledger/platform';
import { DEMO_SHOP_PATH } from '@ledger/processes';
import { Webhook } from 'standardwebhooks';
import { captureRawBody, type RequestWithRawBody } from '../alipay/raw-body';
import { ApiError } from '../http/api-error';

/** What the shop keeps of a webhook it accepted. */
interface Received {
  id: string;
  type: string;
  outTradeNo: string;
  receivedAt: string;
  reference: string;
  /** How many times it was sent (the shop de-duplicates by webhook-id). */
  times: number;
}

const KEPT = 200;

/** The order (or the refund batch) a webhook is about, as its body names it. */
function subjectOf(data: { outTradeNo?: unknown; batchNo?: unknown } | undefined): string {
  const subject = data?.outTradeNo ?? data?.batchNo;
  return typeof subject === 'string' ? subject : '';
}

/**
 * The merchant's shop in demo mode (docs/webhooks.md, "The demo shop"): receives the ledger's webhooks at
 * `DEMO_SHOP_PATH`, verifies their signature as a merchant would, de-duplicates them by `webhook-id`, and
 * answers `order.delivery_requested` and `order.return_requested` with a reference of its own, which the
 * ledger records on `DeliveryCompleted` / `ReturnCompleted`. `GET /demo/shop` lists what it received. It
 * keeps the last 200 in memory: a demo, not a warehouse.
 */
@ApiExcludeController()
@Controller('demo/shop')
export class DemoShopController {
  private readonly verifier: Webhook;
  private readonly received = new Map<string, Received>();
  private serial = 0;

  constructor(config: LedgerConfig) {
    this.verifier = new Webhook(config.webhooks.secret);
  }

  @Post('webhooks')
  @HttpCode(200)
  receive(@Req() request: RequestWithRawBody): { reference?: string } {
    const body = request.alipayRawBody?.bytes ?? Buffer.alloc(0);
    let event: { type?: unknown; data?: { outTradeNo?: unknown; batchNo?: unknown } };
    try {
      event = this.verifier.verify(body, {
        'webhook-id': String(request.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
      }) as typeof event;
    } catch (error) {
      // A forgery, or a webhook signed with another secret: refused as a merchant's receiver refuses it.
      throw new ApiError(
        'UNAUTHORIZED',
        `the webhook signature does not verify: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const id = String(request.headers['webhook-id']);
    const seen = this.received.get(id);
    if (seen !== undefined) {
      seen.times++;
      return { reference: seen.reference };
    }
    const type = String(event.type);
    const entry: Received = {
      id,
      type,
      outTradeNo: subjectOf(event.data),
      receivedAt: new Date().toISOString(),
      reference: `SHOP-${String(++this.serial).padStart(6, '0')}`,
      times: 1,
    };
    this.received.set(id, entry);
    if (this.received.size > KEPT) this.received.delete(this.received.keys().next().value!);
    return type === 'order.delivery_requested' || type === 'order.return_requested'
      ? { reference: entry.reference }
      : {};
  }

  @Get()
  page(@Res() response: ServerResponse): void {
    const rows = [...this.received.values()]
      .reverse()
      .map(
        (entry) =>
          `<tr><td>${escapeHtml(entry.receivedAt)}</td><td><code>${escapeHtml(entry.type)}</code></td>` +
          `<td>${escapeHtml(entry.outTradeNo)}</td><td>${escapeHtml(entry.reference)}</td>` +
          `<td><code>${escapeHtml(entry.id)}</code></td><td>${entry.times}</td></tr>`,
      )
      .join('\n');
    response.writeHead(200, pageSecurityHeaders(["'self'"]));
    response.end(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Demo shop · Alipay ledger</title></head>
<body>
  <h1>Demo shop</h1>
  <p>The merchant's side in demo mode: the ledger's signed webhooks as this shop received and verified them
  (newest first). Answering <code>order.delivery_requested</code> with 2xx is the delivery.
  <a href="/demo">Place another order</a>.</p>
  <table>
    <thead><tr><th>Received</th><th>Type</th><th>Order</th><th>Shop reference</th><th>webhook-id</th><th>Times sent</th></tr></thead>
    <tbody>
${rows}
    </tbody>
  </table>
</body>
</html>
`);
  }
}

/**
 * The demo shop: `LedgerModule` imports it in demo mode when no MERCHANT_WEBHOOK_URL is set. Its body
 * capture is registered when the module is constructed, ahead of the framework's parsers: the signature is
 * over the bytes as sent.
 */
@Module({ imports: [PlatformModule], controllers: [DemoShopController] })
export class DemoShopModule {
  constructor(adapterHost: HttpAdapterHost) {
    adapterHost.httpAdapter.use(DEMO_SHOP_PATH, inRequestContext(captureRawBody));
  }
}
