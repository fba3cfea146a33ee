import { Injectable } from '@nestjs/common';
import {
  buildDirectPayRequest,
  buildTradeCreateByBuyerRequest,
  type MerchantConfig,
  type ProtocolError,
  type Result,
  type SignedRequest,
} from '@ledger/alipay-protocol';
import type { Fen, PaymentService } from '@ledger/domain';
import { merchantOf } from '@ledger/alipay-gateway';
import { LedgerConfig } from '@ledger/platform';

/** What the merchant asks for; the rest of the request comes from the configuration. */
export interface PaymentOrder {
  outTradeNo: string;
  subject: string;
  body?: string;
  totalFee: Fen;
  service: PaymentService;
}

// trade_create_by_buyer needs logistics (docs/alipay-protocol.md, "Payment requests"): the seller pays a free
// express delivery, the usual choice for goods whose price already includes shipping.
const DEFAULT_LOGISTICS = { type: 'EXPRESS', fee: 0, payment: 'SELLER_PAY' } as const;

/**
 * Signed payment requests for `create_direct_pay_by_user` and `trade_create_by_buyer`
 * (docs/alipay-protocol.md, "Services"), built by the protocol's request builders in the merchant's charset,
 * with notify_url and return_url under PUBLIC_BASE_URL. The same order always gives the same parameters: that
 * is what lets `PlaceOrder` compare a repeated order with the frozen one (docs/product-rules.md,
 * "Frozen orders", `TRADE_DATA_MATCH_ERROR`).
 */
@Injectable()
export class PaymentRequests {
  private readonly merchant: MerchantConfig;
  private readonly sellerId: string;
  private readonly notifyUrl: string;
  private readonly returnUrl: string;

  constructor(config: LedgerConfig) {
    const { alipay, http } = config;
    this.merchant = merchantOf(config);
    this.sellerId = alipay.sellerId;
    this.notifyUrl = `${http.publicBaseUrl}/alipay/notify`;
    this.returnUrl = `${http.publicBaseUrl}/alipay/return`;
  }

  /** The seller every order is placed for (ALIPAY_SELLER_ID, else the partner). */
  get seller(): string {
    return this.sellerId;
  }

  /** The signed request, or the protocol's errors, each naming the Alipay parameter at fault. */
  sign(order: PaymentOrder): Result<SignedRequest> {
    const common = {
      outTradeNo: order.outTradeNo,
      subject: order.subject,
      ...(order.body === undefined ? {} : { body: order.body }),
      sellerId: this.sellerId,
      notifyUrl: this.notifyUrl,
      returnUrl: this.returnUrl,
    };
    return order.service === 'trade_create_by_buyer'
      ? buildTradeCreateByBuyerRequest(this.merchant, {
          ...common,
          price: order.totalFee,
          quantity: 1,
          logistics: DEFAULT_LOGISTICS,
        })
      : buildDirectPayRequest(this.merchant, { ...common, totalFee: order.totalFee });
  }
}

/** The request's parameters as sent, without the signature: what `OrderPlaced` freezes. */
export function unsignedParameters(request: SignedRequest): Record<string, string> {
  return Object.fromEntries(
    request.params
      .filter(({ name }) => name !== 'sign' && name !== 'sign_type')
      .map(({ name, value }) => [name, value]),
  );
}

// The Alipay parameter a protocol error names, as the field of POST /orders that supplied it.
const REQUEST_FIELDS: Readonly<Record<string, string>> = {
  out_trade_no: 'outTradeNo',
  subject: 'subject',
  body: 'body',
  total_fee: 'totalFee',
  price: 'totalFee',
};

/** The first error that the client's input caused, as `[field, message]`; undefined when none did. */
export function clientFault(
  errors: readonly ProtocolError[],
): { field: string; message: string } | undefined {
  for (const error of errors) {
    const field = error.field === undefined ? undefined : REQUEST_FIELDS[error.field];
    if (field !== undefined) return { field, message: error.message };
  }
  return undefined;
}
