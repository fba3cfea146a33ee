import { parseResultDetails, type RefundResult } from './batch-refund';
import { parseBeijingTime } from './beijing-time';
import { failWith, ok, quote, type ProtocolError, type Result } from './errors';
import type { TextParam } from './form-encoding';
import { parseYuan, type ParseYuanOptions } from './money';
import { isRefundStatus, isTradeStatus, type RefundStatus, type TradeStatus } from './status';

// Typed views of verified notifications (docs/alipay-protocol.md, "Trade notification fields",
// "Escrow fields", "Batch refund results" and "Return URL"). Parsing happens after verification, on the
// decoded text; it reports every problem with a code and the parameter's name, and never throws: whatever
// Alipay (or an attacker) sends must end as a recorded decision, not a 500.

/** Parameters as `verifyNotification` returns them, or as a plain record. */
export type NotificationParams = readonly TextParam[] | Readonly<Record<string, string>>;

/**
 * Alipay's one-letter booleans (docs/alipay-protocol.md, "Trade notification fields"): `Y`/`T` true, `N`/`F`
 * false; any other value is kept as `'unknown'` rather than failing the notification it sits in.
 */
export type AlipayFlag = boolean | 'unknown';

/** A `trade_status_sync` notification or return_url of `create_direct_pay_by_user` or `trade_create_by_buyer`. */
export interface TradeStatusSync {
  readonly notifyType: 'trade_status_sync';
  readonly notifyId: string;
  readonly notifyTime: Date;
  /** Antom's table only (`payByAccountAction`, `refundFPAction`, ...). */
  readonly notifyActionType?: string;
  /**
   * return_url only: the call succeeded (`T`), which says nothing of the payment (docs/alipay-protocol.md,
   * "Return URL").
   */
  readonly isSuccess?: boolean;
  /** return_url of create_direct_pay_by_user only: the service name. */
  readonly exterface?: string;
  readonly agentUserId?: string;
  readonly outTradeNo: string;
  readonly tradeNo: string;
  readonly tradeStatus: TradeStatus;
  readonly refundStatus?: RefundStatus;
  readonly subject?: string;
  readonly body?: string;
  readonly paymentType?: string;
  readonly gmtCreate?: Date;
  readonly gmtPayment?: Date;
  readonly gmtClose?: Date;
  readonly gmtRefund?: Date;
  readonly gmtLogisticsModify?: Date;
  readonly gmtSendGoods?: Date;
  /**
   * `2088` + 12 digits; compare with our partner id (docs/alipay-protocol.md, "Verifying a notification").
   */
  readonly sellerId?: string;
  readonly sellerEmail?: string;
  /** The stable buyer identity. */
  readonly buyerId?: string;
  /** Email or masked mobile: not an identity. */
  readonly buyerEmail?: string;
  /** Fen. */
  readonly totalFee?: number;
  /** Fen. */
  readonly price?: number;
  readonly quantity?: number;
  /** Fen, negative for a discount. */
  readonly discount?: number;
  readonly isTotalFeeAdjust?: AlipayFlag;
  readonly useCoupon?: AlipayFlag;
  readonly extraCommonParam?: string;
  readonly outChannelType?: string;
  readonly outChannelAmount?: string;
  readonly outChannelInst?: string;
  readonly businessScene?: string;
  /** `EXPRESS` / `POST` / `EMS` / `DIRECT`. */
  readonly logisticsType?: string;
  /** Fen. */
  readonly logisticsFee?: number;
  /** `SELLER_PAY` / `BUYER_PAY` / `BUYER_PAY_AFTER_RECEIVE`. */
  readonly logisticsPayment?: string;
  readonly receiveName?: string;
  readonly receiveAddress?: string;
  readonly receiveZip?: string;
  readonly receivePhone?: string;
  readonly receiveMobile?: string;
  /** e.g. `['REFUND', 'CONFIRM_GOODS']`. */
  readonly buyerActions?: readonly string[];
  readonly sellerActions?: readonly string[];
  /** Every other parameter Alipay sent (it may add fields; nothing is dropped). Excludes sign/sign_type. */
  readonly otherParams: Readonly<Record<string, string>>;
}

/** The asynchronous result of a batch refund (docs/alipay-protocol.md, "Batch refund results"). */
export interface BatchRefundNotify {
  readonly notifyType: 'batch_refund_notify';
  readonly notifyId: string;
  readonly notifyTime: Date;
  readonly batchNo: string;
  /** Trade records refunded; reconcile per record (`resultDetails`), not by this count. */
  readonly successNum: number;
  readonly resultDetails: readonly RefundResult[];
  /** nopwd with `use_freeze_amount=Y`: 解冻结果明细, kept as sent (its grammar is not documented). */
  readonly unfreezedDetails?: string;
  readonly otherParams: Readonly<Record<string, string>>;
}

export type Notification = TradeStatusSync | BatchRefundNotify;

const INTEGER = /^(0|[1-9][0-9]{0,8})$/;

/**
 * Reads fields by name, collecting errors; every name it reads is not an "other" parameter. Shared with the
 * typed view of a `single_trade_query` answer (not part of the lib's public face).
 */
export function reader(params: NotificationParams) {
  const errors: ProtocolError[] = [];
  const values = new Map<string, string>();
  const read = new Set<string>(['sign', 'sign_type']);

  if (Array.isArray(params)) {
    for (const entry of params as readonly unknown[]) {
      const { name, value } = (entry ?? {}) as Partial<TextParam>;
      if (typeof name !== 'string' || typeof value !== 'string') continue;
      if (values.has(name))
        errors.push({ code: 'DUPLICATE_FIELD', field: name, message: 'sent more than once' });
      else values.set(name, value);
    }
  } else if (params !== null && typeof params === 'object') {
    for (const [name, value] of Object.entries(params)) {
      if (typeof value === 'string') values.set(name, value);
    }
  }

  // Empty values count as absent, as in the signature (docs/alipay-protocol.md, "Pre-sign string").
  const optional = (name: string): string | undefined => {
    read.add(name);
    const value = values.get(name);
    return value === undefined || value === '' ? undefined : value;
  };
  const required = (name: string): string => {
    const value = optional(name);
    if (value === undefined)
      errors.push({ code: 'MISSING_FIELD', field: name, message: `${name} is required` });
    return value ?? '';
  };
  const fromResult = <T>(result: Result<T>): T | undefined => {
    if (result.ok) return result.value;
    errors.push(...result.errors);
    return undefined;
  };
  const time = (name: string): Date | undefined => {
    const text = optional(name);
    return text === undefined ? undefined : fromResult(parseBeijingTime(text, name));
  };
  const amount = (name: string, options: ParseYuanOptions = {}): number | undefined => {
    const text = optional(name);
    return text === undefined ? undefined : fromResult(parseYuan(text, { ...options, field: name }));
  };
  const integer = (name: string, text = optional(name)): number | undefined => {
    if (text === undefined) return undefined;
    if (INTEGER.test(text)) return Number(text);
    errors.push({ code: 'MALFORMED_FIELD', field: name, message: `${quote(text)} is not a whole number` });
    return undefined;
  };
  const flag = (name: string): AlipayFlag | undefined => {
    const text = optional(name);
    if (text === undefined) return undefined;
    if (text === 'Y' || text === 'T') return true;
    if (text === 'N' || text === 'F') return false;
    return 'unknown';
  };
  const list = (name: string): string[] | undefined =>
    optional(name)
      ?.split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  // fromEntries defines own properties, so a parameter named `__proto__` stays a parameter.
  const others = (): Record<string, string> =>
    Object.fromEntries([...values].filter(([name]) => !read.has(name)));
  return { errors, optional, required, time, amount, integer, flag, list, others };
}

type Reader = ReturnType<typeof reader>;

function requireTime(r: Reader, name: string): Date {
  const text = r.required(name);
  return (text === '' ? undefined : r.time(name)) ?? new Date(Number.NaN);
}

function checkNotifyType(r: Reader, expected: Notification['notifyType']): void {
  const notifyType = r.required('notify_type');
  if (notifyType !== '' && notifyType !== expected) {
    r.errors.push({
      code: 'UNEXPECTED_NOTIFY_TYPE',
      field: 'notify_type',
      message: `${quote(notifyType)} is not ${expected}`,
    });
  }
}

/** Drops undefined members, so that absent parameters are absent properties. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Reads a `trade_status_sync` notification or return_url (both payment services, every field of
 * docs/alipay-protocol.md, "Trade notification fields", "Escrow fields" and "Return URL"). Requires
 * `notify_id`, `notify_time`, `notify_type`, `out_trade_no`, `trade_no` and a known `trade_status`; amounts
 * become fen, times instants. Never throws.
 */
export function parseTradeStatusSync(params: NotificationParams): Result<TradeStatusSync> {
  const r = reader(params);
  checkNotifyType(r, 'trade_status_sync');
  const notifyId = r.required('notify_id');
  const notifyTime = requireTime(r, 'notify_time');
  const outTradeNo = r.required('out_trade_no');
  const tradeNo = r.required('trade_no');

  const statusText = r.required('trade_status');
  const tradeStatus = isTradeStatus(statusText) ? statusText : undefined;
  if (statusText !== '' && tradeStatus === undefined) {
    r.errors.push({
      code: 'UNKNOWN_TRADE_STATUS',
      field: 'trade_status',
      message: `${quote(statusText)} is unknown`,
    });
  }
  const refundText = r.optional('refund_status');
  if (refundText !== undefined && !isRefundStatus(refundText)) {
    r.errors.push({
      code: 'UNKNOWN_REFUND_STATUS',
      field: 'refund_status',
      message: `${quote(refundText)} is unknown`,
    });
  }
  const isSuccessText = r.optional('is_success');
  if (isSuccessText !== undefined && isSuccessText !== 'T' && isSuccessText !== 'F') {
    r.errors.push({
      code: 'MALFORMED_FIELD',
      field: 'is_success',
      message: `${quote(isSuccessText)} is not T or F`,
    });
  }

  const value = defined<TradeStatusSync>({
    notifyType: 'trade_status_sync',
    notifyId,
    notifyTime,
    notifyActionType: r.optional('notify_action_type'),
    isSuccess: isSuccessText === undefined ? undefined : isSuccessText === 'T',
    exterface: r.optional('exterface'),
    agentUserId: r.optional('agent_user_id'),
    outTradeNo,
    tradeNo,
    tradeStatus: tradeStatus ?? 'WAIT_BUYER_PAY',
    refundStatus: refundText !== undefined && isRefundStatus(refundText) ? refundText : undefined,
    subject: r.optional('subject'),
    body: r.optional('body'),
    paymentType: r.optional('payment_type'),
    gmtCreate: r.time('gmt_create'),
    gmtPayment: r.time('gmt_payment'),
    gmtClose: r.time('gmt_close'),
    gmtRefund: r.time('gmt_refund'),
    gmtLogisticsModify: r.time('gmt_logistics_modify'),
    gmtSendGoods: r.time('gmt_send_goods'),
    sellerId: r.optional('seller_id'),
    sellerEmail: r.optional('seller_email'),
    buyerId: r.optional('buyer_id'),
    buyerEmail: r.optional('buyer_email'),
    totalFee: r.amount('total_fee'),
    price: r.amount('price'),
    quantity: quantityOf(r),
    discount: r.amount('discount', { allowNegative: true, allowZero: true }),
    isTotalFeeAdjust: r.flag('is_total_fee_adjust'),
    useCoupon: r.flag('use_coupon'),
    extraCommonParam: r.optional('extra_common_param'),
    outChannelType: r.optional('out_channel_type'),
    outChannelAmount: r.optional('out_channel_amount'),
    outChannelInst: r.optional('out_channel_inst'),
    businessScene: r.optional('business_scene'),
    logisticsType: r.optional('logistics_type'),
    logisticsFee: r.amount('logistics_fee', { allowZero: true }),
    logisticsPayment: r.optional('logistics_payment'),
    receiveName: r.optional('receive_name'),
    receiveAddress: r.optional('receive_address'),
    receiveZip: r.optional('receive_zip'),
    receivePhone: r.optional('receive_phone'),
    receiveMobile: r.optional('receive_mobile'),
    buyerActions: r.list('buyer_actions'),
    sellerActions: r.list('seller_actions'),
    otherParams: {},
  });
  return r.errors.length > 0 ? failWith(r.errors) : ok({ ...value, otherParams: r.others() });
}

function quantityOf(r: Reader): number | undefined {
  const quantity = r.integer('quantity');
  if (quantity === 0) {
    r.errors.push({ code: 'MALFORMED_FIELD', field: 'quantity', message: 'a quantity is at least 1' });
    return undefined;
  }
  return quantity;
}

/**
 * Reads a `batch_refund_notify` (docs/alipay-protocol.md, "Batch refund results"): `batch_no`, `success_num`
 * and the full `result_details` grammar, errors inside it named by record (`result_details[2].amount`). Never
 * throws.
 */
export function parseBatchRefundNotify(params: NotificationParams): Result<BatchRefundNotify> {
  const r = reader(params);
  checkNotifyType(r, 'batch_refund_notify');
  const notifyId = r.required('notify_id');
  const notifyTime = requireTime(r, 'notify_time');
  const batchNo = r.required('batch_no');
  const successText = r.required('success_num');
  const successNum = successText === '' ? undefined : r.integer('success_num', successText);
  const detailsText = r.required('result_details');
  let resultDetails: RefundResult[] = [];
  if (detailsText !== '') {
    const parsed = parseResultDetails(detailsText);
    if (parsed.ok) resultDetails = parsed.value;
    else r.errors.push(...parsed.errors);
  }
  const value = defined<BatchRefundNotify>({
    notifyType: 'batch_refund_notify',
    notifyId,
    notifyTime,
    batchNo,
    successNum: successNum ?? 0,
    resultDetails,
    unfreezedDetails: r.optional('unfreezed_details'),
    otherParams: {},
  });
  return r.errors.length > 0 ? failWith(r.errors) : ok({ ...value, otherParams: r.others() });
}

/**
 * Reads any notification by its `notify_type`: `trade_status_sync` or `batch_refund_notify`; anything
 * else is `UNEXPECTED_NOTIFY_TYPE` (or `MISSING_FIELD` without one). Never throws.
 */
export function parseNotification(params: NotificationParams): Result<Notification> {
  const r = reader(params);
  const notifyType = r.required('notify_type');
  if (notifyType === 'trade_status_sync') return parseTradeStatusSync(params);
  if (notifyType === 'batch_refund_notify') return parseBatchRefundNotify(params);
  if (notifyType !== '') {
    r.errors.push({
      code: 'UNEXPECTED_NOTIFY_TYPE',
      field: 'notify_type',
      message: `${quote(notifyType)} is neither trade_status_sync nor batch_refund_notify`,
    });
  }
  return failWith(r.errors);
}
