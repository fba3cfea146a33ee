import type { KeyObject } from 'node:crypto';
import { decodeBinary, decodesCleanly, type Charset } from './charset';
import { boundBinary, boundList, boundText, jsonTextBytes } from './explanation-bounds';
import {
  detectCharset,
  parseForm,
  type CharsetSource,
  type FormIssue,
  type RawFormPair,
  type RawParsedForm,
  type TextParam,
} from './form-encoding';
import {
  isSignType,
  preSignFromBinary,
  verifyMd5Binary,
  verifyRsa,
  type ExcludedParam,
  type KeyAttempt,
  type SignType,
  type SignatureCheck,
} from './signing';

// docs/alipay-protocol.md, "Signed bytes", "Decoding pitfalls", "Verifying a notification" and "Raw bodies":
// the signature is checked over the percent-decoded bytes of exactly the parameters the sender put in the
// body or query (nothing a framework added, nothing re-encoded), and text is decoded only afterwards. Every
// outcome comes with an explanation an operator can read, because "ILLEGAL_SIGN"-style failures are the most
// reported problem of every Alipay library.

/**
 * `notify`: a notify_url POST body. `return`: a return_url query string (without `?`), whose `notify_id`
 * arrives double-encoded and is signed in its once-decoded form (docs/alipay-protocol.md,
 * "Decoding pitfalls"). `request`: a merchant request received by a gateway of our own (the sandbox), checked
 * with the same rules.
 */
export type VerificationSource = 'notify' | 'return' | 'request';

export interface VerificationOptions {
  /**
   * The configured sign type; a notification that says otherwise is refused (docs/alipay-protocol.md,
   * "Signing": configuration).
   */
  readonly signType: SignType;
  /** MD5 keys, current first; several during a rotation window. */
  readonly md5Keys?: readonly string[];
  /** Alipay's MAPI public key(s) for `RSA` (PEM, bare base64 or KeyObject), current first. */
  readonly alipayPublicKeyPem?: string | KeyObject | readonly (string | KeyObject)[];
  /** The merchant's `_input_charset`, used when neither the body nor the Content-Type names one. */
  readonly defaultCharset: Charset;
  /** The request's Content-Type header as received (malformed is fine). */
  readonly contentType?: string;
  readonly source: VerificationSource;
}

// What Alipay never sends (docs/operations.md, "Hostile input"): a notification has about 30 parameters with
// names of at most 20 bytes. Anything beyond these caps is refused before any other work, so that the
// cost of a refusal does not grow with what an attacker puts in a body. Values are not capped here:
// `result_details` of 1000 records is long, and the body's own cap bounds them.

/** The most parameters a notification, return_url query or gateway request may have. */
export const MAX_NOTIFICATION_PARAMETERS = 200;
/** The longest parameter name accepted, in bytes. */
export const MAX_PARAMETER_NAME_BYTES = 64;

export type VerificationReason =
  | 'VERIFIED'
  | 'EMPTY_INPUT'
  /** More than `MAX_NOTIFICATION_PARAMETERS` parameters (`=value` segments included). */
  | 'TOO_MANY_PARAMETERS'
  /** A parameter name longer than `MAX_PARAMETER_NAME_BYTES`. */
  | 'PARAMETER_NAME_TOO_LONG'
  | 'DUPLICATE_PARAMETER'
  | 'MISSING_SIGN'
  | 'MISSING_SIGN_TYPE'
  /**
   * `DSA`, a lower-case spelling, or anything else that is not `MD5`/`RSA` (docs/alipay-protocol.md, "RSA").
   */
  | 'UNSUPPORTED_SIGN_TYPE'
  /** The input names a supported sign type other than the configured one. */
  | 'SIGN_TYPE_MISMATCH'
  /** No key configured for the sign type, or none of them readable. */
  | 'NO_USABLE_KEY'
  | 'MALFORMED_SIGNATURE'
  | 'SIGNATURE_MISMATCH';

/**
 * Everything needed to understand a verification, for any input. It never holds a key nor an expected
 * signature (that would make the explanation a signing oracle for whoever can read it).
 */
export interface VerificationExplanation {
  readonly source: VerificationSource;
  readonly byteLength: number;
  /** Parameter names in received order. */
  readonly parameterNames: readonly string[];
  readonly formIssues: readonly FormIssue[];
  readonly duplicateNames: readonly string[];
  readonly charset: Charset;
  readonly charsetSource: CharsetSource;
  /** Charset labels not used, and parameters whose bytes are not valid in the chosen charset. */
  readonly charsetNotes: readonly string[];
  /** `sign_type` as received (absent when missing). */
  readonly receivedSignType?: string;
  readonly configuredSignType: SignType;
  /** The canonical pre-sign string, decoded in the charset for reading (the bytes are what is verified). */
  readonly preSign: string;
  /** What was hashed or verified, key redacted: `preSign` + `<MD5 key>` for MD5, `preSign` for RSA. */
  readonly signedString: string;
  /** Names that went into the pre-sign string, in signing order. */
  readonly included: readonly string[];
  readonly excluded: readonly ExcludedParam[];
  /** One entry per configured key (by index), or empty when no key was tried. */
  readonly keys: readonly KeyAttempt[];
  readonly matchedKeyIndex?: number;
  readonly malformedSignature?: string;
  /** Diagnostics for a failure (e.g. "would verify if empty values were signed"); never a reason to accept. */
  readonly hints: readonly string[];
  readonly outcome: VerificationReason;
  /** One line for logs. */
  readonly summary: string;
  /**
   * Entries left out of each list so that the explanation stays under `MAX_EXPLANATION_BYTES` (absent
   * when nothing was). Long texts (`preSign`, names, notes) end with a marker instead.
   */
  readonly leftOut?: Readonly<Partial<Record<ExplanationList, number>>>;
}

/** The lists of an explanation that a hostile input could make long. */
export type ExplanationList =
  'parameterNames' | 'formIssues' | 'duplicateNames' | 'charsetNotes' | 'included' | 'excluded' | 'hints';

export interface VerificationResult {
  readonly ok: boolean;
  readonly reason: VerificationReason;
  /**
   * Every parameter as received (sign and sign_type included), decoded in `explanation.charset`; empty
   * when the input is refused for exceeding a cap.
   */
  readonly params: readonly TextParam[];
  readonly explanation: VerificationExplanation;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

function isKeyList(
  option: string | KeyObject | readonly (string | KeyObject)[],
): option is readonly (string | KeyObject)[] {
  return Array.isArray(option);
}

function publicKeysOf(option: VerificationOptions['alipayPublicKeyPem']): readonly (string | KeyObject)[] {
  if (option === undefined) return [];
  return isKeyList(option) ? option : [option];
}

/**
 * Verifies a notification (or return_url query) from its raw bytes. Never throws: a garbage input gives
 * `ok: false` with a reason and an explanation of at most `MAX_EXPLANATION_BYTES`. Inputs over the caps
 * (`MAX_NOTIFICATION_PARAMETERS`, `MAX_PARAMETER_NAME_BYTES`) are refused before any signature work; the
 * whole verification is linear in the input, apart from sorting at most the capped number of names.
 * `ok: true` says only that the sender holds the key; the caller still asks `notify_verify` and checks
 * seller and amount (docs/alipay-protocol.md, "Verifying a notification").
 */
export function verifyNotification(
  raw: Uint8Array | string,
  options: VerificationOptions,
): VerificationResult {
  const byteLength = typeof raw === 'string' ? Buffer.byteLength(raw, 'utf8') : raw.byteLength;
  const form = parseForm(raw, { maxPairs: MAX_NOTIFICATION_PARAMETERS });
  const { pairs, issues, ascii } = form;
  const choice = detectCharset(pairs, options.contentType, options.defaultCharset);
  const { charset } = choice;
  const configured = options.signType;
  const overLimit = exceededLimit(form);
  if (overLimit !== undefined) {
    const reason = overLimit.reason;
    return {
      ok: false,
      reason,
      params: [],
      explanation: bounded(
        {
          source: options.source,
          byteLength,
          parameterNames: pairs.map((p) => p.name),
          formIssues: issues,
          duplicateNames: [],
          charset,
          charsetSource: choice.source,
          charsetNotes: choice.notes,
          configuredSignType: configured,
          preSign: '',
          signedString: '',
          included: [],
          excluded: [],
          keys: [],
          hints: [],
          outcome: reason,
          summary: overLimit.summary,
        },
        form,
      ),
    };
  }

  const params: TextParam[] = [];
  const charsetNotes = choice.notes.slice();
  let sign: string | undefined;
  let receivedSignType: string | undefined;
  for (const pair of pairs) {
    if (ascii) {
      params.push({ name: pair.name, value: pair.binaryValue });
    } else {
      const value = decodeBinary(pair.binaryValue, charset);
      if (value.includes('\uFFFD') && !decodesCleanly(pair.valueBytes, charset, value)) {
        charsetNotes.push(`${pair.name} is not valid ${charset}`);
      }
      params.push({ name: decodeBinary(pair.name, charset), value });
    }
    if (pair.name === 'sign') sign ??= pair.binaryValue;
    else if (pair.name === 'sign_type') receivedSignType ??= pair.binaryValue;
  }

  const preSign = preSignFromBinary(pairs);
  const duplicateNames = preSign.duplicates;
  // Only what the explanation shows is decoded: a megabyte of GBK is read once, for the parameters.
  const preSignText = boundBinary(preSign.binary, PRE_SIGN_BYTES, (binary) =>
    ascii ? binary : decodeBinary(binary, charset),
  );

  let reason: VerificationReason;
  let check: SignatureCheck | undefined;
  if (pairs.length === 0) reason = 'EMPTY_INPUT';
  else if (duplicateNames.length > 0) reason = 'DUPLICATE_PARAMETER';
  else if (sign === undefined || sign.length === 0) reason = 'MISSING_SIGN';
  else if (receivedSignType === undefined || receivedSignType === '') reason = 'MISSING_SIGN_TYPE';
  else if (!isSignType(receivedSignType)) reason = 'UNSUPPORTED_SIGN_TYPE';
  else if (receivedSignType !== configured) reason = 'SIGN_TYPE_MISMATCH';
  else {
    check = checkSignature(preSign.binary, sign, configured, options, ascii);
    if (check.ok) reason = 'VERIFIED';
    else if (!check.attempts.some((a) => a.outcome !== 'invalid-key')) reason = 'NO_USABLE_KEY';
    else if (check.malformedSignature !== undefined) reason = 'MALFORMED_SIGNATURE';
    else reason = 'SIGNATURE_MISMATCH';
  }

  const hints = reason === 'SIGNATURE_MISMATCH' ? diagnose(pairs, sign, configured, options) : [];
  if (options.source === 'return') {
    const notifyId = params.find((p) => p.name === 'notify_id');
    if (notifyId?.value.includes('%') === true) {
      hints.push('notify_id kept in its once-decoded form (with its %XX), as Alipay signs it');
    }
  }

  // Optional members are set only when present, so that absent facts are absent properties.
  const explanation: Writable<VerificationExplanation> = {
    source: options.source,
    byteLength,
    parameterNames: pairs.map((p) => p.name),
    formIssues: issues,
    duplicateNames,
    charset,
    charsetSource: choice.source,
    charsetNotes,
    configuredSignType: configured,
    preSign: preSignText,
    signedString: configured === 'MD5' ? `${preSignText}<MD5 key>` : preSignText,
    included: preSign.included,
    excluded: preSign.excluded,
    keys: check?.attempts ?? [],
    hints,
    outcome: reason,
    summary: summarise(reason, {
      configured,
      receivedSignType,
      charset,
      charsetSource: choice.source,
      included: preSign.included.length,
      check,
      duplicateNames,
    }),
  };
  if (receivedSignType !== undefined) explanation.receivedSignType = receivedSignType;
  if (check?.matchedKeyIndex !== undefined) explanation.matchedKeyIndex = check.matchedKeyIndex;
  if (check?.malformedSignature !== undefined) explanation.malformedSignature = check.malformedSignature;
  return { ok: reason === 'VERIFIED', reason, params, explanation: bounded(explanation, form) };
}

/** The first cap the input exceeds, with a summary naming the cap and what was received. */
function exceededLimit(
  form: RawParsedForm,
): { reason: 'TOO_MANY_PARAMETERS' | 'PARAMETER_NAME_TOO_LONG'; summary: string } | undefined {
  if (form.segments > MAX_NOTIFICATION_PARAMETERS) {
    return {
      reason: 'TOO_MANY_PARAMETERS',
      summary: `${form.segments} parameters received, at most ${MAX_NOTIFICATION_PARAMETERS} accepted`,
    };
  }
  let longest: RawFormPair | undefined;
  let tooLong = 0;
  for (const pair of form.pairs) {
    if (pair.name.length > MAX_PARAMETER_NAME_BYTES) {
      tooLong++;
      if (longest === undefined || pair.name.length > longest.name.length) longest = pair;
    }
  }
  if (longest === undefined) return undefined;
  const others = tooLong > 1 ? ` (and ${tooLong - 1} other names over the cap)` : '';
  return {
    reason: 'PARAMETER_NAME_TOO_LONG',
    summary:
      `a parameter name of ${longest.name.length} bytes received${others}, at most ` +
      `${MAX_PARAMETER_NAME_BYTES} accepted: ${JSON.stringify(longest.name.slice(0, 24))}…`,
  };
}

// Per-part budgets of an explanation, in UTF-8 bytes of JSON; together with the fixed members they stay
// under MAX_EXPLANATION_BYTES (the property tests of verification check it on hostile forms).
const PRE_SIGN_BYTES = 1024;
const NAME_BYTES = 96;
const NAME_LIST_BYTES = 768;
const DUPLICATE_LIST_BYTES = 256;
const SHORT_TEXT_BYTES = 64;
const NOTE_BYTES = 160;
const SUMMARY_BYTES = 320;
const MAX_LISTED_ISSUES = 8;
const MAX_NOTES = 4;
const MAX_HINTS = 3;

/** The explanation cut to its budgets, with what each list left out (`preSign` comes bounded already). */
function bounded(full: VerificationExplanation, form: RawParsedForm): VerificationExplanation {
  const leftOut: Partial<Record<ExplanationList, number>> = {};
  const names = (list: 'parameterNames' | 'included' | 'duplicateNames', maxBytes: number): string[] => {
    const result = boundList(
      full[list].map((name) => boundText(name, NAME_BYTES)),
      maxBytes,
      jsonTextBytes,
    );
    if (result.leftOut > 0) leftOut[list] = result.leftOut;
    return result.kept;
  };
  const texts = (list: 'charsetNotes' | 'hints', maxEntries: number): string[] => {
    const result = boundList(
      full[list].slice(0, maxEntries + 1).map((text) => boundText(text, NOTE_BYTES)),
      Number.POSITIVE_INFINITY,
      jsonTextBytes,
      maxEntries,
    );
    const count = full[list].length - result.kept.length;
    if (count > 0) leftOut[list] = count;
    return result.kept;
  };
  const excluded = boundList(
    full.excluded.map((entry) => ({ name: boundText(entry.name, NAME_BYTES), reason: entry.reason })),
    NAME_LIST_BYTES,
    (entry) => jsonTextBytes(entry.name) + jsonTextBytes(entry.reason) + 17,
  );
  if (excluded.leftOut > 0) leftOut.excluded = excluded.leftOut;
  const issueCount = full.formIssues.length + form.unlistedIssues;
  const formIssues = full.formIssues.slice(0, MAX_LISTED_ISSUES);
  if (issueCount > formIssues.length) leftOut.formIssues = issueCount - formIssues.length;

  const result: Writable<VerificationExplanation> = {
    ...full,
    parameterNames: names('parameterNames', NAME_LIST_BYTES),
    formIssues,
    duplicateNames: names('duplicateNames', DUPLICATE_LIST_BYTES),
    charsetNotes: texts('charsetNotes', MAX_NOTES),
    included: names('included', NAME_LIST_BYTES),
    excluded: excluded.kept,
    keys: full.keys.map((key) =>
      key.detail === undefined ? key : { ...key, detail: boundText(key.detail, NOTE_BYTES) },
    ),
    hints: texts('hints', MAX_HINTS),
    summary: boundText(full.summary, SUMMARY_BYTES),
  };
  if (full.receivedSignType !== undefined) {
    result.receivedSignType = boundText(full.receivedSignType, SHORT_TEXT_BYTES);
  }
  if (full.malformedSignature !== undefined) {
    result.malformedSignature = boundText(full.malformedSignature, NOTE_BYTES);
  }
  if (Object.keys(leftOut).length > 0) result.leftOut = leftOut;
  return result;
}

function checkSignature(
  preSign: string,
  sign: string,
  signType: SignType,
  options: VerificationOptions,
  ascii = false,
): SignatureCheck {
  return signType === 'MD5'
    ? verifyMd5Binary(preSign, sign, options.md5Keys ?? [], ascii)
    : verifyRsa(Buffer.from(preSign, 'latin1'), sign, publicKeysOf(options.alipayPublicKeyPem));
}

// docs/alipay-protocol.md, "Pre-sign string" [INF]: some senders sign empty values. Re-checking with them
// kept tells an operator what went wrong; it is never a second chance to be accepted.
function diagnose(
  pairs: readonly RawFormPair[],
  sign: string | undefined,
  signType: SignType,
  options: VerificationOptions,
): string[] {
  const hints: string[] = [];
  const empties = pairs.filter((p) => p.binaryValue === '' && p.name !== 'sign' && p.name !== 'sign_type');
  if (empties.length > 0 && sign !== undefined) {
    const withEmpties = preSignFromBinary(pairs, { keepEmpty: true }).binary;
    if (checkSignature(withEmpties, sign, signType, options).ok) {
      hints.push(`would verify if the empty values (${empties.map((p) => p.name).join(', ')}) were signed`);
    }
  }
  if (hints.length === 0) {
    hints.push(
      signType === 'MD5'
        ? 'check the MD5 key of this partner and that nothing re-encoded the body'
        : "check that the key is Alipay's MAPI public key (not the merchant's, not the OpenAPI key)",
    );
  }
  return hints;
}

function summarise(
  reason: VerificationReason,
  facts: {
    configured: SignType;
    receivedSignType: string | undefined;
    charset: Charset;
    charsetSource: CharsetSource;
    included: number;
    check: SignatureCheck | undefined;
    duplicateNames: readonly string[];
  },
): string {
  const over = `${facts.included} parameters read as ${facts.charset} (${facts.charsetSource})`;
  switch (reason) {
    case 'VERIFIED':
      return `${facts.configured} signature verified with key #${facts.check?.matchedKeyIndex ?? 0} over ${over}`;
    case 'EMPTY_INPUT':
      return 'no parameters in the input';
    case 'TOO_MANY_PARAMETERS':
    case 'PARAMETER_NAME_TOO_LONG':
      // Summarised where the cap is checked, with the figures received.
      return reason;
    case 'DUPLICATE_PARAMETER':
      return `parameters sent more than once: ${facts.duplicateNames.join(', ')}`;
    case 'MISSING_SIGN':
      return 'no sign parameter';
    case 'MISSING_SIGN_TYPE':
      return 'no sign_type parameter';
    case 'UNSUPPORTED_SIGN_TYPE':
      return `unsupported sign_type ${JSON.stringify(facts.receivedSignType?.slice(0, 24))}`;
    case 'SIGN_TYPE_MISMATCH':
      return `sign_type ${facts.receivedSignType} but ${facts.configured} is configured`;
    case 'NO_USABLE_KEY':
      return `no usable ${facts.configured} key configured`;
    case 'MALFORMED_SIGNATURE':
      return `malformed ${facts.configured} sign: ${facts.check?.malformedSignature ?? ''}`;
    case 'SIGNATURE_MISMATCH':
      return `${facts.configured} signature matches none of ${facts.check?.attempts.length ?? 0} keys over ${over}`;
  }
}
