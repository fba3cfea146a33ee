import {
  encodeForm,
  formatBeijingTime,
  formatYuan,
  signParams,
  type Charset,
  type Result,
  type SignType,
  type SigningKey,
  type TextParam,
} from '@ledger/alipay-protocol';
import type { SandboxMerchant } from '../sandbox-options';
import type { Trade } from '../trades/trade';

// The parameters of what Alipay sends back (docs/alipay-protocol.md, "Trade notification fields",
// "Raw bodies", "Batch refund results", "Return URL" and "Escrow fields"), and how it signs and encodes them:
// signed over the text in the merchant's charset, form-encoded in that charset's bytes with `+` for spaces.

/** The seller account shown when neither the merchant nor the request named one. */
export const DEFAULT_SELLER_EMAIL = 'seller@example.com';

type Entries = readonly (readonly [string, string | undefined])[];

function toParams(entries: Entries): TextParam[] {
  return entries
    .filter((entry): entry is readonly [string, string] => entry[1] !== undefined && entry[1] !== '')
    .map(([name, value]) => ({ name, value }));
}

const time = (instant: Date | undefined) => (instant === undefined ? undefined : formatBeijingTime(instant));

// docs/alipay-protocol.md, "Escrow fields": what each side may do next, as observed on escrow trades; absent
// otherwise (inferred).
function actionsOf(trade: Trade): { buyer?: string; seller?: string } {
  if (trade.paymentType !== 'escrow') return {};
  if (trade.tradeStatus === 'WAIT_SELLER_SEND_GOODS') return { buyer: 'REFUND', seller: 'SEND_GOODS' };
  if (trade.tradeStatus === 'WAIT_BUYER_CONFIRM_GOODS') {
    return { buyer: 'REFUND,CONFIRM_GOODS', seller: 'EXTEND_TIMEOUT' };
  }
  return {};
}

function sellerEmailOf(trade: Trade, merchant: SandboxMerchant): string {
  return trade.terms.sellerEmail ?? merchant.sellerEmail ?? DEFAULT_SELLER_EMAIL;
}

function logisticsEntries(trade: Trade): Entries {
  const { logistics, receiver } = trade.terms;
  if (logistics === undefined) return [];
  const actions = actionsOf(trade);
  return [
    ['logistics_type', logistics.type],
    ['logistics_fee', formatYuan(logistics.fee)],
    ['logistics_payment', logistics.payment],
    ['receive_name', receiver?.name],
    ['receive_address', receiver?.address],
    ['receive_zip', receiver?.zip],
    ['receive_phone', receiver?.phone],
    ['receive_mobile', receiver?.mobile],
    ['gmt_logistics_modify', time(trade.gmtCreate)],
    ['gmt_send_goods', time(trade.gmtSendGoods)],
    ['buyer_actions', actions.buyer],
    ['seller_actions', actions.seller],
  ];
}

/**
 * A `trade_status_sync` notification of the trade as it is now, without notify_time (set at each attempt)
 * and the signature (docs/alipay-protocol.md, "Trade notification fields" and "Escrow fields").
 */
export function tradeStatusSyncParams(
  trade: Trade,
  merchant: SandboxMerchant,
  notifyId: string,
): TextParam[] {
  const { terms } = trade;
  return toParams([
    ['notify_type', 'trade_status_sync'],
    ['notify_id', notifyId],
    ['out_trade_no', terms.outTradeNo],
    ['subject', terms.subject],
    ['payment_type', '1'],
    ['trade_no', trade.tradeNo],
    ['trade_status', trade.tradeStatus],
    ['gmt_create', time(trade.gmtCreate)],
    ['gmt_payment', time(trade.gmtPayment)],
    ['gmt_close', time(trade.gmtClose)],
    ['refund_status', trade.refundStatus],
    ['gmt_refund', time(trade.gmtRefund)],
    ['seller_email', sellerEmailOf(trade, merchant)],
    ['buyer_email', trade.buyerEmail],
    ['seller_id', terms.sellerId],
    ['buyer_id', trade.buyerId],
    ['price', formatYuan(terms.price)],
    ['total_fee', formatYuan(terms.totalFee)],
    ['quantity', String(terms.quantity)],
    ['body', terms.body],
    ['discount', '0.00'],
    ['is_total_fee_adjust', 'N'],
    ['use_coupon', 'N'],
    ['extra_common_param', terms.extraCommonParam],
    ...logisticsEntries(trade),
  ]);
}

/**
 * The parameters of the return_url redirect (docs/alipay-protocol.md, "Return URL" and "Escrow fields"):
 * `is_success=T`, the trade as it is, and a return notify_id that is signed in its once-encoded form.
 */
export function returnParams(
  trade: Trade,
  merchant: SandboxMerchant,
  notifyId: string,
  now: Date,
): TextParam[] {
  const { terms } = trade;
  const dual = terms.service === 'trade_create_by_buyer';
  return toParams([
    ['is_success', 'T'],
    ['exterface', dual ? undefined : terms.service],
    ['notify_id', notifyId],
    ['notify_time', formatBeijingTime(now)],
    ['notify_type', 'trade_status_sync'],
    ['out_trade_no', terms.outTradeNo],
    ['payment_type', '1'],
    ['subject', terms.subject],
    ['body', terms.body],
    ['trade_no', trade.tradeNo],
    ['trade_status', trade.tradeStatus],
    ['seller_email', sellerEmailOf(trade, merchant)],
    ['seller_id', terms.sellerId],
    ['buyer_email', trade.buyerEmail],
    ['buyer_id', trade.buyerId],
    ['total_fee', formatYuan(terms.totalFee)],
    ['extra_common_param', terms.extraCommonParam],
    ...(dual
      ? ([
          ['price', formatYuan(terms.price)],
          ['quantity', String(terms.quantity)],
          ['discount', '0.00'],
          ['is_total_fee_adjust', 'N'],
          ['use_coupon', 'N'],
          ['gmt_create', time(trade.gmtCreate)],
          ['gmt_payment', time(trade.gmtPayment)],
          ...logisticsEntries(trade),
        ] as Entries)
      : []),
  ]);
}

/**
 * The `<trade>` fields of a `single_trade_query` answer: the trade as it stands now
 * (docs/alipay-protocol.md, "Trade query"). Booleans are `T`/`F` here where notifications say `Y`/`N`; the
 * amounts paid back to the buyer and on to the seller follow the trade's refunds (inferred: Alipay's
 * samples show them, no document defines them).
 */
export function tradeQueryFields(trade: Trade, merchant: SandboxMerchant): TextParam[] {
  const { terms } = trade;
  const paid = trade.gmtPayment !== undefined;
  const settled =
    paid && (trade.paymentType !== 'escrow' || trade.tradeStatus === 'TRADE_FINISHED')
      ? terms.totalFee - trade.refundedFee
      : 0;
  const changes = [trade.gmtCreate, trade.gmtPayment, trade.gmtSendGoods, trade.gmtRefund, trade.gmtClose]
    .filter((instant): instant is Date => instant !== undefined)
    .map((instant) => instant.getTime());
  return toParams([
    ['out_trade_no', terms.outTradeNo],
    ['trade_no', trade.tradeNo],
    ['trade_status', trade.tradeStatus],
    ['subject', terms.subject],
    ['body', terms.body],
    ['payment_type', '1'],
    ['seller_email', sellerEmailOf(trade, merchant)],
    ['seller_id', terms.sellerId],
    ['buyer_email', trade.buyerEmail],
    ['buyer_id', trade.buyerId],
    ['price', formatYuan(terms.price)],
    ['quantity', String(terms.quantity)],
    ['total_fee', formatYuan(terms.totalFee)],
    ['discount', '0.00'],
    ['coupon_used_fee', '0.00'],
    ['is_total_fee_adjust', 'F'],
    ['use_coupon', 'F'],
    ['flag_trade_locked', '0'],
    ['operator_role', 'B'],
    ['gmt_create', time(trade.gmtCreate)],
    ['gmt_payment', time(trade.gmtPayment)],
    ['gmt_send_goods', time(trade.gmtSendGoods)],
    ['gmt_close', time(trade.gmtClose)],
    ['gmt_refund', time(trade.gmtRefund)],
    ['gmt_last_modified_time', time(new Date(Math.max(...changes)))],
    ['refund_status', trade.refundStatus],
    ['refund_fee', trade.refundedFee > 0 ? formatYuan(trade.refundedFee) : undefined],
    ['to_buyer_fee', formatYuan(trade.refundedFee)],
    ['to_seller_fee', formatYuan(settled)],
  ]);
}

/**
 * A `batch_refund_notify` (docs/alipay-protocol.md, "Batch refund results"), without notify_time and the
 * signature.
 */
export function batchRefundNotifyParams(
  batchNo: string,
  successNum: number,
  resultDetails: string,
  notifyId: string,
): TextParam[] {
  return toParams([
    ['notify_type', 'batch_refund_notify'],
    ['notify_id', notifyId],
    ['batch_no', batchNo],
    ['success_num', String(successNum)],
    ['result_details', resultDetails],
  ]);
}

/** The key the sandbox signs a merchant's notifications with: its MD5 key, or Alipay's RSA private key. */
export function notificationKey(merchant: SandboxMerchant, signType: SignType): SigningKey {
  if (signType === 'RSA') {
    if (merchant.rsa === undefined) throw new Error(`partner ${merchant.partner} has no RSA keys`);
    return { signType: 'RSA', privateKey: merchant.rsa.alipayPrivateKeyPem };
  }
  const md5Key = merchant.md5Keys?.[0];
  if (md5Key === undefined) throw new Error(`partner ${merchant.partner} has no MD5 key`);
  return { signType: 'MD5', md5Key };
}

/** Signed, encoded parameters: a POST body or a query string. */
export interface EncodedForm {
  /** ASCII: every other byte is percent-encoded, spaces are `+`. */
  readonly text: string;
  readonly params: readonly TextParam[];
}

/**
 * Signs and form-encodes parameters as Alipay's notifier does: empty values left out, signed over the
 * charset's bytes, every byte that is not unreserved percent-encoded, `+` for a space
 * (docs/alipay-protocol.md, "Decoding pitfalls").
 */
export function signAndEncode(
  params: readonly TextParam[],
  charset: Charset,
  key: SigningKey,
): Result<EncodedForm> {
  const signed = signParams(params, charset, key);
  if (!signed.ok) return signed;
  const encoded = encodeForm(signed.value.params, charset);
  if (!encoded.ok) return encoded;
  // encodeForm writes a space as %20 and never leaves a literal `%` or `+`: the swap is exact.
  return { ok: true, value: { text: encoded.value.replace(/%20/g, '+'), params: signed.value.params } };
}

/**
 * The Content-Type of Alipay's notifications: malformed, as it comes (docs/alipay-protocol.md, "Raw bodies").
 */
export function notificationContentType(charset: Charset): string {
  return `application/x-www-form-urlencoded; text/html; charset=${charset === 'gbk' ? 'GBK' : 'UTF-8'}`;
}

/** Appends a query to a URL that may already have one. */
export function withQuery(url: string, query: string): string {
  const hash = url.indexOf('#');
  const base = hash === -1 ? url : url.slice(0, hash);
  return `${base}${base.includes('?') ? '&' : '?'}${query}`;
}
