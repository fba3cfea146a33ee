import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Body, Controller, Get, Post, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiExcludeController } from '@nestjs/swagger';
import { DomainError } from '@ledger/domain';
import { LedgerConfig, pageSecurityHeaders } from '@ledger/platform';
import { ApiError } from '../http/api-error';
import { LedgerValidationPipe } from '../http/ledger-validation.pipe';
import { PlaceOrderRequestCommand } from '../orders/place-order-request.handler';
import { PlaceOrderRequest } from '../orders/place-order.dto';
import {
  DEFAULT_DEMO_FORM,
  DEMO_SERVICES,
  readAdminToken,
  readDemoForm,
  renderDemoPage,
  toYuanString,
  type DemoOrderForm,
  type DemoPageContext,
} from './demo-page';

/** A fresh order number: the time, for reading, and random digits, so that two tabs never collide. */
function demoOutTradeNo(now: Date): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `DEMO-${stamp}-${randomBytes(4).toString('hex')}`;
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * `GET /demo`, `POST /demo` (docs/product-rules.md, "Demo mode"): a page to place an order and go to the
 * cashier. The order is placed by `POST /orders`'s command (`PlaceOrderRequestCommand`), after the same
 * validation, so the page can never place an order the API would not. In demo mode it needs no
 * token (demo credentials, no real money); in live mode (DEMO_PAGE=true) the orders are real, and the form
 * asks for the admin token.
 */
@ApiExcludeController()
@Controller('demo')
export class DemoController {
  private readonly validation = new LedgerValidationPipe();
  private readonly context: DemoPageContext;
  /** The admin token's digest in live mode; compared as AdminTokenGuard compares the bearer token. */
  private readonly expectedToken?: Buffer;

  constructor(
    private readonly commands: CommandBus,
    config: LedgerConfig,
  ) {
    const live = config.mode === 'live';
    this.context = { baseUrl: config.http.publicBaseUrl, gateway: config.alipay.gateway, live };
    if (live) this.expectedToken = digest(config.admin.token);
  }

  @Get()
  page(@Res() response: ServerResponse): void {
    sendPage(response, 200, renderDemoPage(this.context, DEFAULT_DEMO_FORM), this.context.gateway);
  }

  /** Places the order and sends the browser to the signed payment URL (303: the cashier is a GET). */
  @Post()
  async place(@Body() body: unknown, @Res() response: ServerResponse): Promise<void> {
    const form = readDemoForm(body);
    if (!this.tokenAccepted(body)) {
      const shown = 'error' in form ? DEFAULT_DEMO_FORM : form;
      sendPage(
        response,
        401,
        renderDemoPage(this.context, shown, 'the admin token is missing or wrong'),
        this.context.gateway,
      );
      return;
    }
    if ('error' in form) {
      sendPage(
        response,
        400,
        renderDemoPage(this.context, DEFAULT_DEMO_FORM, form.error),
        this.context.gateway,
      );
      return;
    }
    let paymentUrl: string;
    try {
      paymentUrl = await this.placeOrder(form);
    } catch (error) {
      // What the API answers 4xx to is the buyer's to correct; anything else is the exception filter's.
      if (!(error instanceof ApiError || error instanceof DomainError)) throw error;
      sendPage(response, 400, renderDemoPage(this.context, form, error.message), this.context.gateway);
      return;
    }
    response.writeHead(303, { location: paymentUrl, 'cache-control': 'no-store' });
    response.end();
  }

  private tokenAccepted(body: unknown): boolean {
    if (this.expectedToken === undefined) return true;
    return timingSafeEqual(digest(readAdminToken(body)), this.expectedToken);
  }

  private async placeOrder(form: DemoOrderForm): Promise<string> {
    const request = (await this.validation.transform(
      {
        outTradeNo: demoOutTradeNo(new Date()),
        subject: form.subject,
        totalFee: toYuanString(form.amount),
        service: DEMO_SERVICES[form.service],
      },
      { type: 'body', metatype: PlaceOrderRequest },
    )) as PlaceOrderRequest;
    return (await this.commands.execute(new PlaceOrderRequestCommand(request))).paymentUrl;
  }
}

function sendPage(response: ServerResponse, status: number, html: string, gateway: string): void {
  // The form posts here, and the answer redirects the browser to the cashier: a browser checks both.
  response.writeHead(status, pageSecurityHeaders(["'self'", new URL(gateway).origin]));
  response.end(html);
}
