import {
  parseTradeStatusSync,
  type ProtocolError,
  type TextParam,
  type TradeStatusSync,
} from '@ledger/alipay-protocol';
import { isValidOutTradeNo, type RecordTradeStatus } from '@ledger/domain';
import type { RejectionReason } from '@ledger/inbox';

/** What a verified notification's parameters amount to: a command, or the reason it cannot be one. */
export type TradeCommandReading =
  | { ok: true; notification: TradeStatusSync; command: RecordTradeStatus }
  | {
      ok: false;
      reason: Extract<RejectionReason, 'malformed' | 'unexpected_notify_type' | 'invalid_out_trade_no'>;
      message: string;
      errors?: readonly ProtocolError[];
    };

/** Longest notify_id kept as a de-duplication key; Alipay's are 32 to about 100 characters. */
const MAX_NOTIFY_ID_LENGTH = 256;

function iso(date: Date | undefined): string | undefined {
  return date === undefined ? undefined : date.toISOString();
}

/** Drops undefined members, so that absent parameters are absent properties of the events. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Reads the parameters of a verified `trade_status_sync` notification or return_url into the domain's
 * `RecordTradeStatus` (amounts in fen, Beijing times as instants). `seller_id` and `total_fee` are required:
 * without them the business checks (docs/product-rules.md, "Business checks") cannot be made.
 */
export function readTradeCommand(
  params: readonly TextParam[],
  source: 'notify' | 'return',
): TradeCommandReading {
  const notifyType = params.find((p) => p.name === 'notify_type')?.value;
  if (notifyType !== undefined && notifyType !== '' && notifyType !== 'trade_status_sync') {
    return {
      ok: false,
      reason: 'unexpected_notify_type',
      message: `notify_type ${JSON.stringify(notifyType.slice(0, 64))} is not handled at the ${source} channel`,
    };
  }
  const parsed = parseTradeStatusSync(params);
  if (!parsed.ok) {
    return {
      ok: false,
      reason: 'malformed',
      message: parsed.errors.map((e) => `${e.field ?? ''}: ${e.message}`).join('; '),
      errors: parsed.errors,
    };
  }
  const notification = parsed.value;
  const errors: ProtocolError[] = [];
  if (notification.sellerId === undefined) {
    errors.push({ code: 'MISSING_FIELD', field: 'seller_id', message: 'seller_id is required' });
  }
  if (notification.totalFee === undefined) {
    errors.push({ code: 'MISSING_FIELD', field: 'total_fee', message: 'total_fee is required' });
  }
  if (notification.notifyId.length > MAX_NOTIFY_ID_LENGTH) {
    errors.push({
      code: 'TOO_LONG',
      field: 'notify_id',
      message: `notify_id is longer than ${MAX_NOTIFY_ID_LENGTH} characters`,
    });
  }
  if (errors.length > 0 || notification.sellerId === undefined || notification.totalFee === undefined) {
    return {
      ok: false,
      reason: 'malformed',
      message: errors.map((e) => `${e.field ?? ''}: ${e.message}`).join('; '),
      errors,
    };
  }
  if (!isValidOutTradeNo(notification.outTradeNo)) {
    return {
      ok: false,
      reason: 'invalid_out_trade_no',
      message: `out_trade_no ${JSON.stringify(notification.outTradeNo.slice(0, 80))} cannot name an order stream`,
    };
  }
  const command: RecordTradeStatus = {
    type: 'RecordTradeStatus',
    outTradeNo: notification.outTradeNo,
    tradeNo: notification.tradeNo,
    tradeStatus: notification.tradeStatus,
    ...(notification.refundStatus === undefined ? {} : { refundStatus: notification.refundStatus }),
    totalFee: notification.totalFee,
    sellerId: notification.sellerId,
    buyer: defined({ id: notification.buyerId, email: notification.buyerEmail }),
    times: defined({
      gmtCreate: iso(notification.gmtCreate),
      gmtPayment: iso(notification.gmtPayment),
      gmtSendGoods: iso(notification.gmtSendGoods),
      gmtClose: iso(notification.gmtClose),
    }),
    ...(notification.gmtRefund === undefined ? {} : { gmtRefund: notification.gmtRefund.toISOString() }),
    notifyId: notification.notifyId,
    notifyTime: notification.notifyTime.toISOString(),
    source,
  };
  return { ok: true, notification, command };
}
