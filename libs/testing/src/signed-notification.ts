import { randomBytes } from 'node:crypto';
import {
  encodeText,
  formatBeijingTime,
  signParams,
  type Charset,
  type SigningKey,
  type TextParam,
} from '@ledger/alipay-protocol';
import { DEMO_ALIPAY } from '@ledger/platform';

// Notifications as Alipay's notifier sends them (docs/alipay-protocol.md, "Decoding pitfalls" and
// "Raw bodies"): signed over the text in the merchant's charset, form-encoded in that charset's bytes with
// `+` for spaces, under the malformed Content-Type that stock body parsers reject.

/** A signed notification, ready to POST to notify_url or to append to return_url as its query. */
export interface SignedNotification {
  /** The raw form bytes: the POST body, or the query string of a return_url redirect (without `?`). */
  readonly body: Buffer;
  /** The same bytes as text (they are ASCII: every other byte is percent-encoded). */
  readonly text: string;
  /** `application/x-www-form-urlencoded; text/html; charset=UTF-8` (or `GBK`), as Alipay sends it. */
  readonly contentType: string;
  /** Every parameter sent, `sign` and `sign_type` last. */
  readonly params: readonly TextParam[];
  readonly sign: string;
}

const UNRESERVED = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.*') {
  UNRESERVED[c.charCodeAt(0)] = 1;
}
const HEX = '0123456789ABCDEF';

function formEncode(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    if (UNRESERVED[byte] === 1) out += String.fromCharCode(byte);
    else if (byte === 0x20) out += '+';
    else out += `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return out;
}

/**
 * Signs `params` the way Alipay signs a notification and encodes them as it sends them. `key` is the MD5
 * key (a string) or a signing key (RSA: the private half of the key pair whose public half the ledger
 * verifies with). Empty values are left out, as the demos' `paraFilter` does. A return_url `notify_id`
 * is signed in its once-encoded form (`RqPn%2F...`): pass it so, and the encoding here turns it into the
 * double-encoded `%252F` Alipay puts in the query (docs/alipay-protocol.md, "Decoding pitfalls").
 */
export function signedNotification(
  params: Readonly<Record<string, string | undefined>> | readonly TextParam[],
  key: string | SigningKey = DEMO_ALIPAY.md5Key,
  charset: Charset = 'utf-8',
): SignedNotification {
  const list: TextParam[] = Array.isArray(params)
    ? [...(params as readonly TextParam[])]
    : Object.entries(params as Record<string, string | undefined>)
        .filter((entry): entry is [string, string] => entry[1] !== undefined)
        .map(([name, value]) => ({ name, value }));
  const signingKey: SigningKey = typeof key === 'string' ? { signType: 'MD5', md5Key: key } : key;
  const signed = signParams(list, charset, signingKey);
  if (!signed.ok) throw new Error(`cannot sign the notification: ${JSON.stringify(signed.errors)}`);
  const parts = signed.value.params.map(({ name, value }) => {
    const bytes = encodeText(value, charset, name);
    if (!bytes.ok) throw new Error(`${name} cannot be written in ${charset}`);
    return `${formEncode(Buffer.from(name, 'latin1'))}=${formEncode(bytes.value)}`;
  });
  const text = parts.join('&');
  return {
    body: Buffer.from(text, 'latin1'),
    text,
    contentType: `application/x-www-form-urlencoded; text/html; charset=${charset === 'gbk' ? 'GBK' : 'UTF-8'}`,
    params: signed.value.params,
    sign: signed.value.sign,
  };
}

/** POSTs a signed notification to a notify URL like Alipay's notifier; resolves with the reply. */
export async function postNotification(
  url: string,
  notification: SignedNotification,
): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': notification.contentType, 'user-agent': 'Mozilla/4.0' },
    body: new Uint8Array(notification.body),
  });
  return { status: response.status, text: await response.text() };
}

/** A fresh notify_id shaped like Alipay's (32 hex characters and a few letters). */
export function newNotifyId(): string {
  return `${randomBytes(16).toString('hex')}mva`;
}

/** A fresh 28-digit trade_no, shaped like Alipay's (`2014040311001004370000361525`). */
export function newTradeNo(): string {
  const digits = Array.from(randomBytes(12), (byte) => String(byte % 10)).join('');
  return `2026${String(Date.now()).slice(-12)}${digits}`.slice(0, 28);
}

/** What a `trade_status_sync` notification says about one trade. */
export interface TradeStatusSyncFacts {
  outTradeNo: string;
  tradeNo: string;
  tradeStatus: string;
  /** Yuan, two decimals, as Alipay echoes it. */
  totalFee: string;
  subject?: string;
  notifyId?: string;
  refundStatus?: string;
  /** Default: the demo partner. */
  sellerId?: string;
  buyerId?: string;
  buyerEmail?: string;
  /** `create_direct_pay_by_user` (default) or `trade_create_by_buyer` (adds the logistics fields). */
  service?: 'create_direct_pay_by_user' | 'trade_create_by_buyer';
  /** Default: now. */
  notifyTime?: Date;
  /** Any other parameter, added as is (`undefined` removes a default one). */
  extra?: Readonly<Record<string, string | undefined>>;
}

/**
 * The parameters of a realistic `trade_status_sync` notification (docs/alipay-protocol.md,
 * "Trade notification fields" and "Escrow fields"): payment times appear once paid, logistics fields for
 * `trade_create_by_buyer`. Sign them with `signedNotification`.
 */
export function tradeStatusSyncParams(facts: TradeStatusSyncFacts): Record<string, string | undefined> {
  const now = facts.notifyTime ?? new Date();
  const time = formatBeijingTime(now);
  const paid = facts.tradeStatus !== 'WAIT_BUYER_PAY' && facts.tradeStatus !== 'TRADE_CLOSED';
  const dual = facts.service === 'trade_create_by_buyer';
  return {
    notify_time: time,
    notify_type: 'trade_status_sync',
    notify_id: facts.notifyId ?? newNotifyId(),
    out_trade_no: facts.outTradeNo,
    subject: facts.subject ?? `order ${facts.outTradeNo}`,
    payment_type: '1',
    trade_no: facts.tradeNo,
    trade_status: facts.tradeStatus,
    gmt_create: time,
    gmt_payment: paid ? time : undefined,
    seller_email: 'seller@example.com',
    seller_id: facts.sellerId ?? DEMO_ALIPAY.partner,
    buyer_email: facts.buyerEmail ?? '137******70',
    buyer_id: facts.buyerId ?? '2088102122524333',
    price: facts.totalFee,
    total_fee: facts.totalFee,
    quantity: '1',
    discount: '0.00',
    is_total_fee_adjust: 'N',
    use_coupon: 'N',
    refund_status: facts.refundStatus,
    ...(dual
      ? {
          logistics_type: 'EXPRESS',
          logistics_fee: '0.00',
          logistics_payment: 'SELLER_PAY',
          receive_name: '张三',
          receive_address: '浙江省杭州市西湖区',
        }
      : {}),
    ...facts.extra,
  };
}
