import { DomainError } from '../domain-error';

/** Longest `out_trade_no` Alipay accepts (docs/alipay-protocol.md, "Payment requests"). */
export const MAX_OUT_TRADE_NO_LENGTH = 64;

// Letters, digits, `_` and `-`: what Alipay's order-number rules allow, and nothing that is structural in
// its grammars (`^ | $ #`), in URLs (`& = ? %`) or in stream ids.
const OUT_TRADE_NO = /^[A-Za-z0-9_-]{1,64}$/;

const ORDER_STREAM_PREFIX = 'order-';

/** Whether `value` is an `out_trade_no` the ledger can key an order by. */
export function isValidOutTradeNo(value: string): boolean {
  return OUT_TRADE_NO.test(value);
}

/**
 * The id of an order's stream, `order-<out_trade_no>` (docs/product-rules.md, "Streams"). Throws
 * `INVALID_OUT_TRADE_NO` for a value that cannot be an order number: such a notification can only be kept in
 * the inbox, never on a stream.
 */
export function orderStreamId(outTradeNo: string): string {
  if (!isValidOutTradeNo(outTradeNo)) {
    throw new DomainError(
      'INVALID_OUT_TRADE_NO',
      `out_trade_no ${JSON.stringify(outTradeNo)} must be 1 to ${MAX_OUT_TRADE_NO_LENGTH} letters, digits, "_" or "-"`,
      'outTradeNo',
    );
  }
  return ORDER_STREAM_PREFIX + outTradeNo;
}

/** The `out_trade_no` of an order stream id, or `undefined` when the id names no order stream. */
export function outTradeNoOfStream(streamId: string): string | undefined {
  if (!streamId.startsWith(ORDER_STREAM_PREFIX)) return undefined;
  const outTradeNo = streamId.slice(ORDER_STREAM_PREFIX.length);
  return isValidOutTradeNo(outTradeNo) ? outTradeNo : undefined;
}
