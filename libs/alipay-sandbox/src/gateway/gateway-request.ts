import {
  charsetFromLabel,
  isSignType,
  MAX_NOTIFICATION_PARAMETERS,
  parseForm,
  percentEncodeBytes,
  verifyNotification,
  type Charset,
  type SignType,
} from '@ledger/alipay-protocol';
import { multipartBoundary, parseMultipart } from '../http/multipart';
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

const AMPERSAND = 0x26;

/** The `&`-separated segments of a form's bytes, as received (empty ones dropped). */
function segments(raw: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  while (start <= raw.length) {
    let end = raw.indexOf(AMPERSAND, start);
    if (end === -1) end = raw.length;
    if (end > start) parts.push(raw.subarray(start, end));
    start = end + 1;
  }
  return parts;
}

/**
 * The body as form bytes: an urlencoded body as it came; a multipart one with each part's bytes carried
 * percent-encoded, which the form reader decodes back to exactly those bytes (the signature is still checked
 * over the bytes received). `undefined` with a sentence when the multipart is malformed.
 */
function bodyAsForm(request: RawGatewayRequest): { form: Buffer; multipart: boolean } | string {
  const boundary = multipartBoundary(request.contentType);
  if (boundary === undefined) return { form: request.body, multipart: false };
  if (boundary === null) return 'a multipart/form-data Content-Type without a valid boundary';
  const parsed = parseMultipart(request.body, boundary);
  if (!parsed.ok) return `malformed multipart/form-data: ${parsed.problem}`;
  const form = parsed.fields
    .map(
      ({ name, value }) => `${percentEncodeBytes(Buffer.from(name, 'latin1'))}=${percentEncodeBytes(value)}`,
    )
    .join('&');
  return { form: Buffer.from(form, 'latin1'), multipart: true };
}

/**
 * What the gateway reads: a GET's query; a POST's body together with the parameters of its query
 * (docs/sandbox.md, "gateway.do"). A query parameter the body repeats with the same bytes counts once; with
 * other bytes the request is ambiguous. `_input_charset` in the query of a POST is the charset the action URL
 * names (the demos' convention), used when the body has none; it is not a parameter of the request.
 */
function gatewayForm(
  request: RawGatewayRequest,
): { raw: Buffer; charsetHint?: string; contentType?: string } | { problem: string } {
  if (request.method !== 'POST') return { raw: request.query };
  const body = bodyAsForm(request);
  if (typeof body === 'string') return { problem: body };
  const bodyPairs = capped(body.form).pairs;
  const contentType = body.multipart ? undefined : request.contentType;
  if (bodyPairs.length === 0)
    return { raw: request.query, ...(contentType === undefined ? {} : { contentType }) };
  const inBody = new Map<string, Set<string>>();
  for (const pair of bodyPairs) {
    const values = inBody.get(pair.name) ?? new Set<string>();
    values.add(pair.binaryValue);
    inBody.set(pair.name, values);
  }
  const kept: Buffer[] = [body.form];
  let charsetHint: string | undefined;
  const querySegments = segments(request.query);
  // Past the cap the verification refuses the request anyway: the segments are passed on unread.
  const readable = querySegments.length <= MAX_NOTIFICATION_PARAMETERS;
  for (const segment of querySegments) {
    const pair = readable ? capped(segment).pairs[0] : undefined;
    if (pair === undefined) {
      if (!readable) kept.push(segment);
      continue;
    }
    if (pair.name === '_input_charset') {
      charsetHint ??= pair.binaryValue;
      continue;
    }
    const values = inBody.get(pair.name);
    if (values?.has(pair.binaryValue) === true && values.size === 1) continue;
    if (values !== undefined) {
      return { problem: `${pair.name} is in the query and in the body with other values` };
    }
    kept.push(segment);
  }
  const raw = Buffer.concat(
    kept.flatMap((part, index) => (index === 0 ? [part] : [Buffer.of(AMPERSAND), part])),
  );
  return {
    raw,
    ...(charsetHint === undefined ? {} : { charsetHint }),
    ...(contentType === undefined ? {} : { contentType }),
  };
}

/**
 * Checks a gateway request. A GET is read from its query; a POST from its body, urlencoded or multipart
 * (Alipay's PHP kit), together with its query's parameters; the demos put `_input_charset` on the action URL,
 * which is honoured when the body lacks it (docs/alipay-protocol.md, "Signed bytes"). The signature is
 * checked over the bytes received.
 */
export function checkGatewayRequest(
  request: RawGatewayRequest,
  merchants: ReadonlyMap<string, SandboxMerchant>,
): AcceptedRequest | RefusedRequest {
  const form = gatewayForm(request);
  if ('problem' in form) {
    const service = firstValue(request.query, 'service');
    return { ok: false, service, code: 'ILLEGAL_ARGUMENT', detail: form.problem };
  }
  const raw = form.raw;
  const pairs = capped(raw).pairs;
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

  const charsetLabel =
    unsigned('_input_charset') ?? form.charsetHint ?? firstValue(request.query, '_input_charset');
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
    ...(form.contentType === undefined ? {} : { contentType: form.contentType }),
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
