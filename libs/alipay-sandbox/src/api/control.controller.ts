import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpException,
  Inject,
  Param,
  ParseEnumPipe,
  Post,
  Put,
  Query,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { ChaosControl } from '../notifications/chaos-control';
import { Notifier } from '../notifications/notifier';
import { Sandbox, type SandboxFailure } from '../sandbox.service';
import { SANDBOX_OPTIONS, type ChaosSettings, type ResolvedSandboxOptions } from '../sandbox-options';
import { SandboxStore, type NotificationState } from '../store/sandbox-store';
import { availableActions, TRADE_ACTIONS, type TradeAction } from '../trades/trade-machine';
import {
  ActionBodyDto,
  ActionResultView,
  BatchView,
  ChaosSettingsDto,
  FlushDto,
  FlushResultView,
  NotificationView,
  toBatchView,
  toFlushResult,
  toNotificationView,
  toTradeView,
  TradeView,
} from './control.dto';

const NOTIFICATION_STATES: readonly NotificationState[] = ['held', 'scheduled', 'acknowledged', 'abandoned'];

const REASONS = { 400: 'Bad Request', 404: 'Not Found', 409: 'Conflict' } as const;

function httpError(failure: SandboxFailure): HttpException {
  return new HttpException(
    {
      statusCode: failure.status,
      error: REASONS[failure.status],
      code: failure.code,
      message: failure.detail,
    },
    failure.status,
  );
}

function notFound(message: string): HttpException {
  return httpError({ ok: false, code: 'NOT_FOUND', detail: message, status: 404 });
}

/** The JSON control API for tests and scripts (served with its OpenAPI at /docs). */
@ApiTags('sandbox')
@Controller('sandbox/api')
@UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }))
export class ControlController {
  constructor(
    private readonly sandbox: Sandbox,
    private readonly store: SandboxStore,
    private readonly notifier: Notifier,
    private readonly chaos: ChaosControl,
    @Inject(SANDBOX_OPTIONS) private readonly options: ResolvedSandboxOptions,
  ) {}

  private view(tradeNo: string): TradeView {
    const trade = this.store.trade(tradeNo);
    if (trade === undefined) throw notFound(`no trade ${tradeNo}`);
    return toTradeView(trade, availableActions(trade, this.options.clock()), this.options.publicBaseUrl);
  }

  @Get('trades')
  @ApiOperation({ summary: 'List trades, oldest first' })
  @ApiQuery({ name: 'partner', required: false })
  @ApiQuery({ name: 'outTradeNo', required: false })
  @ApiOkResponse({ type: [TradeView] })
  trades(@Query('partner') partner?: string, @Query('outTradeNo') outTradeNo?: string): TradeView[] {
    return this.store
      .listTrades({
        ...(partner === undefined ? {} : { partner }),
        ...(outTradeNo === undefined ? {} : { outTradeNo }),
      })
      .map((trade) => this.view(trade.tradeNo));
  }

  @Get('trades/:tradeNo')
  @ApiOperation({ summary: 'One trade, with the actions possible now' })
  @ApiOkResponse({ type: TradeView })
  @ApiNotFoundResponse({ description: 'no such trade' })
  trade(@Param('tradeNo') tradeNo: string): TradeView {
    return this.view(tradeNo);
  }

  @Post('trades/:tradeNo/actions/:action')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Act on a trade as its buyer, its seller or Alipay',
    description:
      'pay-instant, pay-escrow (trade_create_by_buyer), close (unpaid), ship, confirm-receipt, finish (the ' +
      'refund window of an instant trade ends), request-refund, agree-refund, refuse-refund, return-goods, ' +
      'confirm-return. The change is notified as Alipay would; a payment also gives the return_url redirect.',
  })
  @ApiParam({ name: 'action', enum: TRADE_ACTIONS })
  @ApiOkResponse({ type: ActionResultView })
  @ApiNotFoundResponse({ description: 'no such trade' })
  @ApiConflictResponse({ description: "the trade's status does not allow it (code: Alipay's)" })
  act(
    @Param('tradeNo') tradeNo: string,
    @Param('action', new ParseEnumPipe(Object.fromEntries(TRADE_ACTIONS.map((a) => [a, a]))))
    action: TradeAction,
    @Body() body: ActionBodyDto,
  ): ActionResultView {
    const shipment =
      action === 'ship' && (body.logisticsName !== undefined || body.transportType !== undefined)
        ? {
            logisticsName: body.logisticsName ?? 'sandbox express',
            transportType: body.transportType ?? 'EXPRESS',
            ...(body.invoiceNo === undefined ? {} : { invoiceNo: body.invoiceNo }),
          }
        : undefined;
    const result = this.sandbox.act(tradeNo, action, shipment);
    if ('ok' in result) throw httpError(result);
    return {
      trade: this.view(tradeNo),
      notifications: result.notifications.map(toNotificationView),
      ...(result.returnUrl === undefined ? {} : { returnUrl: result.returnUrl }),
    };
  }

  @Get('batches')
  @ApiOperation({ summary: 'List refund batches' })
  @ApiQuery({ name: 'partner', required: false })
  @ApiOkResponse({ type: [BatchView] })
  batches(@Query('partner') partner?: string): BatchView[] {
    return this.store.listBatches(partner).map((batch) => toBatchView(batch, this.options.publicBaseUrl));
  }

  @Get('batches/:partner/:batchNo')
  @ApiOperation({ summary: 'One refund batch with its per-record results' })
  @ApiOkResponse({ type: BatchView })
  @ApiNotFoundResponse({ description: 'no such batch' })
  batch(@Param('partner') partner: string, @Param('batchNo') batchNo: string): BatchView {
    const batch = this.store.batch(partner, batchNo);
    if (batch === undefined) throw notFound(`no batch ${batchNo} of partner ${partner}`);
    return toBatchView(batch, this.options.publicBaseUrl);
  }

  @Post('batches/:partner/:batchNo/:decision')
  @HttpCode(200)
  @ApiOperation({ summary: "Confirm or cancel a password refund, as the merchant does on Alipay's page" })
  @ApiParam({ name: 'decision', enum: ['confirm', 'cancel'] })
  @ApiOkResponse({ type: BatchView })
  @ApiNotFoundResponse({ description: 'no such batch' })
  @ApiConflictResponse({ description: 'the batch is not waiting for a confirmation' })
  decide(
    @Param('partner') partner: string,
    @Param('batchNo') batchNo: string,
    @Param('decision', new ParseEnumPipe({ confirm: 'confirm', cancel: 'cancel' })) decision: string,
  ): BatchView {
    const result = this.sandbox.decidePwdBatch(partner, batchNo, decision === 'confirm');
    if ('ok' in result) throw httpError(result);
    return toBatchView(result, this.options.publicBaseUrl);
  }

  @Get('notifications')
  @ApiOperation({
    summary:
      'Notifications sent, with every attempt (time, status, reply); state=scheduled lists pending retries',
  })
  @ApiQuery({ name: 'tradeNo', required: false })
  @ApiQuery({ name: 'outTradeNo', required: false })
  @ApiQuery({ name: 'batchNo', required: false })
  @ApiQuery({ name: 'state', required: false, enum: NOTIFICATION_STATES })
  @ApiOkResponse({ type: [NotificationView] })
  @ApiBadRequestResponse({ description: 'an unknown state' })
  notifications(
    @Query('tradeNo') tradeNo?: string,
    @Query('outTradeNo') outTradeNo?: string,
    @Query('batchNo') batchNo?: string,
    @Query('state') state?: string,
  ): NotificationView[] {
    if (state !== undefined && !(NOTIFICATION_STATES as readonly string[]).includes(state)) {
      throw httpError({
        ok: false,
        code: 'ILLEGAL_ARGUMENT',
        detail: `state must be one of ${NOTIFICATION_STATES.join(', ')}`,
        status: 400,
      });
    }
    return this.store
      .listNotifications({
        ...(tradeNo === undefined ? {} : { tradeNo }),
        ...(outTradeNo === undefined ? {} : { outTradeNo }),
        ...(batchNo === undefined ? {} : { batchNo }),
        ...(state === undefined ? {} : { state: state as NotificationState }),
      })
      .map(toNotificationView);
  }

  @Get('notifications/:id')
  @ApiOperation({ summary: 'One notification with its attempts' })
  @ApiOkResponse({ type: NotificationView })
  @ApiNotFoundResponse({ description: 'no such notification' })
  notification(@Param('id') id: string): NotificationView {
    const notification = this.store.notification(id);
    if (notification === undefined) throw notFound(`no notification ${id}`);
    return toNotificationView(notification);
  }

  @Post('notifications/flush')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Deliver due notifications now and wait for the replies',
    description:
      'With `all`, held notifications and later retries are delivered too, as if their time had come.',
  })
  @ApiOkResponse({ type: FlushResultView })
  async flush(@Body() body: FlushDto): Promise<FlushResultView> {
    return toFlushResult(await this.notifier.flush({ all: body.all === true }));
  }

  @Get('chaos')
  @ApiOperation({ summary: 'The chaos settings in force' })
  @ApiOkResponse({ type: ChaosSettingsDto })
  getChaos(): ChaosSettings {
    return this.chaos.settings;
  }

  @Put('chaos')
  @ApiOperation({ summary: 'Replace the chaos settings (an empty object turns them all off)' })
  @ApiOkResponse({ type: ChaosSettingsDto })
  @ApiBadRequestResponse({ description: 'an invalid setting' })
  setChaos(@Body() body: ChaosSettingsDto): ChaosSettings {
    const settings: ChaosSettings = JSON.parse(JSON.stringify(body)) as ChaosSettings;
    const problems = this.chaos.replace(settings);
    if (problems.length > 0) {
      throw httpError({ ok: false, code: 'ILLEGAL_ARGUMENT', detail: problems.join('; '), status: 400 });
    }
    // Reordering switched off: what it held goes out now rather than never.
    if ((settings.reorderWindow ?? 0) <= 1) this.notifier.releaseHeld();
    return this.chaos.settings;
  }
}
