/** An integer amount of fen (0.01 yuan): money never travels as floats or yuan strings inside the domain. */
export type Fen = number;

/**
 * An instant as an ISO-8601 string in UTC (`2024-05-01T02:03:04.000Z`). Alipay's Beijing times are converted
 * at the edge (docs/alipay-protocol.md, "Amounts and times"); events are JSON, so instants stay strings.
 */
export type Instant = string;

/**
 * Where a trade fact came from: the server-to-server `notify_url`, the buyer's `return_url`, or the ledger's
 * own `single_trade_query` (docs/operations.md, "Reconciliation").
 */
export type NotificationSource = 'notify' | 'return' | 'query';

/** Length in UTF-8 bytes: Alipay limits text fields in bytes, and UTF-8 never counts fewer than GBK. */
export function utf8Length(text: string): number {
  return UTF8.encode(text).length;
}

const UTF8 = new TextEncoder();
