import {
  createHash,
  createPrivateKey,
  createPublicKey,
  hash,
  sign as cryptoSign,
  timingSafeEqual,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { encodeText, type Charset } from './charset';
import { fail, ok, type ProtocolError, type Result } from './errors';
import type { TextParam } from './form-encoding';

// docs/alipay-protocol.md, "Pre-sign string", "MD5" and "RSA": the pre-sign string is every parameter the
// sender sent except `sign`, `sign_type` and empty values, sorted by name in byte order, joined `name=value`
// with `&`, not URL-encoded. MD5 = lowercase hex md5(preSign + key); RSA = base64 SHA1withRSA(preSign). Both
// over the charset's bytes.

/**
 * The sign types this lib implements; `DSA` is documented but implemented by nobody (docs/alipay-protocol.md,
 * "RSA").
 */
export type SignType = 'MD5' | 'RSA';

export function isSignType(value: string): value is SignType {
  return value === 'MD5' || value === 'RSA';
}

/** Why a parameter is left out of the pre-sign string. */
export type ExclusionReason = 'SIGNATURE_PARAMETER' | 'EMPTY_VALUE';

export interface ExcludedParam {
  readonly name: string;
  readonly reason: ExclusionReason;
}

/** The bytes to sign, with the names that went in (in signing order) and those left out. */
export interface PreSign {
  readonly bytes: Buffer;
  readonly included: readonly string[];
  readonly excluded: readonly ExcludedParam[];
}

/** A parameter already in the sender's bytes (a parsed form pair, or an encoded text parameter). */
export interface ByteParam {
  readonly name: string;
  readonly nameBytes: Buffer;
  readonly valueBytes: Buffer;
}

// The official demos drop exactly these two names (docs/alipay-protocol.md, "Pre-sign string").
function isSignatureParameter(name: string): boolean {
  return name === 'sign' || name === 'sign_type';
}

/** A pre-sign string held as a binary string: one Latin-1 character per byte. */
export interface BinaryPreSign {
  readonly binary: string;
  readonly included: readonly string[];
  readonly excluded: readonly ExcludedParam[];
  /** Names sent more than once, which make the pre-sign string ambiguous. */
  readonly duplicates: readonly string[];
}

/** A parameter whose name and value are binary strings (one Latin-1 character per byte). */
export interface BinaryParam {
  /** The name as reported in `included`/`excluded`. */
  readonly name: string;
  readonly binaryName: string;
  readonly binaryValue: string;
}

/**
 * The one implementation of the pre-sign string (docs/alipay-protocol.md, "Pre-sign string"), on binary
 * strings: comparing strings whose characters are the bytes is a byte-order sort, and joining them is joining
 * the bytes. The verification path calls it directly with parsed pairs; `keepEmpty` keeps empty values, as
 * some non-demo senders do (docs/alipay-protocol.md, "Pre-sign string"), for diagnostics only.
 */
export function preSignFromBinary(
  params: readonly BinaryParam[],
  options: { keepEmpty?: boolean } = {},
): BinaryPreSign {
  const kept: BinaryParam[] = [];
  const excluded: ExcludedParam[] = [];
  const empties: BinaryParam[] = [];
  let signs = 0;
  let signTypes = 0;
  for (const param of params) {
    if (isSignatureParameter(param.name)) {
      excluded.push({ name: param.name, reason: 'SIGNATURE_PARAMETER' });
      if (param.name === 'sign') signs++;
      else signTypes++;
    } else if (param.binaryValue.length === 0 && options.keepEmpty !== true) {
      excluded.push({ name: param.name, reason: 'EMPTY_VALUE' });
      empties.push(param);
    } else kept.push(param);
  }
  kept.sort((a, b) => (a.binaryName < b.binaryName ? -1 : a.binaryName > b.binaryName ? 1 : 0));

  // Duplicates among the kept fall out of the sort (adjacent equal names) instead of costing a hash set
  // per parameter; an empty value's name is looked up in one pass over all of them, so that a body of
  // many empty names stays linear.
  const duplicates = new Set<string>();
  if (signs > 1) duplicates.add('sign');
  if (signTypes > 1) duplicates.add('sign_type');
  if (empties.length > 0) {
    const emptyNames = new Map<string, number>(empties.map((empty) => [empty.binaryName, 0]));
    for (const param of params) {
      const seen = emptyNames.get(param.binaryName);
      if (seen !== undefined) emptyNames.set(param.binaryName, seen + 1);
    }
    for (const empty of empties) {
      if ((emptyNames.get(empty.binaryName) ?? 0) > 1) duplicates.add(empty.name);
    }
  }
  let binary = '';
  const included: string[] = [];
  for (let i = 0; i < kept.length; i++) {
    const param = kept[i];
    if (i > 0 && kept[i - 1].binaryName === param.binaryName) duplicates.add(param.name);
    binary += `${i === 0 ? '' : '&'}${param.binaryName}=${param.binaryValue}`;
    included.push(param.name);
  }
  return { binary, included, excluded, duplicates: [...duplicates].sort() };
}

/**
 * Builds the pre-sign bytes from parameters in the sender's bytes: byte-order sort of the names
 * (`_input_charset` first), `name=value` joined by `&`, nothing encoded. Duplicate names are the
 * caller's to refuse (a verification does, see `verifyNotification`).
 */
export function preSignFromBytes(
  params: readonly ByteParam[],
  options: { keepEmpty?: boolean } = {},
): PreSign {
  const { binary, included, excluded } = preSignFromBinary(
    params.map((p) => ({
      name: p.name,
      binaryName: p.nameBytes.toString('latin1'),
      binaryValue: p.valueBytes.toString('latin1'),
    })),
    options,
  );
  return { bytes: Buffer.from(binary, 'latin1'), included, excluded };
}

/**
 * Builds the pre-sign bytes of text parameters in the charset (docs/alipay-protocol.md, "Signed bytes": GBK
 * merchants sign GBK bytes). Fails with `UNENCODABLE_CHARACTER` when a value has no representation in the
 * charset.
 */
export function preSignFromText(params: readonly TextParam[], charset: Charset): Result<PreSign> {
  const byteParams: ByteParam[] = [];
  const errors: ProtocolError[] = [];
  for (const { name, value } of params) {
    const nameBytes = encodeText(name, charset, name);
    const valueBytes = encodeText(value, charset, name);
    if (!nameBytes.ok) errors.push(...nameBytes.errors);
    else if (!valueBytes.ok) errors.push(...valueBytes.errors);
    else byteParams.push({ name, nameBytes: nameBytes.value, valueBytes: valueBytes.value });
  }
  return errors.length > 0 ? { ok: false, errors } : ok(preSignFromBytes(byteParams));
}

/** The pre-sign string of text parameters, as text (UTF-8 byte order of names), e.g. for display. */
export function preSignString(params: readonly TextParam[]): string {
  return params
    .filter(({ name, value }) => !isSignatureParameter(name) && value !== '')
    .map(({ name, value }) => ({ key: Buffer.from(name, 'utf8'), pair: `${name}=${value}` }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map(({ pair }) => pair)
    .join('&');
}

// An MD5 key is the 32-character "安全校验码" (docs/alipay-protocol.md, "MD5"). Anything else is a configuration
// mistake, and an empty key would make every signature forgeable.
const MD5_KEY = /^[\x21-\x7e]{32}$/;

/** Whether a string has the shape of an MD5 key: 32 printable ASCII characters, no spaces. */
export function isMd5Key(key: string): boolean {
  return typeof key === 'string' && MD5_KEY.test(key);
}

/** `md5(preSign + key)` as 32 lowercase hex characters; the key is appended with no separator. */
export function md5Sign(preSign: Uint8Array, key: string): Result<string> {
  if (!isMd5Key(key)) return fail('INVALID_KEY', 'an MD5 key is 32 printable ASCII characters');
  return ok(md5Hex(preSign, key));
}

function md5Hex(preSign: Uint8Array, key: string): string {
  return createHash('md5').update(preSign).update(key, 'latin1').digest('hex');
}

/** How one configured key fared; keys are named by index, never shown. */
export interface KeyAttempt {
  readonly index: number;
  readonly outcome: 'matched' | 'no-match' | 'invalid-key';
  readonly detail?: string;
}

export interface SignatureCheck {
  readonly ok: boolean;
  /** Index of the first key that matched (rotation: old and new keys are both configured). */
  readonly matchedKeyIndex?: number;
  readonly attempts: readonly KeyAttempt[];
  /** Set when the signature itself cannot be right whatever the key (wrong length, not base64, ...). */
  readonly malformedSignature?: string;
}

const MD5_HEX_LENGTH = 32;
const MD5_BYTES = 16;
const LOWER_HEX = /^[0-9a-f]{32}$/;

/**
 * Verifies an MD5 signature against each key in constant time per key (every key is tried, so the time
 * does not tell which matched). Upper-case hex is refused: Alipay signs lower case (docs/alipay-protocol.md,
 * "MD5").
 */
export function verifyMd5(
  preSign: Uint8Array,
  signature: Uint8Array | string,
  keys: readonly string[],
): SignatureCheck {
  return checkMd5((key) => createHash('md5').update(preSign).update(key, 'latin1').digest(), signature, keys);
}

/** `verifyMd5` over a binary-string pre-sign (the verification path); `knownAscii` skips a scan. */
export function verifyMd5Binary(
  preSign: string,
  signature: Uint8Array | string,
  keys: readonly string[],
  knownAscii = false,
): SignatureCheck {
  // crypto.hash reads a string as UTF-8, which is the bytes themselves only when they are ASCII.
  const ascii = knownAscii || !NON_ASCII.test(preSign);
  return checkMd5(
    (key) => hash('md5', ascii ? `${preSign}${key}` : Buffer.from(`${preSign}${key}`, 'latin1'), 'buffer'),
    signature,
    keys,
  );
}

const NON_ASCII = /[\u0080-\uffff]/;

function checkMd5(
  digest: (key: string) => Buffer,
  signature: Uint8Array | string,
  keys: readonly string[],
): SignatureCheck {
  const received =
    typeof signature === 'string'
      ? signature
      : Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength).toString('latin1');
  const wellFormed = LOWER_HEX.test(received);
  // The digest is compared as 16 bytes; a malformed signature is still compared, against a stand-in, so
  // that its rejection takes the time of a real comparison.
  const candidate = wellFormed ? Buffer.from(received, 'hex') : Buffer.alloc(MD5_BYTES);
  const attempts: KeyAttempt[] = [];
  let matchedKeyIndex: number | undefined;
  keys.forEach((key, index) => {
    if (!isMd5Key(key)) {
      attempts.push({ index, outcome: 'invalid-key', detail: 'not 32 printable ASCII characters' });
      return;
    }
    const equal = timingSafeEqual(digest(key), candidate) && wellFormed;
    if (equal && matchedKeyIndex === undefined) matchedKeyIndex = index;
    attempts.push({ index, outcome: equal ? 'matched' : 'no-match' });
  });
  return checkResult(matchedKeyIndex, attempts, wellFormed ? undefined : describeMalformedMd5(received));
}

function checkResult(
  matchedKeyIndex: number | undefined,
  attempts: readonly KeyAttempt[],
  malformedSignature: string | undefined,
): SignatureCheck {
  const result: { -readonly [K in keyof SignatureCheck]: SignatureCheck[K] } = {
    ok: matchedKeyIndex !== undefined,
    attempts,
  };
  if (matchedKeyIndex !== undefined) result.matchedKeyIndex = matchedKeyIndex;
  if (malformedSignature !== undefined) result.malformedSignature = malformedSignature;
  return result;
}

function describeMalformedMd5(received: string): string {
  if (received.length !== MD5_HEX_LENGTH) return `an MD5 sign has 32 characters, got ${received.length}`;
  return /^[0-9A-Fa-f]{32}$/.test(received)
    ? 'an MD5 sign is lower-case hex, got upper case'
    : 'an MD5 sign is lower-case hex';
}

// Keys are parsed once: a rotation list is verified on every notification.
// One map per kind, keyed by the configured text itself: the same string object comes with every call,
// so its hash is computed once.
const keyCaches = {
  public: new Map<string, Result<KeyObject>>(),
  private: new Map<string, Result<KeyObject>>(),
};
const KEY_CACHE_LIMIT = 64;

function cached(kind: 'public' | 'private', text: string, parse: () => Result<KeyObject>): Result<KeyObject> {
  const cache = keyCaches[kind];
  let result = cache.get(text);
  if (result === undefined) {
    result = parse();
    if (cache.size >= KEY_CACHE_LIMIT) cache.clear();
    cache.set(text, result);
  }
  return result;
}

function firstKey(attempts: readonly (() => KeyObject)[]): KeyObject | undefined {
  for (const attempt of attempts) {
    try {
      return attempt();
    } catch {
      // try the next form
    }
  }
  return undefined;
}

function rsaOnly(key: KeyObject | undefined, what: string): Result<KeyObject> {
  if (key === undefined) return fail('INVALID_KEY', `not a readable ${what} (PEM or base64 DER)`);
  if (key.asymmetricKeyType !== 'rsa') {
    return fail('INVALID_KEY', `${what} is ${key.asymmetricKeyType ?? 'not asymmetric'}, not RSA`);
  }
  return ok(key);
}

function der(text: string): Buffer | undefined {
  const compact = text.replace(/\s+/g, '');
  return /^[A-Za-z0-9+/]+={0,2}$/.test(compact) ? Buffer.from(compact, 'base64') : undefined;
}

/**
 * Reads an RSA public key: PEM `-----BEGIN PUBLIC KEY-----` (X.509 SubjectPublicKeyInfo, what Alipay
 * publishes) or `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1), or the bare base64 body of either as pasted from
 * the merchant console. A private key is refused here, since using one is always a configuration mistake.
 */
export function parseRsaPublicKey(text: string): Result<KeyObject> {
  if (typeof text !== 'string') return fail('INVALID_KEY', 'no public key');
  return cached('public', text, () => {
    if (text.includes('PRIVATE KEY')) {
      return fail('INVALID_KEY', 'a private key was given where a public key is expected');
    }
    if (text.includes('-----BEGIN')) return rsaOnly(firstKey([() => createPublicKey(text)]), 'public key');
    const body = der(text);
    if (body === undefined) return fail('INVALID_KEY', 'not a readable public key (PEM or base64 DER)');
    return rsaOnly(
      firstKey([
        () => createPublicKey({ key: body, format: 'der', type: 'spki' }),
        () => createPublicKey({ key: body, format: 'der', type: 'pkcs1' }),
      ]),
      'public key',
    );
  });
}

/**
 * Reads an RSA private key: PEM PKCS#1 (`-----BEGIN RSA PRIVATE KEY-----`, the PHP demo's) or PKCS#8
 * (`-----BEGIN PRIVATE KEY-----`, the Java demo's), or the bare base64 body of either.
 */
export function parseRsaPrivateKey(text: string): Result<KeyObject> {
  if (typeof text !== 'string') return fail('INVALID_KEY', 'no private key');
  return cached('private', text, () => {
    if (text.includes('-----BEGIN')) return rsaOnly(firstKey([() => createPrivateKey(text)]), 'private key');
    const body = der(text);
    if (body === undefined) return fail('INVALID_KEY', 'not a readable private key (PEM or base64 DER)');
    return rsaOnly(
      firstKey([
        () => createPrivateKey({ key: body, format: 'der', type: 'pkcs8' }),
        () => createPrivateKey({ key: body, format: 'der', type: 'pkcs1' }),
      ]),
      'private key',
    );
  });
}

function privateKeyOf(key: string | KeyObject): Result<KeyObject> {
  if (typeof key === 'string') return parseRsaPrivateKey(key);
  return key.type === 'private' ? rsaOnly(key, 'private key') : fail('INVALID_KEY', 'not a private key');
}

function publicKeyOf(key: string | KeyObject): Result<KeyObject> {
  if (typeof key === 'string') return parseRsaPublicKey(key);
  return key.type === 'public' ? rsaOnly(key, 'public key') : fail('INVALID_KEY', 'not a public key');
}

/** SHA1withRSA (PKCS#1 v1.5) over the pre-sign bytes, standard base64 without line breaks. */
export function rsaSign(preSign: Uint8Array, privateKey: string | KeyObject): Result<string> {
  const key = privateKeyOf(privateKey);
  if (!key.ok) return key;
  return ok(cryptoSign('sha1', preSign, key.value).toString('base64'));
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function describeMalformedBase64(signature: string): string {
  if (signature.length === 0) return 'the RSA sign is empty';
  if (signature.includes(' ')) {
    return 'the RSA sign contains a space: a "+" of the base64 was read as a space (sent unescaped, or decoded twice)';
  }
  return 'the RSA sign is not standard base64';
}

/**
 * Verifies a base64 SHA1withRSA signature against each public key (rotation). The base64 must be strict:
 * Node's decoder would silently skip stray characters, hiding the `+`-read-as-space bug
 * (docs/alipay-protocol.md, "RSA").
 */
export function verifyRsa(
  preSign: Uint8Array,
  signature: string,
  publicKeys: readonly (string | KeyObject)[],
): SignatureCheck {
  const wellFormed = typeof signature === 'string' && signature.length > 0 && BASE64.test(signature);
  const signatureBytes = wellFormed ? Buffer.from(signature, 'base64') : undefined;
  const attempts: KeyAttempt[] = [];
  let matchedKeyIndex: number | undefined;
  publicKeys.forEach((publicKey, index) => {
    const key = publicKeyOf(publicKey);
    if (!key.ok) {
      attempts.push({ index, outcome: 'invalid-key', detail: key.errors[0].message });
      return;
    }
    let equal = false;
    if (signatureBytes !== undefined) {
      try {
        equal = cryptoVerify('sha1', preSign, key.value, signatureBytes);
      } catch {
        equal = false;
      }
    }
    if (equal && matchedKeyIndex === undefined) matchedKeyIndex = index;
    attempts.push({ index, outcome: equal ? 'matched' : 'no-match' });
  });
  return checkResult(
    matchedKeyIndex,
    attempts,
    wellFormed ? undefined : describeMalformedBase64(String(signature)),
  );
}

/** The key a request or a sandbox notification is signed with. */
export type SigningKey =
  | { readonly signType: 'MD5'; readonly md5Key: string }
  | { readonly signType: 'RSA'; readonly privateKey: string | KeyObject };

/** Signs pre-sign bytes with the key of its sign type. */
export function signBytes(preSign: Uint8Array, key: SigningKey): Result<string> {
  return key.signType === 'MD5' ? md5Sign(preSign, key.md5Key) : rsaSign(preSign, key.privateKey);
}

export interface SignedParams {
  /** The parameters followed by `sign` and `sign_type`, in the demos' order (sorted, then the signature). */
  readonly params: readonly TextParam[];
  readonly sign: string;
  /** The pre-sign string as text (it holds no key). */
  readonly preSign: string;
}

/**
 * Signs text parameters in the charset: drops empty values (the demo's `paraFilter`, docs/alipay-protocol.md,
 * "Pre-sign string", so that what is sent is what is signed), sorts, signs, and appends `sign` and
 * `sign_type`.
 */
export function signParams(
  params: readonly TextParam[],
  charset: Charset,
  key: SigningKey,
): Result<SignedParams> {
  const sent = params.filter(({ name, value }) => !isSignatureParameter(name) && value !== '');
  const byName = new Map(sent.map((p) => [p.name, p.value]));
  if (byName.size !== sent.length) {
    const seen = new Set<string>();
    const duplicate = sent.find(({ name }) => seen.size === seen.add(name).size);
    return fail('DUPLICATE_FIELD', 'a parameter can be sent only once', duplicate?.name);
  }
  const preSign = preSignFromText(sent, charset);
  if (!preSign.ok) return preSign;
  const sign = signBytes(preSign.value.bytes, key);
  if (!sign.ok) return sign;
  const ordered = preSign.value.included.map((name) => ({ name, value: byName.get(name) ?? '' }));
  return ok({
    params: [...ordered, { name: 'sign', value: sign.value }, { name: 'sign_type', value: key.signType }],
    sign: sign.value,
    preSign: preSignString(sent),
  });
}
