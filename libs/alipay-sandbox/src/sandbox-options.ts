import type { LoggerService } from '@nestjs/common';
import { isMd5Key, parseRsaPrivateKey, parseRsaPublicKey, type SignType } from '@ledger/alipay-protocol';

/** One merchant the sandbox knows: its partner id and the keys of the sign types it may use. */
export interface SandboxMerchant {
  /** 16 digits (`2088…`). */
  readonly partner: string;
  /** MD5 keys: the first signs notifications, every one verifies requests (a rotation window). */
  readonly md5Keys?: readonly string[];
  /**
   * RSA: the merchant's public key verifies its requests, the sandbox's own private key (the merchant's
   * "Alipay public key" is its other half) signs the notifications.
   */
  readonly rsa?: { readonly merchantPublicKeyPem: string; readonly alipayPrivateKeyPem: string };
  /** The seller account shown in notifications; a request's `seller_email` must then be this one. */
  readonly sellerEmail?: string;
}

/**
 * What the sandbox does to the notifications it sends (docs/alipay-protocol.md, "Reply and retries"),
 * settable at creation and through `PUT /sandbox/api/chaos`. Everything is off by default: the sandbox then
 * behaves as Alipay on a good day.
 */
export interface ChaosSettings {
  /** Each notification's first delivery is sent this many times at once, same notify_id (default 1). */
  readonly duplicates?: number;
  /**
   * New notifications are held until this many are waiting, then sent newest first (0 or 1: off). A flush
   * releases what is held.
   */
  readonly reorderWindow?: number;
  /** Real milliseconds added before each notification's first delivery (not compressed by `timeScale`). */
  readonly delayMs?: number;
  /** After each trade status change, the previous status is sent again (new notify_id), after the newer. */
  readonly staleStatuses?: boolean;
  /**
   * After a refund of an instant trade, a `TRADE_FINISHED` notification follows (docs/alipay-protocol.md,
   * "Instant trades").
   */
  readonly finishedAfterRefund?: boolean;
  /**
   * Alipay gave up: no notification is sent at all, neither a first delivery nor a retry. Each is still
   * recorded, `abandoned` with the tag `dropped` and no attempt, so that a test can see what was never sent;
   * the trade moves as usual, and `single_trade_query` reports it (docs/alipay-protocol.md, "Trade query").
   */
  readonly dropNotifications?: boolean;
  /** Batch refund records that fail: named trades, and/or a share of all records. */
  readonly refundFailures?: {
    readonly tradeNos?: readonly string[];
    /** 0 to 1: the chance that any record fails. */
    readonly ratio?: number;
    /**
     * The per-record code of a failure; default `SELLER_BALANCE_NOT_ENOUGH` (docs/alipay-protocol.md,
     * "Batch refund results").
     */
    readonly code?: string;
  };
}

/** Options of `createSandboxApp`. */
export interface SandboxOptions {
  readonly merchants: readonly SandboxMerchant[];
  /** The sandbox's own clock: notify_time, gmt_*, batch_no dates, return notify_id lifetimes. */
  readonly clock?: () => Date;
  /** Delays between delivery attempts, in milliseconds of Alipay time; default 4m, 10m, 10m, 1h, 2h, 6h, 15h. */
  readonly retrySchedule?: readonly number[];
  /** Divides every retry delay: 60 makes an hour a minute. Default 1. */
  readonly timeScale?: number;
  readonly chaos?: ChaosSettings;
  /** Where the sandbox is reached, e.g. `http://localhost:3001` (links in API answers and logs). */
  readonly publicBaseUrl: string;
  /** Nest's logger, or `false` for none. Default: Nest's console logger. */
  readonly logger?: LoggerService | false;
  /** Randomness of the `refundFailures.ratio` chaos; default `Math.random`. */
  readonly random?: () => number;
  /** How long one delivery waits for the merchant's reply; default 15 s. */
  readonly deliveryTimeoutMs?: number;
}

/**
 * Alipay's schedule (docs/alipay-protocol.md, "Reply and retries"): first attempt at once, then 4m, 10m, 10m,
 * 1h, 2h, 6h, 15h.
 */
export const ALIPAY_RETRY_SCHEDULE_MS: readonly number[] = [
  4 * 60_000,
  10 * 60_000,
  10 * 60_000,
  3_600_000,
  2 * 3_600_000,
  6 * 3_600_000,
  15 * 3_600_000,
];

/** Options after validation and defaults, as the sandbox's services receive them. */
export interface ResolvedSandboxOptions {
  readonly merchants: ReadonlyMap<string, SandboxMerchant>;
  readonly clock: () => Date;
  readonly retrySchedule: readonly number[];
  readonly timeScale: number;
  readonly chaos: ChaosSettings;
  readonly publicBaseUrl: string;
  readonly random: () => number;
  readonly deliveryTimeoutMs: number;
}

export const SANDBOX_OPTIONS = Symbol('SANDBOX_OPTIONS');

/** Options `createSandboxApp` refuses, with every problem found. */
export class SandboxOptionsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid sandbox options:\n  - ${problems.join('\n  - ')}`);
    this.name = 'SandboxOptionsError';
  }
}

const PARTNER = /^[0-9]{16}$/;

/** The sign types a merchant has keys for. */
export function signTypesOf(merchant: SandboxMerchant): SignType[] {
  const types: SignType[] = [];
  if ((merchant.md5Keys ?? []).length > 0) types.push('MD5');
  if (merchant.rsa !== undefined) types.push('RSA');
  return types;
}

/** Problems with chaos settings, as readable sentences (empty when valid). */
export function chaosProblems(chaos: ChaosSettings): string[] {
  const problems: string[] = [];
  const wholeAtLeast = (name: string, value: number | undefined, min: number) => {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) {
      problems.push(`chaos.${name} must be an integer of at least ${min}`);
    }
  };
  wholeAtLeast('duplicates', chaos.duplicates, 1);
  wholeAtLeast('reorderWindow', chaos.reorderWindow, 0);
  wholeAtLeast('delayMs', chaos.delayMs, 0);
  const ratio = chaos.refundFailures?.ratio;
  if (ratio !== undefined && !(ratio >= 0 && ratio <= 1)) {
    problems.push('chaos.refundFailures.ratio must be between 0 and 1');
  }
  const code = chaos.refundFailures?.code;
  if (code !== undefined && !/^[A-Z][A-Z0-9_]*$/.test(code)) {
    problems.push('chaos.refundFailures.code must be an upper-case Alipay code');
  }
  return problems;
}

/** Validates the options and fills in the defaults; throws naming every problem. */
export function resolveSandboxOptions(options: SandboxOptions): ResolvedSandboxOptions {
  const problems: string[] = [];
  const merchants = new Map<string, SandboxMerchant>();
  for (const merchant of options.merchants ?? []) {
    const at = `merchant ${merchant.partner}`;
    if (!PARTNER.test(merchant.partner)) problems.push(`${at}: the partner id is not 16 digits`);
    if (merchants.has(merchant.partner)) problems.push(`${at}: configured twice`);
    if (signTypesOf(merchant).length === 0) problems.push(`${at}: no MD5 key and no RSA keys`);
    for (const key of merchant.md5Keys ?? []) {
      if (!isMd5Key(key)) problems.push(`${at}: an MD5 key is not 32 printable characters`);
    }
    if (merchant.rsa !== undefined) {
      if (!parseRsaPublicKey(merchant.rsa.merchantPublicKeyPem).ok) {
        problems.push(`${at}: rsa.merchantPublicKeyPem is not an RSA public key`);
      }
      if (!parseRsaPrivateKey(merchant.rsa.alipayPrivateKeyPem).ok) {
        problems.push(`${at}: rsa.alipayPrivateKeyPem is not an RSA private key`);
      }
    }
    merchants.set(merchant.partner, merchant);
  }
  if (merchants.size === 0) problems.push('at least one merchant is required');
  const retrySchedule = options.retrySchedule ?? ALIPAY_RETRY_SCHEDULE_MS;
  if (retrySchedule.some((ms) => !Number.isFinite(ms) || ms < 0)) {
    problems.push('retrySchedule must hold non-negative milliseconds');
  }
  const timeScale = options.timeScale ?? 1;
  if (!(Number.isFinite(timeScale) && timeScale > 0)) problems.push('timeScale must be a positive number');
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 15_000;
  if (!(Number.isFinite(deliveryTimeoutMs) && deliveryTimeoutMs > 0)) {
    problems.push('deliveryTimeoutMs must be a positive number');
  }
  if (!/^https?:\/\/[^\s?#]+$/.test(options.publicBaseUrl ?? '')) {
    problems.push('publicBaseUrl must be an http(s) URL without query');
  }
  const chaos = options.chaos ?? {};
  problems.push(...chaosProblems(chaos));
  if (problems.length > 0) throw new SandboxOptionsError(problems);
  return {
    merchants,
    clock: options.clock ?? (() => new Date()),
    retrySchedule,
    timeScale,
    chaos,
    publicBaseUrl: options.publicBaseUrl.replace(/\/+$/, ''),
    random: options.random ?? Math.random,
    deliveryTimeoutMs,
  };
}
