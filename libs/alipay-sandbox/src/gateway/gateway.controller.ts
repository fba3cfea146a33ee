import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { formatYuan } from '@ledger/alipay-protocol';
import { BodyTooLargeError, rawQuery, readRawBody, sendBytes, sendHtml } from '../http/raw-request';
import { cashierPage, errorPage, refundConfirmPage, refundResultPage } from '../pages/pages';
import { Sandbox } from '../sandbox.service';
import { SANDBOX_OPTIONS, type ResolvedSandboxOptions } from '../sandbox-options';
import {
  checkGatewayRequest,
  PAGE_SERVICES,
  type AcceptedRequest,
  type RefusedRequest,
} from './gateway-request';
import { acceptedXml, rejectedXml, requestEcho, xmlElement } from './xml-reply';

const GATEWAY_DESCRIPTION =
  'The classic gateway: `service` = create_direct_pay_by_user or trade_create_by_buyer (the cashier page), ' +
  'refund_fastpay_by_platform_pwd (a confirmation page), refund_fastpay_by_platform_nopwd, ' +
  'send_goods_confirm_by_platform and single_trade_query (XML), notify_verify (`true`/`false`). ' +
  'Signed requests are verified with ' +
  "the merchant's MD5 key or RSA public key, in `_input_charset`.";

/**
 * `gateway.do`: every request verified as Alipay does, then dispatched on `service` (docs/alipay-protocol.md,
 * "Signing", "Batch refunds" and "Error codes").
 */
@ApiTags('gateway')
@Controller()
export class GatewayController {
  constructor(
    private readonly sandbox: Sandbox,
    @Inject(SANDBOX_OPTIONS) private readonly options: ResolvedSandboxOptions,
  ) {}

  @Get('gateway.do')
  @ApiOperation({ summary: 'Alipay gateway (query string)', description: GATEWAY_DESCRIPTION })
  @ApiProduces('text/html', 'text/xml', 'text/plain')
  async get(@Req() request: IncomingMessage, @Res() response: ServerResponse): Promise<void> {
    await this.handle(request, response);
  }

  @Post('gateway.do')
  @ApiOperation({ summary: 'Alipay gateway (form body)', description: GATEWAY_DESCRIPTION })
  @ApiProduces('text/html', 'text/xml', 'text/plain')
  async post(@Req() request: IncomingMessage, @Res() response: ServerResponse): Promise<void> {
    await this.handle(request, response);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let body: Buffer = Buffer.alloc(0);
    if (request.method === 'POST') {
      try {
        body = await readRawBody(request);
      } catch (error) {
        if (!(error instanceof BodyTooLargeError)) throw error;
        const xml = rejectedXml('ILLEGAL_ARGUMENT');
        sendBytes(response, 413, xml.contentType, xml.body);
        return;
      }
    }
    const contentType = request.headers['content-type'];
    const checked = checkGatewayRequest(
      {
        method: request.method ?? 'GET',
        query: rawQuery(request),
        body,
        ...(contentType === undefined ? {} : { contentType }),
      },
      this.options.merchants,
    );
    if (!checked.ok) {
      this.refuse(response, checked);
      return;
    }
    this.dispatch(response, checked);
  }

  // A browser request is answered with Alipay's error page, a server-to-server one with the XML error.
  private refuse(response: ServerResponse, refused: RefusedRequest): void {
    if (refused.service !== undefined && PAGE_SERVICES.has(refused.service)) {
      sendHtml(response, 200, errorPage(refused.code, refused.detail));
    } else {
      const xml = rejectedXml(refused.code);
      sendBytes(response, 200, xml.contentType, xml.body);
    }
  }

  private dispatch(response: ServerResponse, request: AcceptedRequest): void {
    const sandbox = this.sandbox;
    switch (request.service) {
      case 'notify_verify':
        sendBytes(
          response,
          200,
          'text/plain; charset=utf-8',
          Buffer.from(sandbox.notifyVerify(request.params)),
        );
        return;
      case 'create_direct_pay_by_user':
      case 'trade_create_by_buyer': {
        const trade = sandbox.receivePayment(request);
        if (!trade.ok) return this.refuse(response, { ...trade, service: request.service });
        sendHtml(response, 200, cashierPage(trade.value));
        return;
      }
      case 'send_goods_confirm_by_platform': {
        const shipped = sandbox.shipByPlatform(request);
        if (!shipped.ok) return this.refuse(response, { ...shipped, service: request.service });
        const trade = shipped.value;
        const tradeBase = [
          xmlElement('out_trade_no', trade.terms.outTradeNo),
          xmlElement('trade_no', trade.tradeNo),
          xmlElement('trade_status', trade.tradeStatus),
          xmlElement('total_fee', formatYuan(trade.terms.totalFee)),
        ].join('');
        const xml = acceptedXml(
          `${requestEcho(request.params)}<response><tradeBase>${tradeBase}</tradeBase></response>`,
        );
        sendBytes(response, 200, xml.contentType, xml.body);
        return;
      }
      case 'single_trade_query': {
        const answer = sandbox.queryTrade(request);
        sendBytes(response, 200, answer.contentType, answer.body);
        return;
      }
      case 'refund_fastpay_by_platform_nopwd': {
        const batch = sandbox.receiveRefund(request);
        if (!batch.ok) return this.refuse(response, { ...batch, service: request.service });
        const xml = acceptedXml();
        sendBytes(response, 200, xml.contentType, xml.body);
        return;
      }
      case 'refund_fastpay_by_platform_pwd': {
        const batch = sandbox.receiveRefund(request);
        if (!batch.ok) return this.refuse(response, { ...batch, service: request.service });
        sendHtml(
          response,
          200,
          batch.value.state === 'awaiting_confirmation'
            ? refundConfirmPage(batch.value)
            : refundResultPage(batch.value),
        );
        return;
      }
    }
  }
}
