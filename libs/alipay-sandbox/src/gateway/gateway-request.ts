import {
  charsetFromLabel,
  isSignType,
  MAX_NOTIFICATION_PARAMETERS,
  parseForm,
  verifyNotification,
  type Charset,
  type SignType,
} from '@ledger/alipay-protocol';
import { signTypesOf, type SandboxMerchant } from '../sandbox-options';

// Every request that reaches gateway.do is checked the way Alipay checks it (docs/alipay-protocol.md,
// "Signing" and "Error codes"): the service, the partner, the sign type and then the signature over exactly
// the bytes received, in the request's `_input_charset`. Only then are the parameters read as text.

export const SANDBOX_SERVICES = [
  'create_direct_pay_by_user',
  'trade_create_by_buyer',
  'send_goods_confirm_by_platform',
  'refund_fastpay_by_platform_pwd',
  'refund_fastpay_by_platform_nopwd',
  'single_trade_query',
  'notify_verify',
] as const;

export type SandboxService = (typeof SANDBOX_SERVICES)[number];

/** The services whose answer is a page for a browser (the rest answer machines: XML or text). */
export const PAGE_SERVICES: ReadonlySet<string> = new Set([
  'create_direct_pay_by_user',
  'trade_create_by_buyer',
  'refund_fastpay_by_platform_pwd',
]);

/** A request as it reached gateway.do: the query's bytes (without `?`) and the body's. */
export interface RawGatewayRequest {
  readonly method: string;
  readonly query: Buffer;
  readonly body: Buffer;
  readonly contentType?: string;
}

export type SignedService = Exclude<SandboxService, 'notify_verify'>;

/** A signed request that passed the gateway's checks, one type per service. */
export type VerifiedRequest<S extends SignedService = SignedService> = S extends SignedService
  ? {
      readonly ok: true;
      readonly service: S;
      readonly merchant: SandboxMerchant;
      readonly signType: SignType;
      readonly charset: Charset;
      readonly params: Record<string, string>;
    }
  : never;

/** A request that passed the gateway's checks (`notify_verify` is not signed). */
export type AcceptedRequest =
  | { readonly ok: true; readonly service: 'notify_verify'; readonly params: Record<string, string> }
  | VerifiedRequest;

/** A request the gateway refuses, with Alipay's code and a line a developer can act on. */
export interface RefusedRequest {
  readonly ok: false;
  /** The service the request named (unverified: it only chooses the form of the answer). */
  readonly service: string | undefined;
  readonly code: string;
  readonly detail: string;
}

function isService(name: string | undefined): name is SandboxService {
  return name !== undefined && (SANDBOX_SERVICES as readonly string[]).includes(name);
}

// Requests are read with the caps notifications are verified with (a request over them is refused by the
// verification): parsing stops there, whatever a client sends.
function capped(raw: Buffer) {
  return parseForm(raw, { maxPairs: MAX_NOTIFICATION_PARAMETERS });
}

function firstValue(raw: Buffer, name: string): string | undefined {
  return capped(raw).pairs.find((pair) => pair.name === name)?.binaryValue;
}

/**
 * Checks a gateway request. A POST is read from its body (the demos also put `_input_charset` on the action
 * URL, which is honoured when the body lacks it, docs/alipay-protocol.md, "Signed bytes"); a GET, or a POST
 * with an empty body, from the query.
 */
export function checkGatewayRequest(
  request: RawGatewayRequest,
  merchants: ReadonlyMap<string, SandboxMerchant>,
): AcceptedRequest | RefusedRequest {
  const bodyForm = request.method === 'POST' ? capped(request.body) : undefined;
  const fromBody = bodyForm !== undefined && bodyForm.pairs.length > 0;
  const raw = fromBody ? request.body : request.query;
  const pairs = fromBody ? bodyForm.pairs : capped(raw).pairs;
  const unsigned = (name: string) => pairs.find((pair) => pair.name === name)?.binaryValue;
  const service = unsigned('service');
  const refuse = (code: string, detail: string): RefusedRequest => ({ ok: false, service, code, detail });

  if (!isService(service)) {
    return refuse(
      'ILLEGAL_SERVICE',
      `service ${JSON.stringify(service ?? '')} is not one the sandbox offers`,
    );
  }
  if (service === 'notify_verify') {
    const params: Record<string, string> = {};
    for (const pair of pairs) params[pair.name] ??= pair.binaryValue;
    return { ok: true, service, params };
  }

  const partner = unsigned('partner');
  const merchant = partner === undefined ? undefined : merchants.get(partner);
  if (merchant === undefined) {
    return refuse('ILLEGAL_PARTNER', `partner ${JSON.stringify(partner ?? '')} is not a sandbox merchant`);
  }

  const charsetLabel = unsigned('_input_charset') ?? firstValue(request.query, '_input_charset');
  const charset = charsetLabel === undefined ? 'utf-8' : charsetFromLabel(charsetLabel);
  if (charset === undefined) {
    return refuse('ILLEGAL_CHARSET', `_input_charset ${JSON.stringify(charsetLabel)} is not utf-8 or gbk`);
  }

  const signType = unsigned('sign_type');
  if (signType === undefined || !isSignType(signType)) {
    return refuse('ILLEGAL_SIGN_TYPE', `sign_type ${JSON.stringify(signType ?? '')} is not MD5 or RSA`);
  }
  if (!signTypesOf(merchant).includes(signType)) {
    return refuse('ILLEGAL_SIGN_TYPE', `partner ${merchant.partner} has no ${signType} key in the sandbox`);
  }

  const verified = verifyNotification(raw, {
    signType,
    ...(signType === 'MD5'
      ? { md5Keys: merchant.md5Keys ?? [] }
      : { alipayPublicKeyPem: merchant.rsa?.merchantPublicKeyPem }),
    defaultCharset: charset,
    ...(request.contentType === undefined ? {} : { contentType: request.contentType }),
    source: 'request',
  });
  if (!verified.ok) {
    const hints = verified.explanation.hints.length > 0 ? ` (${verified.explanation.hints.join('; ')})` : '';
    return refuse('ILLEGAL_SIGN', `${verified.explanation.summary}${hints}`);
  }
  const params: Record<string, string> = {};
  for (const { name, value } of verified.params) params[name] = value;
  return { ok: true, service, merchant, signType, charset: verified.explanation.charset, params };
}
