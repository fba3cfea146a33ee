import { isRequestAmount } from '@ledger/alipay-protocol';
import { DomainError } from '../domain-error';
import { utf8Length, type Fen, type Instant } from '../values';
import type { OrderEvent, OrderPlaced, PaymentService } from './order-events';
import type { OrderState } from './order-state';
import { orderStreamId } from './order-stream';

/**
 * Place an order; its request parameters are frozen from then on (docs/product-rules.md, "Frozen orders",
 * `TRADE_DATA_MATCH_ERROR`).
 */
export interface PlaceOrder {
  type: 'PlaceOrder';
  outTradeNo: string;
  subject: string;
  body?: string;
  totalFee: Fen;
  service: PaymentService;
  sellerId: string;
  requestParameters: Readonly<Record<string, string>>;
  placedAt: Instant;
  /** An order read from the PHP integration's order table (`OrderPlaced.imported`). */
  imported?: { source: string };
}

// docs/alipay-protocol.md, "Payment requests": subject ≤ 256 bytes, body ≤ 1000; seller ids are 2088 + 12
// digits.
const MAX_SUBJECT_BYTES = 256;
const MAX_BODY_BYTES = 1000;
const SELLER_ID = /^2088[0-9]{12}$/;
const SERVICES: ReadonlySet<string> = new Set<PaymentService>([
  'create_direct_pay_by_user',
  'trade_create_by_buyer',
]);

function invalid(field: string, message: string): DomainError {
  return new DomainError('INVALID_ORDER', message, field);
}

function validate(command: PlaceOrder): void {
  orderStreamId(command.outTradeNo);
  if (command.subject.trim() === '') throw invalid('subject', 'subject must not be empty');
  if (utf8Length(command.subject) > MAX_SUBJECT_BYTES) {
    throw invalid('subject', `subject must be at most ${MAX_SUBJECT_BYTES} bytes`);
  }
  if (command.body !== undefined && utf8Length(command.body) > MAX_BODY_BYTES) {
    throw invalid('body', `body must be at most ${MAX_BODY_BYTES} bytes`);
  }
  if (!isRequestAmount(command.totalFee)) {
    throw invalid('totalFee', 'totalFee must be integer fen between 0.01 and 100000000.00 yuan');
  }
  if (!SERVICES.has(command.service)) throw invalid('service', `unknown service ${command.service}`);
  if (!SELLER_ID.test(command.sellerId))
    throw invalid('sellerId', 'sellerId must be 2088 followed by 12 digits');
}

function sameParameters(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key])
  );
}

/**
 * Every field but the time: placing the same order twice is one order (docs/product-rules.md,
 * "HTTP endpoints" `POST /orders`).
 */
function samePlacement(placed: OrderPlaced['data'], command: PlaceOrder): boolean {
  return (
    placed.subject === command.subject &&
    placed.body === command.body &&
    placed.totalFee === command.totalFee &&
    placed.service === command.service &&
    placed.sellerId === command.sellerId &&
    sameParameters(placed.requestParameters, command.requestParameters)
  );
}

/**
 * `OrderPlaced` for a new order; nothing for the same order again; `ORDER_CONFLICT` for the same
 * `out_trade_no` with other data. A stream holding only anomalies (notifications that came before the
 * order) can still be placed.
 */
export function decidePlaceOrder(command: PlaceOrder, state: OrderState): OrderEvent[] {
  validate(command);
  if (state.placed !== undefined) {
    if (samePlacement(state.placed, command)) return [];
    throw new DomainError(
      'ORDER_CONFLICT',
      `order ${command.outTradeNo} was already placed with other data; a changed order needs a new out_trade_no`,
      'outTradeNo',
    );
  }
  return [
    {
      type: 'OrderPlaced',
      data: {
        outTradeNo: command.outTradeNo,
        subject: command.subject,
        ...(command.body === undefined ? {} : { body: command.body }),
        totalFee: command.totalFee,
        service: command.service,
        sellerId: command.sellerId,
        requestParameters: { ...command.requestParameters },
        placedAt: command.placedAt,
        ...(command.imported === undefined ? {} : { imported: { source: command.imported.source } }),
      },
    },
  ];
}
