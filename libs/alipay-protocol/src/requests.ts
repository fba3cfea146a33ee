import { buildDetailData, parseBatchNo, type RefundDetail } from './batch-refund';
import { formatBeijingTime } from './beijing-time';
import { encodeText, type Charset } from './charset';
import { fail, failWith, ok, quote, type ProtocolError, type Result } from './errors';
import { encodeForm, percentEncodeBytes, type TextParam } from './form-encoding';
import { formatYuan, isRequestAmount } from './money';
import { signParams, type SigningKey } from './signing';

// Signed requests to the classic gateway (docs/alipay-protocol.md, "Services" and "Signing" and
// "Batch refund requests"). This module only builds them: the HTTP calls belong to the gateway client. Values
// are signed and percent-encoded in the merchant's charset (docs/alipay-protocol.md, "Signed bytes"), and a
// POST form carries `_input_charset` on its action URL too, or Alipay decodes the body in the wrong charset
// and answers ILLEGAL_SIGN (docs/alipay-protocol.md, "Signed bytes", pingpp-js#23).

export const ALIPAY_GATEWAY = 'https://mapi.alipay.com/gateway.do';

export interface MerchantConfig {
  /** The partner id: 16 digits (`2088…` for real accounts). */
  readonly partner: string;
  /** The `_input_charset` of every request, and the charset its values are encoded in. */
  readonly charset: Charset;
  readonly signingKey: SigningKey;
  /** Defaults to `ALIPAY_GATEWAY`; a sandbox gateway in tests and demos. */
  readonly gateway?: string;
}

export interface SignedRequest {
  readonly service: string;
  /** Every parameter sent, `sign` and `sign_type` last. */
  readonly params: readonly TextParam[];
  /** The string that was signed (no key in it), for logs. */
  readonly preSign: string;
  /** GET form: the gateway with every parameter in the query. */
  readonly url: string;
  /** POST form: the gateway with `?_input_charset=` so that Alipay reads the body in the right charset. */
  readonly formAction: string;
  /** POST body, `application/x-www-form-urlencoded`, percent-encoded bytes of the charset. */
  readonly formBody: string;
  readonly formContentType: string;
  readonly charset: Charset;
}

const PARTNER = /^[0-9]{16}$/;
const OUT_TRADE_NO = /^[\x21-\x7e]{1,64}$/;
const URL = /^https?:\/\/[^\s]+$/;
const TIMEOUT = /^(?:[1-9][0-9]*[mhd]|1c)$/;
const MAX_SUBJECT_BYTES = 256;
const MAX_BODY_CHARS = 1000;

/** Collects validation errors; every check names the Alipay parameter. */
class Checks {
  readonly errors: ProtocolError[] = [];

  add(code: ProtocolError['code'], field: string, message: string): void {
    this.errors.push({ code, field, message });
  }

  required(field: string, value: string | undefined): value is string {
    if (typeof value !== 'string' || value === '') {
      this.add('MISSING_FIELD', field, `${field} is required`);
      return false;
    }
    return true;
  }

  pattern(field: string, value: string | undefined, pattern: RegExp, what: string): void {
    if (value !== undefined && (typeof value !== 'string' || !pattern.test(value))) {
      this.add('INVALID_PARAMETER', field, `${quote(String(value))} is not ${what}`);
    }
  }

  url(field: string, value: string | undefined): void {
    this.pattern(field, value, URL, 'an absolute http(s) URL');
  }

  amount(field: string, fen: number | undefined, allowZero = false): string | undefined {
    if (fen === undefined) return undefined;
    if (!isRequestAmount(fen, allowZero)) {
      this.add(
        'AMOUNT_OUT_OF_RANGE',
        field,
        `${String(fen)} is not integer fen in [${allowZero ? 0 : 1}, 10000000000]`,
      );
      return undefined;
    }
    return formatYuan(fen);
  }

  bytes(field: string, value: string | undefined, charset: Charset, max: number): void {
    if (typeof value !== 'string') return;
    const encoded = encodeText(value, charset, field);
    if (!encoded.ok) this.errors.push(...encoded.errors);
    else if (encoded.value.length > max) this.add('TOO_LONG', field, `at most ${max} bytes in ${charset}`);
  }

  oneOf<T extends string>(field: string, value: T | undefined, allowed: readonly T[]): void {
    if (value !== undefined && !allowed.includes(value)) {
      this.add('INVALID_PARAMETER', field, `${quote(String(value))} is not one of ${allowed.join(', ')}`);
    }
  }
}

function checkMerchant(checks: Checks, config: MerchantConfig): string {
  checks.pattern('partner', config.partner, PARTNER, '16 digits');
  const gateway = config.gateway ?? ALIPAY_GATEWAY;
  checks.pattern('gateway', gateway, /^https?:\/\/[^\s?#]+$/, 'an http(s) URL without query');
  return gateway;
}

type Entries = readonly (readonly [string, string | undefined])[];

function signRequest(
  config: MerchantConfig,
  gateway: string,
  service: string,
  entries: Entries,
): Result<SignedRequest> {
  const params: TextParam[] = [
    { name: 'service', value: service },
    { name: 'partner', value: config.partner },
    { name: '_input_charset', value: config.charset },
  ];
  for (const [name, value] of entries) if (value !== undefined) params.push({ name, value });
  const signed = signParams(params, config.charset, config.signingKey);
  if (!signed.ok) return signed;
  const body = encodeForm(signed.value.params, config.charset);
  if (!body.ok) return body;
  return ok({
    service,
    params: signed.value.params,
    preSign: signed.value.preSign,
    url: `${gateway}?${body.value}`,
    formAction: `${gateway}?_input_charset=${config.charset}`,
    formBody: body.value,
    formContentType: `application/x-www-form-urlencoded; charset=${config.charset}`,
    charset: config.charset,
  });
}

function finish(
  checks: Checks,
  config: MerchantConfig,
  gateway: string,
  service: string,
  entries: Entries,
): Result<SignedRequest> {
  return checks.errors.length > 0 ? failWith(checks.errors) : signRequest(config, gateway, service, entries);
}

/** Who receives the money: `seller_id` (default: the partner) or `seller_email`. */
export interface Seller {
  readonly sellerId?: string;
  readonly sellerEmail?: string;
}

interface CommonOrder extends Seller {
  /** The merchant's order number, ≤ 64 printable ASCII characters, unique per order. */
  readonly outTradeNo: string;
  /** ≤ 256 bytes in the request charset. */
  readonly subject: string;
  /** ≤ 1000 characters. */
  readonly body?: string;
  readonly showUrl?: string;
  readonly notifyUrl?: string;
  readonly returnUrl?: string;
}

function checkOrder(checks: Checks, order: CommonOrder, config: MerchantConfig): void {
  if (checks.required('out_trade_no', order.outTradeNo)) {
    checks.pattern('out_trade_no', order.outTradeNo, OUT_TRADE_NO, 'at most 64 printable ASCII characters');
  }
  if (checks.required('subject', order.subject))
    checks.bytes('subject', order.subject, config.charset, MAX_SUBJECT_BYTES);
  if (order.body !== undefined && [...order.body].length > MAX_BODY_CHARS) {
    checks.add('TOO_LONG', 'body', `at most ${MAX_BODY_CHARS} characters`);
  }
  checks.url('show_url', order.showUrl);
  checks.url('notify_url', order.notifyUrl);
  checks.url('return_url', order.returnUrl);
  checks.pattern('seller_id', order.sellerId, PARTNER, '16 digits');
  if (order.sellerId !== undefined && order.sellerEmail !== undefined) {
    checks.add('INVALID_PARAMETER', 'seller_email', 'give seller_id or seller_email, not both');
  }
}

function orderEntries(order: CommonOrder, config: MerchantConfig): [string, string | undefined][] {
  return [
    ['out_trade_no', order.outTradeNo],
    ['subject', order.subject],
    ['payment_type', '1'],
    ['body', order.body],
    ['show_url', order.showUrl],
    ['notify_url', order.notifyUrl],
    ['return_url', order.returnUrl],
    ['seller_id', order.sellerEmail === undefined ? (order.sellerId ?? config.partner) : undefined],
    ['seller_email', order.sellerEmail],
  ];
}

/** `create_direct_pay_by_user` (instant payment): either `totalFee`, or `price` and `quantity`. */
export interface DirectPayOrder extends CommonOrder {
  /** Fen. */
  readonly totalFee?: number;
  /** Fen. */
  readonly price?: number;
  readonly quantity?: number;
  /**
   * Passed back in the notification; must not contain `=` or `&` (docs/alipay-protocol.md,
   * "Trade notification fields").
   */
  readonly extraCommonParam?: string;
  /** Time before an unpaid trade closes: `1m`–`15d` (`m`, `h`, `d`) or `1c` (end of today). */
  readonly itBPay?: string;
  /** From `query_timestamp`, when anti-phishing is enabled. */
  readonly antiPhishingKey?: string;
  /** The buyer's IP, when anti-phishing checks it. */
  readonly exterInvokeIp?: string;
}

/** Signs a `create_direct_pay_by_user` request; use `url` for a redirect or `renderAutoSubmitForm` for POST. */
export function buildDirectPayRequest(config: MerchantConfig, order: DirectPayOrder): Result<SignedRequest> {
  const checks = new Checks();
  const gateway = checkMerchant(checks, config);
  checkOrder(checks, order, config);
  const byTotal = order.totalFee !== undefined;
  const byPrice = order.price !== undefined || order.quantity !== undefined;
  if (byTotal === byPrice) {
    checks.add('INVALID_PARAMETER', 'total_fee', 'give total_fee, or price and quantity (ILLEGAL_FEE_PARAM)');
  }
  const totalFee = checks.amount('total_fee', order.totalFee);
  const price = checks.amount('price', order.price);
  if (byPrice) checkQuantity(checks, order.quantity);
  if (order.extraCommonParam !== undefined && /[=&]/.test(order.extraCommonParam)) {
    checks.add('FORBIDDEN_CHARACTER', 'extra_common_param', 'must not contain = or &');
  }
  checks.pattern('it_b_pay', order.itBPay, TIMEOUT, '1m–15d or 1c');
  return finish(checks, config, gateway, 'create_direct_pay_by_user', [
    ...orderEntries(order, config),
    ['total_fee', totalFee],
    ['price', price],
    ['quantity', byPrice && order.quantity !== undefined ? String(order.quantity) : undefined],
    ['extra_common_param', order.extraCommonParam],
    ['it_b_pay', order.itBPay],
    ['anti_phishing_key', order.antiPhishingKey],
    ['exter_invoke_ip', order.exterInvokeIp],
  ]);
}

function checkQuantity(checks: Checks, quantity: number | undefined): void {
  if (quantity === undefined || !Number.isSafeInteger(quantity) || quantity < 1) {
    checks.add('INVALID_PARAMETER', 'quantity', `${String(quantity)} is not a whole number of at least 1`);
  }
}

export const LOGISTICS_TYPES = ['EXPRESS', 'POST', 'EMS', 'DIRECT'] as const;
export type LogisticsType = (typeof LOGISTICS_TYPES)[number];
export const LOGISTICS_PAYMENTS = ['SELLER_PAY', 'BUYER_PAY', 'BUYER_PAY_AFTER_RECEIVE'] as const;
export type LogisticsPayment = (typeof LOGISTICS_PAYMENTS)[number];

export interface Logistics {
  readonly type: LogisticsType;
  /** Fen; 0 allowed. */
  readonly fee: number;
  readonly payment: LogisticsPayment;
}

/** The consignee, echoed in the notifications (docs/alipay-protocol.md, "Escrow fields"). */
export interface Receiver {
  readonly name?: string;
  readonly address?: string;
  readonly zip?: string;
  readonly phone?: string;
  readonly mobile?: string;
}

/** `trade_create_by_buyer` (dual: escrow or instant, chosen by the buyer): price, quantity, logistics. */
export interface DualPayOrder extends CommonOrder {
  /** Fen. */
  readonly price: number;
  readonly quantity: number;
  readonly logistics: Logistics;
  readonly receiver?: Receiver;
}

/**
 * Signs a `trade_create_by_buyer` request (docs/alipay-protocol.md, "Escrow fields" and "MD5 examples" third
 * example).
 */
export function buildTradeCreateByBuyerRequest(
  config: MerchantConfig,
  order: DualPayOrder,
): Result<SignedRequest> {
  const checks = new Checks();
  const gateway = checkMerchant(checks, config);
  checkOrder(checks, order, config);
  const price = checks.amount('price', order.price);
  checkQuantity(checks, order.quantity);
  const logistics = order.logistics ?? ({} as Partial<Logistics>);
  if (checks.required('logistics_type', logistics.type))
    checks.oneOf('logistics_type', logistics.type, LOGISTICS_TYPES);
  if (checks.required('logistics_payment', logistics.payment)) {
    checks.oneOf('logistics_payment', logistics.payment, LOGISTICS_PAYMENTS);
  }
  const logisticsFee = checks.amount('logistics_fee', logistics.fee ?? Number.NaN, true);
  const receiver = order.receiver ?? {};
  return finish(checks, config, gateway, 'trade_create_by_buyer', [
    ...orderEntries(order, config),
    ['price', price],
    ['quantity', String(order.quantity)],
    ['logistics_type', logistics.type],
    ['logistics_fee', logisticsFee],
    ['logistics_payment', logistics.payment],
    ['receive_name', receiver.name],
    ['receive_address', receiver.address],
    ['receive_zip', receiver.zip],
    ['receive_phone', receiver.phone],
    ['receive_mobile', receiver.mobile],
  ]);
}

interface CommonRefund {
  /** `yyyyMMdd` of `refundDate` (Beijing) + 3–24 digits; unique for ever. */
  readonly batchNo: string;
  /** The instant of the request: `refund_date`, and the date of `batchNo`. */
  readonly refundDate: Date;
  readonly records: readonly RefundDetail[];
  readonly notifyUrl?: string;
}

function refundEntries(
  checks: Checks,
  config: MerchantConfig,
  refund: CommonRefund,
  service: 'pwd' | 'nopwd',
): [string, string | undefined][] {
  const validDate = refund.refundDate instanceof Date && !Number.isNaN(refund.refundDate.getTime());
  if (!validDate) checks.add('INVALID_PARAMETER', 'refund_date', 'not a valid date');
  const batchNo = parseBatchNo(refund.batchNo, validDate ? refund.refundDate : undefined);
  if (!batchNo.ok) checks.errors.push(...batchNo.errors);
  const detail = buildDetailData(refund.records ?? [], { service, charset: config.charset });
  if (!detail.ok) checks.errors.push(...detail.errors);
  checks.url('notify_url', refund.notifyUrl);
  return [
    ['notify_url', refund.notifyUrl],
    ['batch_no', refund.batchNo],
    ['refund_date', validDate ? formatBeijingTime(refund.refundDate) : undefined],
    ['batch_num', detail.ok ? String(detail.value.batchNum) : undefined],
    ['detail_data', detail.ok ? detail.value.detailData : undefined],
  ];
}

/** `refund_fastpay_by_platform_pwd`: the merchant confirms on Alipay's page; trade records only. */
export interface PwdRefund extends CommonRefund {
  /** Default: the partner. */
  readonly sellerUserId?: string;
  readonly sellerEmail?: string;
}

/**
 * Signs a password batch refund (docs/alipay-protocol.md, "Batch refund requests" and "MD5 examples" fifth
 * example); send the browser to `url`.
 */
export function buildRefundPwdRequest(config: MerchantConfig, refund: PwdRefund): Result<SignedRequest> {
  const checks = new Checks();
  const gateway = checkMerchant(checks, config);
  const entries = refundEntries(checks, config, refund, 'pwd');
  checks.pattern('seller_user_id', refund.sellerUserId, PARTNER, '16 digits');
  if (refund.sellerUserId !== undefined && refund.sellerEmail !== undefined) {
    checks.add('INVALID_PARAMETER', 'seller_email', 'give seller_user_id or seller_email, not both');
  }
  return finish(checks, config, gateway, 'refund_fastpay_by_platform_pwd', [
    ...entries,
    [
      'seller_user_id',
      refund.sellerEmail === undefined ? (refund.sellerUserId ?? config.partner) : undefined,
    ],
    ['seller_email', refund.sellerEmail],
  ]);
}

/** `refund_fastpay_by_platform_nopwd`: server to server, royalty and sub-trade parts allowed. */
export interface NopwdRefund extends CommonRefund {
  /** Where the 充退 (back to bank card) result is posted. */
  readonly dbackNotifyUrl?: string;
  /** `use_freeze_amount=Y`: refund from frozen funds. */
  readonly useFreezeAmount?: boolean;
}

/**
 * Signs a no-password batch refund (docs/alipay-protocol.md, "Batch refund requests"); POST `formBody` to
 * `formAction` and read the XML reply with `parseGatewayReply`. A timed-out call is retried with the same
 * `batchNo` (docs/alipay-protocol.md, "batch_no").
 */
export function buildRefundNopwdRequest(config: MerchantConfig, refund: NopwdRefund): Result<SignedRequest> {
  const checks = new Checks();
  const gateway = checkMerchant(checks, config);
  const entries = refundEntries(checks, config, refund, 'nopwd');
  checks.url('dback_notify_url', refund.dbackNotifyUrl);
  return finish(checks, config, gateway, 'refund_fastpay_by_platform_nopwd', [
    ...entries,
    ['dback_notify_url', refund.dbackNotifyUrl],
    [
      'use_freeze_amount',
      refund.useFreezeAmount === undefined ? undefined : refund.useFreezeAmount ? 'Y' : 'N',
    ],
    ['return_type', 'xml'],
  ]);
}

export const TRANSPORT_TYPES = ['POST', 'EXPRESS', 'EMS', 'DIRECT'] as const;
export type TransportType = (typeof TRANSPORT_TYPES)[number];

/** `send_goods_confirm_by_platform`: the seller shipped an escrow trade. */
export interface SendGoods {
  /** Alipay's trade number. */
  readonly tradeNo: string;
  /** The carrier's name. */
  readonly logisticsName: string;
  /** The waybill number; omit for `DIRECT` (no physical delivery). */
  readonly invoiceNo?: string;
  readonly transportType: TransportType;
  readonly sellerIp?: string;
}

/** Signs a shipping confirmation; POST `formBody` to `formAction`, the reply is XML. */
export function buildSendGoodsConfirmRequest(
  config: MerchantConfig,
  shipment: SendGoods,
): Result<SignedRequest> {
  const checks = new Checks();
  const gateway = checkMerchant(checks, config);
  checks.required('trade_no', shipment.tradeNo);
  checks.required('logistics_name', shipment.logisticsName);
  if (checks.required('transport_type', shipment.transportType)) {
    checks.oneOf('transport_type', shipment.transportType, TRANSPORT_TYPES);
  }
  if (shipment.transportType !== 'DIRECT' && shipment.invoiceNo === undefined) {
    checks.add('MISSING_FIELD', 'invoice_no', 'a waybill number is required unless transport_type is DIRECT');
  }
  return finish(checks, config, gateway, 'send_goods_confirm_by_platform', [
    ['trade_no', shipment.tradeNo],
    ['logistics_name', shipment.logisticsName],
    ['invoice_no', shipment.invoiceNo],
    ['transport_type', shipment.transportType],
    ['seller_ip', shipment.sellerIp],
  ]);
}

/**
 * `single_trade_query`: one trade, by Alipay's `trade_no` or the merchant's `out_trade_no` (when both are
 * given Alipay goes by `trade_no`, docs/alipay-protocol.md, "Trade query").
 */
export interface TradeQuery {
  readonly outTradeNo?: string;
  readonly tradeNo?: string;
}

const TRADE_NO = /^[0-9]{16,64}$/;

/**
 * Signs a `single_trade_query` (docs/alipay-protocol.md, "Trade query"): `service`, `partner`,
 * `_input_charset`, `trade_no` and/or `out_trade_no`. Send it as a GET of `url` or a POST of `formBody` to
 * `formAction`; read the answer with `parseSingleTradeQueryReply` in the same charset.
 */
export function buildSingleTradeQueryRequest(
  config: MerchantConfig,
  query: TradeQuery,
): Result<SignedRequest> {
  const checks = new Checks();
  const gateway = checkMerchant(checks, config);
  const { outTradeNo, tradeNo } = query ?? {};
  if ((outTradeNo === undefined || outTradeNo === '') && (tradeNo === undefined || tradeNo === '')) {
    checks.add('MISSING_FIELD', 'out_trade_no', 'give out_trade_no or trade_no');
  }
  if (outTradeNo !== '') {
    checks.pattern('out_trade_no', outTradeNo, OUT_TRADE_NO, 'at most 64 printable ASCII characters');
  }
  if (tradeNo !== '') checks.pattern('trade_no', tradeNo, TRADE_NO, '16 to 64 digits');
  return finish(checks, config, gateway, 'single_trade_query', [
    ['trade_no', tradeNo],
    ['out_trade_no', outTradeNo],
  ]);
}

export interface NotifyVerifyRequest {
  readonly partner: string;
  readonly notifyId: string;
  readonly gateway?: string;
}

const NOTIFY_ID_SAFE = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~%') {
  NOTIFY_ID_SAFE[c.charCodeAt(0)] = 1;
}

/**
 * The `notify_verify` URL (docs/alipay-protocol.md, "notify_verify"): `service`, `partner`, `notify_id`, no
 * signature; the answer is the body `true`. The notify_id goes in as the official demos put it: the
 * once-decoded value as is, so a return_url id keeps its `%2F` (docs/alipay-protocol.md, "notify_verify" and
 * "Open questions", 3 — unconfirmed, the demo's choice); other unsafe characters are percent-encoded.
 */
export function buildNotifyVerifyUrl(request: NotifyVerifyRequest): Result<string> {
  const checks = new Checks();
  checks.pattern('partner', request.partner, PARTNER, '16 digits');
  const gateway = request.gateway ?? ALIPAY_GATEWAY;
  checks.pattern('gateway', gateway, /^https?:\/\/[^\s?#]+$/, 'an http(s) URL without query');
  if (!checks.required('notify_id', request.notifyId)) return failWith(checks.errors);
  if (checks.errors.length > 0) return failWith(checks.errors);
  let notifyId = '';
  for (const byte of Buffer.from(request.notifyId, 'utf8')) {
    notifyId +=
      NOTIFY_ID_SAFE[byte] === 1 ? String.fromCharCode(byte) : percentEncodeBytes(Uint8Array.of(byte));
  }
  return ok(`${gateway}?service=notify_verify&partner=${request.partner}&notify_id=${notifyId}`);
}

/** Whether a `notify_verify` answer says the notification is genuine: exactly `true`, spaces aside. */
export function isNotifyVerified(responseBody: string): boolean {
  return typeof responseBody === 'string' && responseBody.trim() === 'true';
}

export interface AutoSubmitPage {
  readonly html: string;
  /** The page in the request charset: the browser submits a form in its page's charset. */
  readonly bytes: Buffer;
  readonly contentType: string;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * An HTML page that POSTs the request to the gateway at once (the demos' `buildRequestForm`): the action
 * carries `_input_charset`, the page is served in the request charset (and says so with `accept-charset`),
 * so that the browser encodes the fields exactly as they were signed. `nonce` serves a CSP.
 */
export function renderAutoSubmitForm(
  request: SignedRequest,
  options: { nonce?: string } = {},
): Result<AutoSubmitPage> {
  const inputs = request.params
    .map(
      ({ name, value }) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}"/>`,
    )
    .join('\n');
  const nonce = options.nonce === undefined ? '' : ` nonce="${escapeHtml(options.nonce)}"`;
  const html = [
    '<!DOCTYPE html>',
    `<html><head><meta charset="${request.charset}"><title>Alipay</title></head><body>`,
    `<form id="alipaysubmit" action="${escapeHtml(request.formAction)}" method="post" accept-charset="${request.charset}">`,
    inputs,
    '<noscript><button type="submit">Continue to Alipay</button></noscript>',
    '</form>',
    `<script${nonce}>document.getElementById('alipaysubmit').submit();</script>`,
    '</body></html>',
  ].join('\n');
  const bytes = encodeText(html, request.charset, 'html');
  if (!bytes.ok) return fail('UNENCODABLE_CHARACTER', `the page cannot be written in ${request.charset}`);
  return ok({ html, bytes: bytes.value, contentType: `text/html; charset=${request.charset}` });
}
