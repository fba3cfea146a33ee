import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { readOwnForm, redirect, sendHtml } from '../http/raw-request';
import { Sandbox } from '../sandbox.service';
import { SANDBOX_OPTIONS, type ResolvedSandboxOptions } from '../sandbox-options';
import { availableActions, TRADE_ACTIONS, type TradeAction } from '../trades/trade-machine';
import {
  cashierPage,
  cashierPath,
  leftPage,
  notFoundPage,
  refundConfirmPage,
  refundPath,
  refundResultPage,
  tradePage,
  tradePath,
  tradesPage,
} from './pages';

const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

const CASHIER_CHOICES: ReadonlyMap<string, TradeAction> = new Map([
  ['instant', 'pay-instant'],
  ['escrow', 'pay-escrow'],
]);

function isTradeAction(value: string | undefined): value is TradeAction {
  return value !== undefined && (TRADE_ACTIONS as readonly string[]).includes(value);
}

/**
 * The pages a person uses: the list of trades, the cashier, the trade page with the buyer's and the seller's buttons, the
 * password refund's confirmation. Forms POST, then a 303 leads to a page that can be reloaded.
 */
@ApiExcludeController()
@Controller()
export class PagesController {
  constructor(
    private readonly sandbox: Sandbox,
    @Inject(SANDBOX_OPTIONS) private readonly options: ResolvedSandboxOptions,
  ) {}

  @Get()
  home(@Res() response: ServerResponse): void {
    sendHtml(response, 200, tradesPage(this.sandbox.tradesNewestFirst()));
  }

  @Get('cashier/:tradeNo')
  cashier(@Param('tradeNo') tradeNo: string, @Res() response: ServerResponse): void {
    const trade = this.sandbox.trade(tradeNo);
    if (trade === undefined) return sendHtml(response, 404, notFoundPage(`no trade ${tradeNo}`));
    if (trade.tradeStatus !== 'WAIT_BUYER_PAY') return redirect(response, tradePath(tradeNo));
    sendHtml(response, 200, cashierPage(trade));
  }

  @Post('cashier/:tradeNo')
  async choose(
    @Param('tradeNo') tradeNo: string,
    @Req() request: IncomingMessage,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const { choice } = await readOwnForm(request);
    if (choice === 'leave') return redirect(response, `${cashierPath(tradeNo)}/left`);
    const action = CASHIER_CHOICES.get(choice ?? '');
    if (action === undefined) return redirect(response, cashierPath(tradeNo));
    const result = this.sandbox.act(tradeNo, action);
    if ('ok' in result) {
      if (result.status === 404) return sendHtml(response, 404, notFoundPage(`no trade ${tradeNo}`));
      return redirect(response, `${tradePath(tradeNo)}?notice=${result.code}`);
    }
    // docs/alipay-protocol.md, "Return URL": the buyer goes to return_url at about the time the first
    // notification leaves.
    redirect(response, result.returnUrl ?? tradePath(tradeNo));
  }

  @Get('cashier/:tradeNo/left')
  left(@Param('tradeNo') tradeNo: string, @Res() response: ServerResponse): void {
    const trade = this.sandbox.trade(tradeNo);
    if (trade === undefined) return sendHtml(response, 404, notFoundPage(`no trade ${tradeNo}`));
    sendHtml(response, 200, leftPage(trade));
  }

  @Get('trades/:tradeNo')
  trade(
    @Param('tradeNo') tradeNo: string,
    @Query('notice') notice: string | undefined,
    @Res() response: ServerResponse,
  ): void {
    const trade = this.sandbox.trade(tradeNo);
    if (trade === undefined) return sendHtml(response, 404, notFoundPage(`no trade ${tradeNo}`));
    const shown = notice !== undefined && CODE.test(notice) ? `未执行 Not done: ${notice}` : undefined;
    sendHtml(response, 200, tradePage(trade, availableActions(trade, this.options.clock()), shown));
  }

  @Post('trades/:tradeNo')
  async act(
    @Param('tradeNo') tradeNo: string,
    @Req() request: IncomingMessage,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const { action } = await readOwnForm(request);
    if (!isTradeAction(action)) return redirect(response, `${tradePath(tradeNo)}?notice=ILLEGAL_ARGUMENT`);
    const result = this.sandbox.act(tradeNo, action);
    if ('ok' in result) {
      if (result.status === 404) return sendHtml(response, 404, notFoundPage(`no trade ${tradeNo}`));
      return redirect(response, `${tradePath(tradeNo)}?notice=${result.code}`);
    }
    redirect(response, result.returnUrl ?? tradePath(tradeNo));
  }

  @Get('refunds/:partner/:batchNo')
  refund(
    @Param('partner') partner: string,
    @Param('batchNo') batchNo: string,
    @Res() response: ServerResponse,
  ): void {
    const batch = this.sandbox.batch(partner, batchNo);
    if (batch === undefined) return sendHtml(response, 404, notFoundPage(`no batch ${batchNo}`));
    sendHtml(
      response,
      200,
      batch.state === 'awaiting_confirmation' ? refundConfirmPage(batch) : refundResultPage(batch),
    );
  }

  @Post('refunds/:partner/:batchNo')
  async decide(
    @Param('partner') partner: string,
    @Param('batchNo') batchNo: string,
    @Req() request: IncomingMessage,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const { decision } = await readOwnForm(request);
    const result = this.sandbox.decidePwdBatch(partner, batchNo, decision === 'confirm');
    if ('ok' in result && result.status === 404) {
      return sendHtml(response, 404, notFoundPage(`no batch ${batchNo}`));
    }
    redirect(response, refundPath(partner, batchNo));
  }
}
