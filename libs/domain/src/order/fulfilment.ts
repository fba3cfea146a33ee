import { DomainError } from '../domain-error';
import type { Instant } from '../values';
import { returnDecision, shippingDecision } from './order-decisions';
import type { OrderEvent } from './order-events';
import type { OrderState } from './order-state';

// Acting on a decision appends its completion, so that a rebuilt projection never acts twice
// (docs/product-rules.md, "Acting on decisions").

/**
 * How a delivery or a return came to be done: the merchant's system answered a webhook with 2xx, or an
 * operator completed it by hand (docs/fulfilment.md, "Completing by hand").
 */
export type FulfilmentSource =
  | {
      via: 'webhook';
      /** The `webhook-id` the receiver answered; it de-duplicates by it. */
      webhookId: string;
      /** The receiver's HTTP status and the start of its reply body. */
      reply: { status: number; body: string };
    }
  | { via: 'operator'; operator: string; reason: string };

/** The merchant's system delivered the order. */
export interface CompleteDelivery {
  type: 'CompleteDelivery';
  outTradeNo: string;
  deliveredAt: Instant;
  /** The fulfilment system's own reference, when it gives one. */
  reference?: string;
  source?: FulfilmentSource;
}

/** The goods of a refunded order were taken back. */
export interface CompleteReturn {
  type: 'CompleteReturn';
  outTradeNo: string;
  returnedAt: Instant;
  reference?: string;
  source?: FulfilmentSource;
}

/**
 * The answer of one `send_goods_confirm_by_platform` call for an escrow trade (docs/fulfilment.md,
 * "Escrow shipping").
 */
export interface ConfirmShipping {
  type: 'ConfirmShipping';
  outTradeNo: string;
  result: { outcome: 'confirmed' } | { outcome: 'failed'; code: string; retryable: boolean };
  at: Instant;
}

/**
 * `DeliveryCompleted` once. The webhook was sent because the delivery was pending when it was called; a refund or
 * anomaly recorded meanwhile does not undo the goods, so the delivery is recorded for any paid order (the
 * return decision then takes over). An order never paid was never due.
 */
export function decideCompleteDelivery(command: CompleteDelivery, state: OrderState): OrderEvent[] {
  if (state.delivered) return [];
  if (state.placed === undefined || !state.paid) {
    throw new DomainError(
      'DELIVERY_NOT_DUE',
      `order ${command.outTradeNo} has no recognised payment to deliver`,
    );
  }
  return [
    {
      type: 'DeliveryCompleted',
      data: {
        outTradeNo: command.outTradeNo,
        deliveredAt: command.deliveredAt,
        ...(command.reference === undefined ? {} : { reference: command.reference }),
        ...(command.source === undefined ? {} : command.source),
      },
    },
  ];
}

/** `ReturnCompleted` once, when the return is pending or an admin settles a manual review with a return. */
export function decideCompleteReturn(command: CompleteReturn, state: OrderState): OrderEvent[] {
  const decision = returnDecision(state);
  if (decision === 'returned') return [];
  if (decision === 'none') {
    throw new DomainError(
      'RETURN_NOT_DUE',
      `order ${command.outTradeNo} has nothing to take back: it was not delivered or not refunded`,
    );
  }
  return [
    {
      type: 'ReturnCompleted',
      data: {
        outTradeNo: command.outTradeNo,
        returnedAt: command.returnedAt,
        ...(command.reference === undefined ? {} : { reference: command.reference }),
        ...(command.source === undefined ? {} : command.source),
      },
    },
  ];
}

/**
 * `ShippingConfirmed` or `ShippingConfirmationFailed` while a confirmation is pending. Once Alipay sees the
 * goods shipped (or a confirmation was recorded), any further answer is moot and appends nothing.
 */
export function decideConfirmShipping(command: ConfirmShipping, state: OrderState): OrderEvent[] {
  const decision = shippingDecision(state);
  if (decision === 'confirmed') return [];
  if (decision !== 'pending' || state.tradeNo === undefined) {
    throw new DomainError(
      'SHIPPING_NOT_DUE',
      `order ${command.outTradeNo} is not waiting for a shipping confirmation (${decision})`,
    );
  }
  const attempt = state.shipping.attempts + 1;
  const { result } = command;
  if (result.outcome === 'confirmed') {
    return [
      {
        type: 'ShippingConfirmed',
        data: { outTradeNo: command.outTradeNo, tradeNo: state.tradeNo, attempt, confirmedAt: command.at },
      },
    ];
  }
  return [
    {
      type: 'ShippingConfirmationFailed',
      data: {
        outTradeNo: command.outTradeNo,
        tradeNo: state.tradeNo,
        attempt,
        code: result.code,
        retryable: result.retryable,
        failedAt: command.at,
      },
    },
  ];
}
