import type { QueriedTrade } from '@ledger/alipay-protocol';
import { isValidOutTradeNo, type RecordTradeStatus } from '@ledger/domain';
import type { RejectionReason } from '@ledger/inbox';

/** What a verified `single_trade_query` answer amounts to: the trade's command, or why it cannot be one. */
export type QueryCommandReading =
  | { ok: true; command: RecordTradeStatus }
  | {
      ok: false;
      reason: Extract<RejectionReason, 'malformed' | 'unexpected_trade' | 'invalid_out_trade_no'>;
      message: string;
    };

/** Alipay's trade numbers are 16 to 64 characters; a longer one would make an unbounded key. */
const MAX_TRADE_NO_LENGTH = 64;

/**
 * The de-duplication key of what a query read (docs/operations.md, "Reconciliation"). A query has no
 * notify_id: its fact is named by what it reports, so that asking again about a trade that has not moved
 * is a duplicate, and a trade that moved is a new fact. Notify_ids are Alipay's and never start with
 * `query:`.
 */
export function queryFactKey(trade: QueriedTrade): string {
  return [
    'query',
    trade.tradeNo,
    trade.tradeStatus,
    trade.refundStatus ?? '',
    trade.gmtRefund?.toISOString() ?? '',
    trade.gmtLastModifiedTime?.toISOString() ?? '',
  ].join(':');
}

function iso(date: Date | undefined): string | undefined {
  return date === undefined ? undefined : date.toISOString();
}

function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Reads a verified trade, asked about as `outTradeNo`, into the domain's `RecordTradeStatus` with source
 * `query`: the same command a notification makes, decided by the same rules (docs/product-rules.md,
 * "Rules"), so that the payment is recognised once whichever of the query and the notification comes
 * first. Its time is when the answer came (`answeredAt`): the trade as it stood then.
 */
export function readQueriedTrade(
  trade: QueriedTrade,
  outTradeNo: string,
  answeredAt: Date,
): QueryCommandReading {
  const problems: string[] = [];
  if (trade.sellerId === undefined) problems.push('seller_id: seller_id is required');
  if (trade.totalFee === undefined) problems.push('total_fee: total_fee is required');
  if (trade.tradeNo.length > MAX_TRADE_NO_LENGTH) {
    problems.push(`trade_no: longer than ${MAX_TRADE_NO_LENGTH} characters`);
  }
  if (problems.length > 0 || trade.sellerId === undefined || trade.totalFee === undefined) {
    return { ok: false, reason: 'malformed', message: problems.join('; ') };
  }
  if (trade.outTradeNo !== undefined && trade.outTradeNo !== outTradeNo) {
    return {
      ok: false,
      reason: 'unexpected_trade',
      message: `the answer is about out_trade_no ${JSON.stringify(trade.outTradeNo.slice(0, 80))}, not ${outTradeNo}`,
    };
  }
  if (!isValidOutTradeNo(outTradeNo)) {
    return {
      ok: false,
      reason: 'invalid_out_trade_no',
      message: `out_trade_no ${JSON.stringify(outTradeNo.slice(0, 80))} cannot name an order stream`,
    };
  }
  return {
    ok: true,
    command: {
      type: 'RecordTradeStatus',
      outTradeNo,
      tradeNo: trade.tradeNo,
      tradeStatus: trade.tradeStatus,
      ...(trade.refundStatus === undefined ? {} : { refundStatus: trade.refundStatus }),
      totalFee: trade.totalFee,
      sellerId: trade.sellerId,
      buyer: defined({ id: trade.buyerId, email: trade.buyerEmail }),
      times: defined({
        gmtCreate: iso(trade.gmtCreate),
        gmtPayment: iso(trade.gmtPayment),
        gmtSendGoods: iso(trade.gmtSendGoods),
        gmtClose: iso(trade.gmtClose),
      }),
      ...(trade.gmtRefund === undefined ? {} : { gmtRefund: trade.gmtRefund.toISOString() }),
      notifyId: queryFactKey(trade),
      notifyTime: answeredAt.toISOString(),
      source: 'query',
    },
  };
}
