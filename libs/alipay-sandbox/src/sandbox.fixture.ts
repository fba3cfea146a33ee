import { generateKeyPairSync } from 'node:crypto';
import type { Charset, MerchantConfig, SignedRequest, SigningKey } from '@ledger/alipay-protocol';
import type { RawGatewayRequest } from './gateway/gateway-request';
import type { SandboxMerchant } from './sandbox-options';

// Merchants and requests for the sandbox's unit tests: real keys, real signed requests.

export const MD5_PARTNER = '2088000000000001';
export const MD5_KEY = 'demokey0000000000000000000000000';
export const GBK_PARTNER = '2088000000000002';
export const GBK_KEY = 'gbkkey00000000000000000000000000';
export const RSA_PARTNER = '2088000000000003';

function pemPair(): { publicKey: string; privateKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 1024,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

/** The merchant's pair (it signs requests) and Alipay's pair (the sandbox signs notifications). */
export const RSA_KEYS = { merchant: pemPair(), alipay: pemPair() };

export const MERCHANTS: readonly SandboxMerchant[] = [
  { partner: MD5_PARTNER, md5Keys: [MD5_KEY] },
  { partner: GBK_PARTNER, md5Keys: [GBK_KEY], sellerEmail: 'shop@example.com' },
  {
    partner: RSA_PARTNER,
    rsa: {
      merchantPublicKeyPem: RSA_KEYS.merchant.publicKey,
      alipayPrivateKeyPem: RSA_KEYS.alipay.privateKey,
    },
  },
];

export const MERCHANT_MAP: ReadonlyMap<string, SandboxMerchant> = new Map(
  MERCHANTS.map((m) => [m.partner, m]),
);

export function merchantConfig(partner: string, charset: Charset = 'utf-8'): MerchantConfig {
  const signingKey: SigningKey =
    partner === RSA_PARTNER
      ? { signType: 'RSA', privateKey: RSA_KEYS.merchant.privateKey }
      : { signType: 'MD5', md5Key: partner === GBK_PARTNER ? GBK_KEY : MD5_KEY };
  return { partner, charset, signingKey, gateway: 'http://sandbox.test/gateway.do' };
}

/** A signed request as it reaches gateway.do: in the query (GET) or the body (POST). */
export function asGatewayRequest(request: SignedRequest, method: 'GET' | 'POST' = 'GET'): RawGatewayRequest {
  return method === 'GET'
    ? {
        method,
        query: Buffer.from(request.url.slice(request.url.indexOf('?') + 1), 'latin1'),
        body: Buffer.alloc(0),
      }
    : {
        method,
        query: Buffer.from(`_input_charset=${request.charset}`, 'latin1'),
        body: Buffer.from(request.formBody, 'latin1'),
        contentType: request.formContentType,
      };
}

/** The value of a Result, or a thrown error listing its problems. */
export function valueOf<T>(
  result: { ok: true; value: T } | { ok: false; errors: readonly { message: string }[] },
): T {
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('; '));
  return result.value;
}
