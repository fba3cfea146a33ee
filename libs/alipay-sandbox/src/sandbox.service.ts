import { Inject, Injectable } from '@nestjs/common';
import {
  formatGatewayErrorReply,
  formatResultDetails,
  formatSingleTradeQueryReply,
  type RefundResult,
  type RefundService,
  type TextParam,
} from '@ledger/alipay-protocol';
import type { VerifiedRequest } from './gateway/gateway-request';
import { differingTerms, readPaymentRequest, refused, type Reading } from './gateway/payment-request';
import { readRefundRequest } from './gateway/refund-request';
import { ChaosControl } from './notifications/chaos-control';
import {
  batchRefundNotifyParams,
  notificationKey,
  returnParams,
  signAndEncode,
  tradeQueryFields,
  tradeStatusSyncParams,
  withQuery,
} from './notifications/notification-params';
import { Notifier } from './notifications/notifier';
import { SANDBOX_OPTIONS, type ResolvedSandboxOptions, type SandboxMerchant } from './sandbox-options';
import { SandboxStore, type RefundBatch, type SandboxNotification } from './store/sandbox-store';
import type { PaymentService, Trade } from './trades/trade';
import { applyTradeAction, refundRecord, type Shipment, type TradeAction } from './trades/trade-machine';

/** Tags of the notifications the chaos adds (as opposed to those of real changes). */
const CHAOS_COPIES: ReadonlySet<string> = new Set(['stale', 'finished-after-refund']);

/**
 * How long a return_url notify_id answers `true` (docs/alipay-protocol.md, "notify_verify": about a minute).
 */
export const RETURN_NOTIFY_ID_TTL_MS = 60_000;

/** What acting on a trade did. */
export interface ActionResult {
  readonly trade: Trade;
  readonly notifications: readonly SandboxNotification[];
  /** For a payment: where the buyer's browser goes next (return_url with the signed parameters). */
  readonly returnUrl?: string;
}

/** A failure with Alipay's code; `status` is the HTTP status of the JSON control API. */
export interface SandboxFailure {
  readonly ok: false;
  readonly code: string;
  readonly detail: string;
  readonly status: 404 | 409 | 400;
}

const failure = (code: string, detail: string, status: SandboxFailure['status'] = 409): SandboxFailure => ({
  ok: false,
  code,
  detail,
  status,
});

/**
 * Alipay's side of the classic API: trades created by payment requests and moved by the buyer's, the
 * seller's and Alipay's actions; batch refunds; and a notification for every change (docs/alipay-protocol.md,
 * "Statuses" and "Batch refunds").
 */
@Injectable()
export class Sandbox {
  constructor(
    @Inject(SANDBOX_OPTIONS) private readonly options: ResolvedSandboxOptions,
    private readonly store: SandboxStore,
    private readonly notifier: Notifier,
    private readonly chaos: ChaosControl,
  ) {}

  private now(): Date {
    return this.options.clock();
  }

  private merchant(partner: string): SandboxMerchant {
    const merchant = this.options.merchants.get(partner);
    if (merchant === undefined) throw new Error(`unknown partner ${partner}`);
    return merchant;
  }

  /**
   * `single_trade_query` (docs/alipay-protocol.md, "Trade query"): the trade as it stands, by `trade_no`
   * (which wins when both are given) or `out_trade_no`, signed with the request's sign type over the
   * `<trade>` fields in the request's `_input_charset`; `F` + `TRADE_IS_NOT_EXIST` for a trade this partner
   * does not have. Answers whatever the chaos does to notifications.
   */
  queryTrade(request: VerifiedRequest<'single_trade_query'>): { body: Buffer; contentType: string } {
    const { charset, params, merchant } = request;
    const contentType = `text/xml; charset=${charset === 'gbk' ? 'GBK' : 'utf-8'}`;
    const tradeNo = params.trade_no;
    const outTradeNo = params.out_trade_no;
    if ((tradeNo ?? '') === '' && (outTradeNo ?? '') === '') {
      return { body: formatGatewayErrorReply('ILLEGAL_ARGUMENT', charset), contentType };
    }
    const found =
      tradeNo !== undefined && tradeNo !== ''
        ? this.store.trade(tradeNo)
        : this.store.tradeByOrder(merchant.partner, outTradeNo ?? '');
    if (found === undefined || found.partner !== merchant.partner) {
      return { body: formatGatewayErrorReply('TRADE_IS_NOT_EXIST', charset), contentType };
    }
    const answer = formatSingleTradeQueryReply({
      request: Object.entries(params).map(([name, value]) => ({ name, value })),
      trade: tradeQueryFields(found, merchant),
      charset,
      signingKey: notificationKey(merchant, request.signType),
    });
    // A trade placed in UTF-8 may hold text GBK cannot, and a GBK query is answered and signed in GBK: no
    // answer can be written then (what Alipay does is not known; docs/sandbox.md, "gateway.do").
    if (!answer.ok) return { body: formatGatewayErrorReply('ILLEGAL_ENCODING', charset), contentType };
    return { body: answer.value, contentType };
  }

  /**
   * A payment request: a new trade waiting for payment (escrow trades notify `WAIT_BUYER_PAY`, instant ones
   * do not: docs/alipay-protocol.md, "Instant trades"), or the same trade again when the terms are the same.
   * Other terms for the same out_trade_no are `TRADE_DATA_MATCH_ERROR`; a trade no longer waiting is
   * `TRADE_NOT_ALLOWED_PAY`.
   */
  receivePayment(request: VerifiedRequest<PaymentService>): Reading<Trade> {
    const read = readPaymentRequest(request.service, request.params, request.merchant);
    if (!read.ok) return read;
    const { terms, channels } = read.value;
    const partner = request.merchant.partner;
    const existing = this.store.tradeByOrder(partner, terms.outTradeNo);
    if (existing !== undefined) {
      const differing = differingTerms(existing.terms, terms);
      if (differing.length > 0) {
        return refused(
          'TRADE_DATA_MATCH_ERROR',
          `out_trade_no ${terms.outTradeNo} was placed with other data: ${differing.join(', ')} differ`,
        );
      }
      if (existing.tradeStatus !== 'WAIT_BUYER_PAY') {
        return refused('TRADE_NOT_ALLOWED_PAY', `trade ${existing.tradeNo} is ${existing.tradeStatus}`);
      }
      const updated = { ...existing, channels };
      this.store.saveTrade(updated);
      return { ok: true, value: updated };
    }
    const now = this.now();
    const trade: Trade = {
      partner,
      tradeNo: this.store.newTradeNo(now),
      terms,
      channels,
      charset: request.charset,
      signType: request.signType,
      tradeStatus: 'WAIT_BUYER_PAY',
      refundedFee: 0,
      gmtCreate: now,
    };
    this.store.addTrade(trade);
    if (terms.service === 'trade_create_by_buyer') this.notifyTrade(trade, []);
    return { ok: true, value: trade };
  }

  trade(tradeNo: string): Trade | undefined {
    return this.store.trade(tradeNo);
  }

  /** Every trade, the newest first (the home page). */
  tradesNewestFirst(): Trade[] {
    return this.store.listTrades().reverse();
  }

  /** Acts on a trade as its buyer, its seller or Alipay would; a change is notified. */
  act(tradeNo: string, action: TradeAction, shipment?: Shipment): ActionResult | SandboxFailure {
    const trade = this.store.trade(tradeNo);
    if (trade === undefined) return failure('TRADE_NOT_EXIST', `no trade ${tradeNo}`, 404);
    const now = this.now();
    const outcome = applyTradeAction(trade, action, now, shipment);
    if (!outcome.ok) return failure(outcome.code, outcome.message);
    this.store.saveTrade(outcome.trade);
    const notifications = this.notifyTrade(outcome.trade, []);
    const paid = action === 'pay-instant' || action === 'pay-escrow';
    const returnUrl = paid ? this.returnUrl(outcome.trade) : undefined;
    return { trade: outcome.trade, notifications, ...(returnUrl === undefined ? {} : { returnUrl }) };
  }

  /** `send_goods_confirm_by_platform`: the seller ships an escrow trade. */
  shipByPlatform(request: VerifiedRequest<'send_goods_confirm_by_platform'>): Reading<Trade> {
    const { params, merchant } = request;
    const tradeNo = params.trade_no ?? '';
    const trade = this.store.trade(tradeNo);
    if (trade === undefined) return refused('TRADE_NOT_EXIST', `no trade ${JSON.stringify(tradeNo)}`);
    if (trade.partner !== merchant.partner) {
      return refused('TRADE_SELLER_NOT_MATCH', `trade ${tradeNo} is not partner ${merchant.partner}'s`);
    }
    const logisticsName = params.logistics_name;
    const transportType = params.transport_type;
    if (!logisticsName || !transportType) {
      return refused('ILLEGAL_ARGUMENT', 'logistics_name and transport_type are required');
    }
    const shipment: Shipment = {
      logisticsName,
      transportType,
      ...(params.invoice_no ? { invoiceNo: params.invoice_no } : {}),
    };
    const result = this.act(tradeNo, 'ship', shipment);
    return 'ok' in result ? refused(result.code, result.detail) : { ok: true, value: result.trade };
  }

  /**
   * A batch refund request. nopwd: processed at once (the XML says accepted, the results come by
   * notification). pwd: waits for the merchant's confirmation on the sandbox's page; the same request again
   * shows the same page. A batch_no used before is `DUPLICATE_BATCH_NO` (docs/alipay-protocol.md,
   * "batch_no").
   */
  receiveRefund(
    request: VerifiedRequest<'refund_fastpay_by_platform_pwd' | 'refund_fastpay_by_platform_nopwd'>,
  ): Reading<RefundBatch> {
    const service: RefundService = request.service === 'refund_fastpay_by_platform_pwd' ? 'pwd' : 'nopwd';
    const now = this.now();
    const read = readRefundRequest(service, request.params, request.merchant, now);
    if (!read.ok) return read;
    const draft = read.value;
    const partner = request.merchant.partner;
    const existing = this.store.batch(partner, draft.batchNo);
    if (existing !== undefined) {
      const same =
        existing.state === 'awaiting_confirmation' &&
        existing.service === service &&
        JSON.stringify(existing.records) === JSON.stringify(draft.records) &&
        existing.notifyUrl === draft.notifyUrl;
      return same
        ? { ok: true, value: existing }
        : refused('DUPLICATE_BATCH_NO', `batch_no ${draft.batchNo} was used before`);
    }
    const batch: RefundBatch = {
      partner,
      batchNo: draft.batchNo,
      service,
      charset: request.charset,
      signType: request.signType,
      refundDate: draft.refundDate,
      records: draft.records,
      ...(draft.notifyUrl === undefined ? {} : { notifyUrl: draft.notifyUrl }),
      state: 'awaiting_confirmation',
      receivedAt: now,
    };
    this.store.saveBatch(batch);
    return { ok: true, value: service === 'nopwd' ? this.processBatch(batch) : batch };
  }

  batch(partner: string, batchNo: string): RefundBatch | undefined {
    return this.store.batch(partner, batchNo);
  }

  /** The merchant's decision on a password refund's page. */
  decidePwdBatch(partner: string, batchNo: string, confirm: boolean): RefundBatch | SandboxFailure {
    const batch = this.store.batch(partner, batchNo);
    if (batch === undefined) return failure('BATCH_NOT_EXIST', `no batch ${batchNo}`, 404);
    if (batch.state !== 'awaiting_confirmation') {
      return failure('DUPLICATE_BATCH_NO', `batch ${batchNo} is already ${batch.state}`);
    }
    if (confirm) return this.processBatch(batch);
    const cancelled: RefundBatch = { ...batch, state: 'cancelled' };
    this.store.saveBatch(cancelled);
    return cancelled;
  }

  /**
   * Refunds each record, then notifies: `batch_refund_notify` with result_details to the batch's
   * notify_url, and a `trade_status_sync` with refund_status for each refunded trade
   * (docs/alipay-protocol.md, "Order of arrival").
   */
  private processBatch(batch: RefundBatch): RefundBatch {
    const now = this.now();
    const failures = this.chaos.settings.refundFailures;
    const refunded: { before: Trade; after: Trade }[] = [];
    const results: RefundResult[] = batch.records.map((record) => {
      const before = this.store.trade(record.tradeNo);
      const outcome = refundRecord(before, batch.partner, record.amount, now);
      let code = outcome.code;
      if (outcome.trade !== undefined && before !== undefined) {
        const forced =
          (failures?.tradeNos ?? []).includes(record.tradeNo) ||
          this.options.random() < (failures?.ratio ?? 0);
        if (forced) {
          code = failures?.code ?? 'SELLER_BALANCE_NOT_ENOUGH';
        } else {
          this.store.saveTrade(outcome.trade);
          refunded.push({ before, after: outcome.trade });
        }
      }
      return { tradeNo: record.tradeNo, amount: record.amount, code };
    });
    const successNum = results.filter((result) => result.code === 'SUCCESS').length;
    const processed: RefundBatch = { ...batch, state: 'processed', processedAt: now, results, successNum };
    this.store.saveBatch(processed);

    const details = formatResultDetails(results);
    if (batch.notifyUrl !== undefined && details.ok) {
      const notifyId = this.store.newNotifyId();
      this.notifier.enqueue({
        notifyId,
        kind: 'batch_refund_notify',
        partner: batch.partner,
        url: batch.notifyUrl,
        charset: batch.charset,
        signType: batch.signType,
        params: batchRefundNotifyParams(batch.batchNo, successNum, details.value, notifyId),
        batchNo: batch.batchNo,
        tags: [],
      });
    }
    for (const { after } of refunded) {
      this.notifyTrade(after, []);
      if (this.chaos.settings.finishedAfterRefund === true) {
        // docs/alipay-protocol.md, "Instant trades" (helei112g/payment#67): TRADE_FINISHED still arrives
        // after a refund. Only the notification says so; the sandbox's trade is left as the refund made it.
        this.enqueueTradeNotification({ ...after, tradeStatus: 'TRADE_FINISHED', gmtClose: now }, [
          'finished-after-refund',
        ]);
      }
    }
    return processed;
  }

  /**
   * `notify_verify` (docs/alipay-protocol.md, "notify_verify"): `true`, `false`, or `invalid` for a request
   * without its parameters.
   */
  notifyVerify(params: Readonly<Record<string, string>>): 'true' | 'false' | 'invalid' {
    const partner = params.partner;
    const notifyId = params.notify_id;
    if (!partner || !notifyId || !this.options.merchants.has(partner)) return 'invalid';
    return this.store.isNotifyIdValid(partner, notifyId, this.now()) ? 'true' : 'false';
  }

  /**
   * The return_url redirect of a paid trade, or undefined without a return_url: signed, in the merchant's
   * charset, with a fresh notify_id that `notify_verify` confirms for a minute (docs/alipay-protocol.md,
   * "notify_verify" and "Return URL").
   */
  returnUrl(trade: Trade): string | undefined {
    const returnUrl = trade.channels.returnUrl;
    if (returnUrl === undefined) return undefined;
    const merchant = this.merchant(trade.partner);
    const now = this.now();
    const notifyId = this.store.newReturnNotifyId();
    this.store.registerReturnNotifyId(
      notifyId,
      trade.partner,
      new Date(now.getTime() + RETURN_NOTIFY_ID_TTL_MS),
    );
    const form = signAndEncode(
      returnParams(trade, merchant, notifyId, now),
      trade.charset,
      notificationKey(merchant, trade.signType),
    );
    if (!form.ok)
      throw new Error(`the return of ${trade.tradeNo} cannot be signed: ${form.errors[0]?.message}`);
    return withQuery(returnUrl, form.value.text);
  }

  /** The trade's new state to its notify_url, and with the stale chaos the state before it again. */
  private notifyTrade(trade: Trade, tags: string[]): SandboxNotification[] {
    const earlier = this.store
      .tradeNotifications(trade.tradeNo)
      .filter((n) => !n.tags.some((tag) => CHAOS_COPIES.has(tag)))
      .at(-1);
    const sent = this.enqueueTradeNotification(trade, tags);
    if (sent === undefined) return [];
    if (this.chaos.settings.staleStatuses !== true || earlier === undefined) return [sent];
    // The older status again, as a new notification (its own notify_id) sent after the newer one.
    const notifyId = this.store.newNotifyId();
    const stale = this.notifier.enqueue({
      notifyId,
      kind: earlier.kind,
      partner: earlier.partner,
      url: earlier.url,
      charset: earlier.charset,
      signType: earlier.signType,
      params: earlier.params.map((p): TextParam =>
        p.name === 'notify_id' ? { name: p.name, value: notifyId } : p,
      ),
      ...(earlier.tradeNo === undefined ? {} : { tradeNo: earlier.tradeNo }),
      ...(earlier.outTradeNo === undefined ? {} : { outTradeNo: earlier.outTradeNo }),
      ...(earlier.tradeStatus === undefined ? {} : { tradeStatus: earlier.tradeStatus }),
      ...(earlier.refundStatus === undefined ? {} : { refundStatus: earlier.refundStatus }),
      tags: ['stale'],
    });
    return [sent, stale];
  }

  private enqueueTradeNotification(trade: Trade, tags: string[]): SandboxNotification | undefined {
    const url = trade.channels.notifyUrl;
    if (url === undefined) return undefined;
    const notifyId = this.store.newNotifyId();
    return this.notifier.enqueue({
      notifyId,
      kind: 'trade_status_sync',
      partner: trade.partner,
      url,
      charset: trade.charset,
      signType: trade.signType,
      params: tradeStatusSyncParams(trade, this.merchant(trade.partner), notifyId),
      tradeNo: trade.tradeNo,
      outTradeNo: trade.terms.outTradeNo,
      tradeStatus: trade.tradeStatus,
      ...(trade.refundStatus === undefined ? {} : { refundStatus: trade.refundStatus }),
      tags,
    });
  }
}
