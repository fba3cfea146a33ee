import { LOGISTICS_PAYMENTS, LOGISTICS_TYPES, MAX_AMOUNT_FEN, parseYuan } from '@ledger/alipay-protocol';
import type { SandboxMerchant } from '../sandbox-options';
import type { PaymentService, TradeChannels, TradeTerms } from '../trades/trade';

// The business checks of a payment request, after its signature verified (docs/alipay-protocol.md,
// "Trade notification fields", "Escrow fields" and "Error codes"): each refusal carries the code Alipay shows
// on its error page ("错误代码 XXX").

/** A reading of request parameters: the value, or Alipay's code and what is wrong. */
export type Reading<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: string; readonly detail: string };

export const refused = (code: string, detail: string): Reading<never> => ({ ok: false, code, detail });

const OUT_TRADE_NO = /^[\x21-\x7e]{1,64}$/;
const URL = /^https?:\/\/[^\s]+$/;
const QUANTITY = /^[1-9][0-9]{0,5}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;

/** Reads a positive yuan amount: zero or negative is `TOTAL_FEE_LESSEQUAL_ZERO`, a bad format `ILLEGAL_FEE_PARAM`. */
function readAmount(name: string, text: string | undefined): Reading<number> {
  if (text === undefined) return refused('ILLEGAL_FEE_PARAM', `${name} is required`);
  const signed = parseYuan(text, { allowNegative: true, allowZero: true, field: name });
  if (signed.ok && signed.value <= 0) return refused('TOTAL_FEE_LESSEQUAL_ZERO', `${name} is ${text}`);
  const amount = parseYuan(text, { field: name });
  if (!amount.ok) return refused('ILLEGAL_FEE_PARAM', amount.errors.map((e) => e.message).join('; '));
  return { ok: true, value: amount.value };
}

function readQuantity(text: string | undefined): Reading<number> {
  if (text === undefined || !QUANTITY.test(text)) {
    return refused(
      'ILLEGAL_FEE_PARAM',
      `quantity ${JSON.stringify(text ?? '')} is not a whole number from 1`,
    );
  }
  return { ok: true, value: Number(text) };
}

function nonEmpty(params: Record<string, string>, name: string): string | undefined {
  const value = params[name];
  return value === undefined || value === '' ? undefined : value;
}

/** The terms and channels of a `create_direct_pay_by_user` or `trade_create_by_buyer` request. */
export function readPaymentRequest(
  service: PaymentService,
  params: Record<string, string>,
  merchant: SandboxMerchant,
): Reading<{ terms: TradeTerms; channels: TradeChannels }> {
  const get = (name: string) => nonEmpty(params, name);
  const outTradeNo = get('out_trade_no');
  if (outTradeNo === undefined || !OUT_TRADE_NO.test(outTradeNo)) {
    return refused('ILLEGAL_ARGUMENT', 'out_trade_no must be 1 to 64 printable ASCII characters');
  }
  const subject = get('subject');
  if (subject === undefined) return refused('ILLEGAL_ARGUMENT', 'subject is required');
  // The trade's text comes back in single_trade_query's XML, which cannot carry control characters
  // (docs/alipay-protocol.md, "Trade query").
  const unwritable = Object.keys(params).find((name) => CONTROL.test(params[name]));
  if (unwritable !== undefined) {
    return refused('ILLEGAL_ARGUMENT', `${unwritable} holds a control character`);
  }
  if (get('payment_type') !== '1') {
    return refused(
      'ILLEGAL_PAYMENT_TYPE',
      `payment_type ${JSON.stringify(params.payment_type ?? '')} is not 1`,
    );
  }
  for (const name of ['notify_url', 'return_url', 'show_url']) {
    const url = get(name);
    if (url !== undefined && !URL.test(url))
      return refused('ILLEGAL_ARGUMENT', `${name} is not an http(s) URL`);
  }

  const sellerId = get('seller_id');
  const sellerEmail = get('seller_email') ?? get('seller_account_name');
  if (sellerId === undefined && sellerEmail === undefined) {
    return refused('ILLEGAL_ARGUMENT', 'seller_id, seller_email or seller_account_name is required');
  }
  if (sellerId !== undefined && sellerId !== merchant.partner) {
    return refused(
      'SELLER_NOT_IN_SPECIFIED_SELLERS',
      `seller_id ${sellerId} is not partner ${merchant.partner}`,
    );
  }
  if (
    sellerEmail !== undefined &&
    merchant.sellerEmail !== undefined &&
    sellerEmail !== merchant.sellerEmail
  ) {
    return refused('SELLER_NOT_EXIST', `no seller account ${JSON.stringify(sellerEmail)} for this partner`);
  }

  let price: number;
  let quantity: number;
  let totalFee: number;
  let logistics: TradeTerms['logistics'];
  if (service === 'create_direct_pay_by_user') {
    const byTotal = get('total_fee') !== undefined;
    const byPrice = get('price') !== undefined || get('quantity') !== undefined;
    if (byTotal === byPrice) return refused('ILLEGAL_FEE_PARAM', 'give total_fee, or price and quantity');
    if (byTotal) {
      const total = readAmount('total_fee', get('total_fee'));
      if (!total.ok) return total;
      [price, quantity, totalFee] = [total.value, 1, total.value];
    } else {
      const unit = readAmount('price', get('price'));
      if (!unit.ok) return unit;
      const count = readQuantity(get('quantity'));
      if (!count.ok) return count;
      [price, quantity, totalFee] = [unit.value, count.value, unit.value * count.value];
    }
  } else {
    const unit = readAmount('price', get('price'));
    if (!unit.ok) return unit;
    const count = readQuantity(get('quantity'));
    if (!count.ok) return count;
    const type = get('logistics_type');
    const payment = get('logistics_payment');
    const fee = parseYuan(get('logistics_fee') ?? '', { allowZero: true });
    if (type === undefined || !(LOGISTICS_TYPES as readonly string[]).includes(type)) {
      return refused(
        'ILLEGAL_LOGISTICS_FORMAT',
        `logistics_type must be one of ${LOGISTICS_TYPES.join(', ')}`,
      );
    }
    if (payment === undefined || !(LOGISTICS_PAYMENTS as readonly string[]).includes(payment)) {
      return refused(
        'ILLEGAL_LOGISTICS_FORMAT',
        `logistics_payment must be one of ${LOGISTICS_PAYMENTS.join(', ')}`,
      );
    }
    if (!fee.ok) return refused('ILLEGAL_LOGISTICS_FORMAT', 'logistics_fee is not a yuan amount');
    logistics = { type, fee: fee.value, payment };
    [price, quantity] = [unit.value, count.value];
    // (Inferred.) The buyer pays the goods, and the delivery when BUYER_PAY says so; the seller's delivery
    // and cash on delivery (BUYER_PAY_AFTER_RECEIVE) are not in the trade's total.
    totalFee = price * quantity + (payment === 'BUYER_PAY' ? fee.value : 0);
  }
  if (totalFee > MAX_AMOUNT_FEN) return refused('ILLEGAL_FEE_PARAM', 'the total exceeds 100000000.00');

  const receiver = {
    ...(get('receive_name') === undefined ? {} : { name: get('receive_name') }),
    ...(get('receive_address') === undefined ? {} : { address: get('receive_address') }),
    ...(get('receive_zip') === undefined ? {} : { zip: get('receive_zip') }),
    ...(get('receive_phone') === undefined ? {} : { phone: get('receive_phone') }),
    ...(get('receive_mobile') === undefined ? {} : { mobile: get('receive_mobile') }),
  };
  const optional = <K extends string>(key: K, value: string | undefined) =>
    value === undefined ? {} : ({ [key]: value } as Record<K, string>);
  const terms: TradeTerms = {
    service,
    outTradeNo,
    subject,
    ...optional('body', get('body')),
    totalFee,
    price,
    quantity,
    sellerId: merchant.partner,
    ...optional('sellerEmail', sellerEmail),
    ...optional('extraCommonParam', get('extra_common_param')),
    ...(logistics === undefined ? {} : { logistics }),
    ...(Object.keys(receiver).length === 0 ? {} : { receiver }),
  };
  const channels: TradeChannels = {
    ...optional('notifyUrl', get('notify_url')),
    ...optional('returnUrl', get('return_url')),
    ...optional('showUrl', get('show_url')),
  };
  return { ok: true, value: { terms, channels } };
}

function flatten(terms: TradeTerms): Map<string, string> {
  const flat = new Map<string, string>();
  const walk = (prefix: string, value: unknown) => {
    if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) walk(prefix === '' ? key : `${prefix}.${key}`, inner);
    } else if (typeof value === 'string' || typeof value === 'number') {
      flat.set(prefix, String(value));
    }
  };
  walk('', terms);
  return flat;
}

/**
 * The terms that differ between the frozen trade and a new request for the same out_trade_no: anything
 * other than none is `TRADE_DATA_MATCH_ERROR` (docs/alipay-protocol.md, "Payment requests": amount, subject,
 * seller, logistics...).
 */
export function differingTerms(frozen: TradeTerms, requested: TradeTerms): string[] {
  const a = flatten(frozen);
  const b = flatten(requested);
  return [...new Set([...a.keys(), ...b.keys()])].filter((key) => a.get(key) !== b.get(key)).sort();
}
