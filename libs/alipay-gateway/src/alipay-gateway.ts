import type { KeyObject } from 'node:crypto';
import {
  buildNotifyVerifyUrl,
  buildRefundNopwdRequest,
  buildSingleTradeQueryRequest,
  parseSingleTradeQueryReply,
  buildSendGoodsConfirmRequest,
  decodeBytes,
  describeAlipayError,
  isRetryableAlipayError,
  parseGatewayReply,
  type GatewayReply,
  type MerchantConfig,
  type NopwdRefund,
  type ProtocolError,
  type Result,
  type SendGoods,
  type SignedRequest,
  type SigningKey,
  type SingleTradeQueryReply,
  type TradeQuery,
} from '@ledger/alipay-protocol';
import type { LedgerConfig, LedgerMetrics } from '@ledger/platform';
import { GatewayError } from './gateway-error';
import { exchange, type HttpReply } from './http-exchange';

// The outbound half of the classic API (docs/alipay-protocol.md, "Services"): notify_verify,
// send_goods_confirm_by_platform, the no-password batch refund and single_trade_query. Requests are built and signed by
// @ledger/alipay-protocol in the merchant's charset; replies are read by its parsers. Never call these inside
// a database transaction (docs/fulfilment.md, "Running the worker"): a slow gateway would hold the
// transaction, and on the embedded database every other one.

export interface AlipayGatewayOptions {
  /** Partner, `_input_charset`, signing key and gateway URL. */
  readonly merchant: MerchantConfig;
  /**
   * notify_verify runs while Alipay's notifier waits for `success`; past this the ledger answers `fail`
   * and Alipay retries (docs/alipay-protocol.md, "notify_verify"). Default 5,000 ms.
   */
  readonly notifyVerifyTimeoutMs?: number;
  /** send_goods_confirm and refunds. Default 15,000 ms. */
  readonly requestTimeoutMs?: number;
  /** Replies are a few hundred bytes; anything much larger is not the gateway's. Default 1 MiB. */
  readonly maxReplyBytes?: number;
  /** single_trade_query. Default 10,000 ms. */
  readonly queryTimeoutMs?: number;
  /**
   * What verifies Alipay's signed answers (single_trade_query): every configured MD5 key (a rotation), or
   * Alipay's MAPI public key for RSA. Without it a query answer is never `found`, only `unverified`.
   */
  readonly verification?: {
    readonly md5Keys?: readonly string[];
    readonly alipayPublicKeyPem?: string | KeyObject | readonly (string | KeyObject)[];
  };
  /** Times every call and counts those that fail, by service (docs/operations.md, "Metrics"). */
  readonly metrics?: Pick<LedgerMetrics, 'gatewayCalled'>;
}

export interface CallOptions {
  /** Stops the call (shutdown): it fails with `ABORTED`. */
  readonly signal?: AbortSignal;
}

/** Alipay's answer to `notify_verify`: `true` (the notification is genuine and unanswered) or `false`. */
export interface NotifyVerifyAnswer {
  readonly verified: boolean;
  readonly answer: 'true' | 'false';
  readonly latencyMs: number;
}

/**
 * A request Alipay took: `accepted` (`is_success` T) or `pending` (P: accepted, result to come;
 * docs/alipay-protocol.md, "nopwd answer"). For a refund neither means refunded: the result comes as
 * batch_refund_notify.
 */
export interface GatewayAcceptance {
  readonly status: 'accepted' | 'pending';
  readonly reply: GatewayReply;
  readonly latencyMs: number;
}

/**
 * Alipay's answer to `single_trade_query` (docs/alipay-protocol.md, "Trade query"): `found` (signature
 * verified), `unverified` (a `T` whose signature did not verify: evidence, never a fact) or `not_found`
 * (`TRADE_IS_NOT_EXIST`, unsigned: it closes nothing on its own). `body` is the reply as received, to be
 * kept as evidence.
 */
export interface TradeQueryResult {
  readonly reply: Exclude<SingleTradeQueryReply, { status: 'rejected' }>;
  readonly body: Buffer;
  readonly latencyMs: number;
}

const DEFAULT_NOTIFY_VERIFY_TIMEOUT_MS = 5_000;
const DEFAULT_QUERY_TIMEOUT_MS = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_REPLY_BYTES = 1024 * 1024;
const EXCERPT_CHARS = 200;

function excerpt(reply: HttpReply): string {
  const text = decodeBytes(reply.body.subarray(0, EXCERPT_CHARS * 4), 'utf-8');
  return text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text;
}

function describeProtocolErrors(errors: readonly ProtocolError[]): string {
  return errors.map((e) => (e.field === undefined ? e.message : `${e.field}: ${e.message}`)).join('; ');
}

function signingKeyOf({ alipay }: LedgerConfig): SigningKey {
  if (alipay.signType === 'MD5') {
    const md5Key = alipay.md5Keys.at(0);
    if (md5Key === undefined) throw new Error('no MD5 key is configured to sign requests to Alipay');
    return { signType: 'MD5', md5Key };
  }
  if (alipay.merchantPrivateKeyPem === undefined) {
    throw new Error(
      'ALIPAY_SIGN_TYPE=RSA without a merchant private key: requests to Alipay cannot be signed',
    );
  }
  return { signType: 'RSA', privateKey: alipay.merchantPrivateKeyPem };
}

/**
 * The configured merchant as the protocol's request builders take it: partner, request charset, gateway,
 * and the key that signs (the first MD5 key during a rotation, or the merchant's RSA private key).
 */
export function merchantOf(config: LedgerConfig): MerchantConfig {
  const { alipay } = config;
  return {
    partner: alipay.partner,
    charset: alipay.inputCharset,
    gateway: alipay.gateway,
    signingKey: signingKeyOf(config),
  };
}

function verificationOf({ alipay }: LedgerConfig): NonNullable<AlipayGatewayOptions['verification']> {
  return alipay.signType === 'MD5'
    ? { md5Keys: alipay.md5Keys }
    : {
        ...(alipay.alipayPublicKeyPem === undefined ? {} : { alipayPublicKeyPem: alipay.alipayPublicKeyPem }),
      };
}

/** The client of the Alipay gateway. One instance per merchant configuration; safe for concurrent calls. */
export class AlipayGateway {
  private readonly merchant: MerchantConfig;
  private readonly notifyVerifyTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly maxReplyBytes: number;
  private readonly queryTimeoutMs: number;
  private readonly verification: NonNullable<AlipayGatewayOptions['verification']>;
  private readonly metrics: AlipayGatewayOptions['metrics'];

  constructor(options: AlipayGatewayOptions) {
    this.merchant = options.merchant;
    this.metrics = options.metrics;
    this.queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    this.verification = options.verification ?? {};
    this.notifyVerifyTimeoutMs = options.notifyVerifyTimeoutMs ?? DEFAULT_NOTIFY_VERIFY_TIMEOUT_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.maxReplyBytes = options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
  }

  /** The client for the configured merchant: the first MD5 key, or the merchant's RSA private key, signs. */
  static fromConfig(
    config: LedgerConfig,
    options: Omit<AlipayGatewayOptions, 'merchant'> = {},
  ): AlipayGateway {
    return new AlipayGateway({
      verification: verificationOf(config),
      ...options,
      merchant: merchantOf(config),
    });
  }

  /**
   * Asks whether Alipay sent the notification `notifyId` (docs/alipay-protocol.md, "notify_verify"): GET,
   * unsigned, the body `true` or `false`. Ask before answering `success`: the id dies afterwards. Any other
   * reply is `BAD_REPLY` (`invalid` means the partner is wrong), so that the notification is answered `fail`
   * and retried.
   */
  notifyVerify(notifyId: string, options: CallOptions = {}): Promise<NotifyVerifyAnswer> {
    return this.timed('notify_verify', () => this.askNotifyVerify(notifyId, options));
  }

  private async askNotifyVerify(notifyId: string, options: CallOptions): Promise<NotifyVerifyAnswer> {
    const service = 'notify_verify';
    const url = buildNotifyVerifyUrl({
      partner: this.merchant.partner,
      notifyId,
      ...(this.merchant.gateway === undefined ? {} : { gateway: this.merchant.gateway }),
    });
    if (!url.ok) throw this.invalidRequest(service, url);
    const reply = await exchange({
      service,
      url: url.value,
      method: 'GET',
      idempotent: true,
      timeoutMs: this.notifyVerifyTimeoutMs,
      maxReplyBytes: this.maxReplyBytes,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    this.requireOk(service, reply);
    const answer = decodeBytes(reply.body, 'utf-8').trim();
    if (answer !== 'true' && answer !== 'false') {
      throw new GatewayError('BAD_REPLY', `${service}: the gateway answered neither true nor false`, {
        service,
        retryable: true,
        latencyMs: reply.latencyMs,
        httpStatus: reply.status,
        replyExcerpt: excerpt(reply),
      });
    }
    return { verified: answer === 'true', answer, latencyMs: reply.latencyMs };
  }

  /**
   * Tells Alipay that an escrow trade's goods were shipped (`send_goods_confirm_by_platform`). `F` throws
   * `REJECTED` with Alipay's code; a transport failure leaves it unknown whether Alipay recorded the
   * shipment (a second call for a shipped trade is refused).
   */
  sendGoodsConfirm(shipment: SendGoods, options: CallOptions = {}): Promise<GatewayAcceptance> {
    return this.submit(
      'send_goods_confirm_by_platform',
      buildSendGoodsConfirmRequest(this.merchant, shipment),
      options,
    );
  }

  /**
   * Submits a no-password batch refund (docs/alipay-protocol.md, "Batch refund requests" and "nopwd answer").
   * Accepted is not refunded: the result comes as batch_refund_notify. After a transport failure retry with
   * the same `batchNo`: `REJECTED` with `DUPLICATE_BATCH_NO` then means the first call was accepted
   * (docs/alipay-protocol.md, "batch_no").
   */
  refundNopwd(refund: NopwdRefund, options: CallOptions = {}): Promise<GatewayAcceptance> {
    return this.submit(
      'refund_fastpay_by_platform_nopwd',
      buildRefundNopwdRequest(this.merchant, refund),
      options,
    );
  }

  /**
   * Asks Alipay for a trade as it stands (`single_trade_query`, docs/alipay-protocol.md, "Trade query"), by
   * `outTradeNo` or `tradeNo`: a GET of the signed query, the XML answer read in the request charset and its
   * signature verified over the `<trade>` fields. Nothing changes at Alipay, so any failure may be retried.
   * An `F` other than `TRADE_IS_NOT_EXIST` throws `REJECTED` with Alipay's code (`ILLEGAL_PARTNER_EXTERFACE`:
   * the service is not contracted); a reply that is not the service's XML throws `BAD_REPLY`.
   */
  singleTradeQuery(query: TradeQuery, options: CallOptions = {}): Promise<TradeQueryResult> {
    return this.timed('single_trade_query', () => this.queryTrade(query, options));
  }

  private async queryTrade(query: TradeQuery, options: CallOptions): Promise<TradeQueryResult> {
    const service = 'single_trade_query';
    const built = buildSingleTradeQueryRequest(this.merchant, query);
    if (!built.ok) throw this.invalidRequest(service, built);
    const reply = await exchange({
      service,
      url: built.value.url,
      method: 'GET',
      idempotent: true,
      timeoutMs: this.queryTimeoutMs,
      maxReplyBytes: this.maxReplyBytes,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    this.requireOk(service, reply);
    const parsed = parseSingleTradeQueryReply(reply.body, {
      signType: this.merchant.signingKey.signType,
      charset: this.merchant.charset,
      ...this.verification,
    });
    if (!parsed.ok) {
      throw new GatewayError(
        'BAD_REPLY',
        `${service}: the reply is not the gateway's answer: ${describeProtocolErrors(parsed.errors)}`,
        {
          service,
          retryable: true,
          latencyMs: reply.latencyMs,
          httpStatus: reply.status,
          replyExcerpt: excerpt(reply),
        },
      );
    }
    const answer = parsed.value;
    if (answer.status === 'rejected') throw this.rejected(service, answer.error, reply);
    return { reply: answer, body: reply.body, latencyMs: reply.latencyMs };
  }

  private rejected(service: string, code: string | undefined, reply: HttpReply): GatewayError {
    const meaning = code === undefined ? undefined : describeAlipayError(code);
    return new GatewayError(
      'REJECTED',
      `${service}: Alipay refused the request with ${code ?? 'no error code'}` +
        (meaning === undefined ? '' : ` (${meaning.en})`),
      {
        service,
        retryable: code !== undefined && isRetryableAlipayError(code),
        latencyMs: reply.latencyMs,
        httpStatus: reply.status,
        ...(code === undefined ? {} : { alipayCode: code }),
      },
    );
  }

  /** Runs one call, timed, its failure counted by code. */
  private async timed<T>(service: string, call: () => Promise<T>): Promise<T> {
    if (this.metrics === undefined) return call();
    const started = performance.now();
    try {
      const result = await call();
      this.metrics.gatewayCalled(service, (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      const code = error instanceof GatewayError ? error.code : 'UNEXPECTED';
      this.metrics.gatewayCalled(service, (performance.now() - started) / 1000, code);
      throw error;
    }
  }

  private submit(
    service: string,
    built: Result<SignedRequest>,
    options: CallOptions,
  ): Promise<GatewayAcceptance> {
    return this.timed(service, () => this.post(service, built, options));
  }

  private async post(
    service: string,
    built: Result<SignedRequest>,
    options: CallOptions,
  ): Promise<GatewayAcceptance> {
    if (!built.ok) throw this.invalidRequest(service, built);
    const request = built.value;
    // POST with `_input_charset` on the URL, or Alipay reads the body in the wrong charset
    // (docs/alipay-protocol.md, "Signed bytes").
    const reply = await exchange({
      service,
      url: request.formAction,
      method: 'POST',
      body: request.formBody,
      contentType: request.formContentType,
      timeoutMs: this.requestTimeoutMs,
      maxReplyBytes: this.maxReplyBytes,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    this.requireOk(service, reply);
    const parsed = parseGatewayReply(reply.body);
    if (!parsed.ok) {
      throw new GatewayError(
        'BAD_REPLY',
        `${service}: the reply is not the gateway's XML: ${describeProtocolErrors(parsed.errors)}`,
        {
          service,
          retryable: true,
          latencyMs: reply.latencyMs,
          httpStatus: reply.status,
          replyExcerpt: excerpt(reply),
        },
      );
    }
    const answer = parsed.value;
    if (answer.status === 'rejected') throw this.rejected(service, answer.error, reply);
    return { status: answer.status, reply: answer, latencyMs: reply.latencyMs };
  }

  /**
   * A reply that is not HTTP 200 is not an answer of the service (e.g. nginx's 400 page,
   * docs/alipay-protocol.md, "notify_verify").
   */
  private requireOk(service: string, reply: HttpReply): void {
    if (reply.status === 200) return;
    throw new GatewayError('BAD_REPLY', `${service}: the gateway replied HTTP ${reply.status}`, {
      service,
      retryable: true,
      latencyMs: reply.latencyMs,
      httpStatus: reply.status,
      replyExcerpt: excerpt(reply),
    });
  }

  private invalidRequest(service: string, failure: { errors: readonly ProtocolError[] }): GatewayError {
    return new GatewayError(
      'INVALID_REQUEST',
      `${service}: the request cannot be sent: ${describeProtocolErrors(failure.errors)}`,
      { service, retryable: false },
    );
  }
}
