import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { parse as parseDotenv } from 'dotenv';
import { Environment } from './environment';
import { decideMode, type LedgerMode } from './ledger-mode';
import { md5KeysProblem } from './md5-keys';
import { hostInUrl, isLoopbackHost, isUnspecifiedHost } from './network-address';
import { readRsaKeyFile } from './rsa-key-files';
import {
  DEFAULT_WEBHOOK_RETRY_SCHEDULE,
  DEMO_WEBHOOK_SECRET,
  parseRetrySchedule,
  webhookSecretProblem,
} from './webhook-settings';

export type { LedgerMode } from './ledger-mode';
export { hostInUrl } from './network-address';
export { DEMO_WEBHOOK_SECRET } from './webhook-settings';
export type SignType = 'MD5' | 'RSA';
export type InputCharset = 'utf-8' | 'gbk';

/** Credentials the bundled sandbox gateway accepts; used only in demo mode, refused in live mode. */
export const DEMO_ALIPAY = {
  partner: '2088000000000001',
  md5Key: 'demokey0000000000000000000000000',
} as const;

export const DEFAULT_ALIPAY_GATEWAY = 'https://mapi.alipay.com/gateway.do';

/**
 * The validated, typed configuration. Nothing else reads `process.env`.
 * `mode` is `demo` when the operator chose it or nothing is configured for production (README, Configuration).
 */
export class LedgerConfig {
  readonly mode: LedgerMode;
  readonly http: {
    port: number;
    /** Loopback by default in demo mode, every interface in live mode. */
    host: string;
    publicBaseUrl: string;
    /** Origins allowed to call the API from a browser; empty: CORS closed, `*`: any origin. */
    corsOrigins: string[];
  };
  /** Pages that are on by default in demo mode only: the API description at /docs, the order page at /demo. */
  readonly pages: { apiDocs: boolean; demoPage: boolean };
  readonly database: {
    url?: string;
    dataDir: string;
    poolSize: number;
    /** Longest a statement may run before PostgreSQL cancels it. */
    statementTimeoutMs: number;
    /** Longest a statement may wait for a lock. */
    lockTimeoutMs: number;
    /** Longest a request waits for a pooled connection before it is answered 503. */
    acquireTimeoutMs: number;
    /** Statements run repeatedly are prepared per connection (off behind a transaction-mode pooler). */
    preparedStatements: boolean;
  };
  readonly alipay: {
    partner: string;
    sellerId: string;
    signType: SignType;
    /** The first key signs; all of them verify (a rotation window). */
    md5Keys: string[];
    merchantPrivateKeyPem?: string;
    alipayPublicKeyPem?: string;
    gateway: string;
    inputCharset: InputCharset;
    verifyNotifyId: boolean;
  };
  readonly admin: { token: string; tokenGenerated: boolean };
  /**
   * `GET /metrics` (docs/operations.md, "Metrics"): open like `/health` unless `token` is set, then it needs
   * `Authorization: Bearer <METRICS_TOKEN>`.
   */
  readonly metrics: { token?: string };
  /**
   * `GET /health/ready` (docs/operations.md, "Readiness"): the oldest event a projection has not applied may
   * be this old.
   */
  readonly readiness: { maxProjectionLagSeconds: number };
  /** Whether this process acts on delivery decisions (one process of a deployment is enough). */
  readonly fulfilment: {
    enabled: boolean;
    /**
     * The least time between two batches of the fulfilment outbox while Alipay's notifications wait on the
     * instance (docs/event-store.md, "Background consumers"); 0: never held back.
     */
    batchIntervalWhileBusyMs: number;
  };
  /**
   * The merchant's webhook endpoint (docs/webhooks.md, "Configuration"). `url` undefined: in demo mode the
   * shop inside the ledger receives them (`demoShop`); in live mode nothing is sent and decisions wait.
   */
  readonly webhooks: {
    url?: string;
    secret: string;
    demoShop: boolean;
    /** The pauses before each retry; one attempt more than entries, then the webhook is dead. */
    retryScheduleMs: number[];
    connectTimeoutMs: number;
    timeoutMs: number;
    concurrency: number;
    /** Attempts in flight at once while Alipay's notifications wait (docs/operations.md, "Alipay first"). */
    concurrencyWhileBusy: number;
  };
  /**
   * `resultTimeoutMinutes`: a batch without a result this long is flagged; `pwdBatchExpireAfterHours`: a
   * `pwd` batch never confirmed this long after its submission expires, its reservations released
   * (docs/operations.md, "Operator resolutions").
   */
  readonly refunds: { resultTimeoutMinutes: number; pwdBatchExpireAfterHours: number };
  /**
   * The reconciler (docs/operations.md, "Reconciliation"): whether this process runs it, after how long an
   * order awaiting payment is asked about, and for how long an order is asked about.
   */
  readonly reconcile: { enabled: boolean; awaitingAfterMinutes: number; horizonDays: number };
  /** Unverified notifications older than this may be purged by the operator (docs/operations.md). */
  readonly inbox: { unverifiedRetentionDays: number };
  readonly logLevel: string;
  /** Risks the operator took on purpose, for the log at start. */
  readonly warnings: string[];

  constructor(values: LedgerConfig) {
    Object.assign(this, values);
  }
}

/** What a database tool (the CLI) needs: no mode, no Alipay, no HTTP. */
export type DatabaseToolConfig = Pick<LedgerConfig, 'database' | 'logLevel' | 'inbox'>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const SECRET_VARIABLES = new Set([
  'ALIPAY_KEY',
  'ADMIN_TOKEN',
  'DATABASE_URL',
  'MERCHANT_WEBHOOK_SECRET',
  'METRICS_TOKEN',
]);

const DATABASE_VARIABLES = new Set([
  'DATABASE_URL',
  'DATA_DIR',
  'DATABASE_POOL_SIZE',
  'DATABASE_STATEMENT_TIMEOUT_MS',
  'DATABASE_LOCK_TIMEOUT_MS',
  'DATABASE_ACQUIRE_TIMEOUT_MS',
  'DATABASE_PREPARED_STATEMENTS',
  'INBOX_RETENTION_DAYS',
  'LOG_LEVEL',
]);

export interface LoadConfigOptions {
  /** The `.env` file to read; `false` reads none. Default: `.env` in `cwd`. */
  envFile?: string | false;
  /** Where relative paths (DATA_DIR, key files, `.env`) start. Default: the working directory. */
  cwd?: string;
}

interface ReadEnvironment {
  raw: Record<string, string>;
  environment: Environment;
  /** Each bad variable, with the variable it is about. */
  problems: { variable: string; message: string }[];
  cwd: string;
}

function readEnvironment(env: NodeJS.ProcessEnv, options: LoadConfigOptions): ReadEnvironment {
  const cwd = options.cwd ?? process.cwd();
  const envFile = options.envFile === undefined ? resolve(cwd, '.env') : options.envFile;
  const fromFile = envFile && existsSync(envFile) ? parseDotenv(readFileSync(envFile)) : {};
  const raw = Object.fromEntries(
    Object.entries({ ...fromFile, ...env }).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '',
    ),
  );
  const environment = plainToInstance(Environment, raw);
  const problems = validateSync(environment, { forbidUnknownValues: false }).flatMap((error) => {
    const shown = SECRET_VARIABLES.has(error.property) ? '(redacted)' : JSON.stringify(raw[error.property]);
    // A value can break two constraints that say the same thing (a URL, and one without query).
    return [...new Set(Object.values(error.constraints ?? {}))].map((message) => ({
      variable: error.property,
      message: `${error.property}=${shown}: ${message}`,
    }));
  });
  if (environment.ALIPAY_KEY !== undefined) {
    const problem = md5KeysProblem(environment.ALIPAY_KEY);
    if (problem !== undefined) problems.push({ variable: 'ALIPAY_KEY', message: problem });
  }
  return { raw, environment, problems, cwd };
}

function databaseOf(environment: Environment, cwd: string): LedgerConfig['database'] {
  return {
    url: environment.DATABASE_URL,
    dataDir: resolve(cwd, environment.DATA_DIR ?? './.data'),
    poolSize: environment.DATABASE_POOL_SIZE ?? 10,
    statementTimeoutMs: environment.DATABASE_STATEMENT_TIMEOUT_MS ?? 30_000,
    lockTimeoutMs: environment.DATABASE_LOCK_TIMEOUT_MS ?? 10_000,
    acquireTimeoutMs: environment.DATABASE_ACQUIRE_TIMEOUT_MS ?? 5_000,
    preparedStatements: environment.DATABASE_PREPARED_STATEMENTS !== 'false',
  };
}

/**
 * The database settings alone, for tools that only open the database (`ledger-cli migrate`): the other
 * variables, the mode and the Alipay rules are the ledger's business and are not checked here.
 */
export function loadDatabaseConfig(
  env: NodeJS.ProcessEnv = process.env,
  options: LoadConfigOptions = {},
): DatabaseToolConfig {
  const { environment, problems, cwd } = readEnvironment(env, options);
  const relevant = problems.filter(({ variable }) => DATABASE_VARIABLES.has(variable));
  if (relevant.length > 0) throw new ConfigError(relevant.map(({ message }) => message));
  return {
    database: databaseOf(environment, cwd),
    logLevel: environment.LOG_LEVEL ?? 'info',
    inbox: inboxOf(environment),
  };
}

/**
 * Reads `.env` (when present; real environment variables win over it), validates every variable, decides
 * the mode and returns the typed configuration, or throws a ConfigError naming every bad variable and what
 * it accepts. Every value a later step would refuse is refused here, so that a start never turns into
 * failing payments.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  options: LoadConfigOptions = {},
): LedgerConfig {
  const read = readEnvironment(env, options);
  const { raw, environment, cwd } = read;
  const problems = read.problems.map(({ message }) => message);
  const warnings: string[] = [];

  const signType: SignType = environment.ALIPAY_SIGN_TYPE ?? 'MD5';
  const decided = decideMode(raw, signType);
  if ('problem' in decided) problems.push(decided.problem);
  const mode = 'mode' in decided ? decided.mode : undefined;

  const port = environment.PORT ?? 3000;
  const host = environment.HOST ?? (mode === 'live' ? '0.0.0.0' : '127.0.0.1');
  const md5Keys = environment.ALIPAY_KEY?.split(',') ?? [];
  let merchantPrivateKeyPem: string | undefined;
  let alipayPublicKeyPem: string | undefined;

  if (mode === 'live') {
    const publicBaseUrl = environment.PUBLIC_BASE_URL;
    if (publicBaseUrl !== undefined && URL.canParse(publicBaseUrl)) {
      const { hostname } = new URL(publicBaseUrl);
      if (isLoopbackHost(hostname) || isUnspecifiedHost(hostname)) {
        problems.push(
          `PUBLIC_BASE_URL=${JSON.stringify(publicBaseUrl)}: in live mode it must be an address Alipay and ` +
            'buyers reach (e.g. https://shop.example.com), not localhost, 127.0.0.0/8, ::1 or 0.0.0.0: ' +
            'notify_url and return_url are built on it',
        );
      }
    }
    if (md5Keys.includes(DEMO_ALIPAY.md5Key)) {
      problems.push(
        'ALIPAY_KEY=(redacted): holds the demo key, which is published in the source; live mode needs the ' +
          "merchant's own MD5 key from the merchant console",
      );
    }
    if (signType === 'RSA') {
      const privateKey = environment.ALIPAY_PRIVATE_KEY_FILE;
      const publicKey = environment.ALIPAY_PUBLIC_KEY_FILE;
      if (privateKey !== undefined) {
        const file = readRsaKeyFile('ALIPAY_PRIVATE_KEY_FILE', privateKey, 'private', cwd);
        if ('problem' in file) problems.push(file.problem);
        else merchantPrivateKeyPem = file.text;
      }
      if (publicKey !== undefined) {
        const file = readRsaKeyFile('ALIPAY_PUBLIC_KEY_FILE', publicKey, 'public', cwd);
        if ('problem' in file) problems.push(file.problem);
        else alipayPublicKeyPem = file.text;
      }
    }
    if (environment.DATABASE_URL === undefined) {
      if (environment.EMBEDDED_DATABASE_ACCEPT_DATA_LOSS !== 'true') {
        problems.push(
          'DATABASE_URL is unset: live mode on the embedded database is refused. PGlite does not fsync, so an ' +
            'operating-system crash or a power loss can lose payments after Alipay was answered success, ' +
            'and Alipay never sends them again. Set DATABASE_URL to a PostgreSQL server, or ' +
            'EMBEDDED_DATABASE_ACCEPT_DATA_LOSS=true to accept that loss',
        );
      } else {
        warnings.push(
          'live mode on the embedded database (EMBEDDED_DATABASE_ACCEPT_DATA_LOSS=true): PGlite does not ' +
            'fsync; an operating-system crash or a power loss can lose acknowledged payments',
        );
      }
    }
  }
  const webhookUrl = environment.MERCHANT_WEBHOOK_URL;
  const webhookSecret = environment.MERCHANT_WEBHOOK_SECRET;
  if (webhookSecret !== undefined) {
    const problem = webhookSecretProblem(webhookSecret);
    if (problem !== undefined) problems.push(problem);
    else if (mode === 'live' && webhookSecret === DEMO_WEBHOOK_SECRET) {
      problems.push(
        "MERCHANT_WEBHOOK_SECRET=(redacted): holds the demo shop's secret, which is published in the source; " +
          'live mode needs a secret of its own',
      );
    }
  }
  if (webhookUrl !== undefined && webhookSecret === undefined && mode === 'live') {
    problems.push(
      'MERCHANT_WEBHOOK_SECRET is unset: the webhooks to MERCHANT_WEBHOOK_URL are signed with it, and a ' +
        'receiver must be able to tell them from forgeries',
    );
  }
  if (webhookUrl === undefined && webhookSecret !== undefined && mode === 'live') {
    problems.push('MERCHANT_WEBHOOK_SECRET is set without MERCHANT_WEBHOOK_URL: set both or neither');
  }
  const schedule = parseRetrySchedule(
    environment.MERCHANT_WEBHOOK_RETRY_SCHEDULE ?? DEFAULT_WEBHOOK_RETRY_SCHEDULE,
  );
  if ('problem' in schedule) problems.push(schedule.problem);
  const timeoutMs = environment.MERCHANT_WEBHOOK_TIMEOUT_MS ?? 15_000;
  const connectTimeoutMs = environment.MERCHANT_WEBHOOK_CONNECT_TIMEOUT_MS ?? Math.min(5_000, timeoutMs);
  if (connectTimeoutMs > timeoutMs) {
    problems.push(
      `MERCHANT_WEBHOOK_CONNECT_TIMEOUT_MS=${connectTimeoutMs} is above MERCHANT_WEBHOOK_TIMEOUT_MS=` +
        `${timeoutMs}: the connection is part of the attempt`,
    );
  }
  const webhookConcurrency = environment.MERCHANT_WEBHOOK_CONCURRENCY ?? 16;
  const webhookConcurrencyWhileBusy = environment.MERCHANT_WEBHOOK_CONCURRENCY_WHILE_BUSY ?? 1;
  if (webhookConcurrencyWhileBusy > webhookConcurrency) {
    problems.push(
      `MERCHANT_WEBHOOK_CONCURRENCY_WHILE_BUSY=${webhookConcurrencyWhileBusy} is above ` +
        `MERCHANT_WEBHOOK_CONCURRENCY=${webhookConcurrency}: the notifications can only hold webhooks back`,
    );
  }
  if (mode === 'demo' && !isLoopbackHost(host)) {
    warnings.push(
      `demo mode listens on HOST=${host}, not loopback: anyone who reaches it can place orders on the order ` +
        "page without a token and drive the sandbox's unauthenticated control API",
    );
  }
  const awaitingAfterMinutes = environment.RECONCILE_AWAITING_AFTER_MINUTES ?? 15;
  const horizonDays = environment.RECONCILE_HORIZON_DAYS ?? 7;
  const reconcileValid = !read.problems.some(({ variable }) => variable.startsWith('RECONCILE_'));
  if (reconcileValid && awaitingAfterMinutes >= horizonDays * 1440) {
    problems.push(
      `RECONCILE_AWAITING_AFTER_MINUTES=${awaitingAfterMinutes} must be shorter than RECONCILE_HORIZON_DAYS=` +
        `${horizonDays} (${horizonDays * 1440} minutes): no order would ever be asked about`,
    );
  }
  const metricsToken = environment.METRICS_TOKEN;
  if (metricsToken !== undefined && metricsToken === environment.ADMIN_TOKEN) {
    problems.push(
      'METRICS_TOKEN=(redacted) is the ADMIN_TOKEN: whoever scrapes the metrics would also hold the token that ' +
        'places orders and refunds; give Prometheus a token of its own',
    );
  }
  if (problems.length > 0 || mode === undefined) throw new ConfigError(problems);

  const partner = mode === 'demo' ? DEMO_ALIPAY.partner : environment.ALIPAY_PARTNER!;
  const adminToken = environment.ADMIN_TOKEN;
  const flag = (value: string | undefined, byDefault: boolean) =>
    value === undefined ? byDefault : value === 'true';
  return new LedgerConfig({
    mode,
    http: {
      port,
      host,
      publicBaseUrl: (environment.PUBLIC_BASE_URL ?? `http://${hostInUrl(host)}:${port}`).replace(/\/+$/, ''),
      corsOrigins: environment.CORS_ORIGINS?.split(',') ?? [],
    },
    pages: {
      apiDocs: flag(environment.API_DOCS, mode === 'demo'),
      demoPage: flag(environment.DEMO_PAGE, mode === 'demo'),
    },
    database: databaseOf(environment, cwd),
    alipay: {
      partner,
      sellerId: environment.ALIPAY_SELLER_ID ?? partner,
      signType,
      md5Keys: mode === 'demo' ? [DEMO_ALIPAY.md5Key] : md5Keys,
      merchantPrivateKeyPem,
      alipayPublicKeyPem,
      gateway: environment.ALIPAY_GATEWAY ?? DEFAULT_ALIPAY_GATEWAY,
      inputCharset: environment.ALIPAY_INPUT_CHARSET ?? 'utf-8',
      verifyNotifyId: flag(environment.ALIPAY_VERIFY_NOTIFY_ID, true),
    },
    admin: { token: adminToken ?? randomBytes(24).toString('base64url'), tokenGenerated: !adminToken },
    metrics: metricsToken === undefined ? {} : { token: metricsToken },
    readiness: { maxProjectionLagSeconds: environment.READY_MAX_PROJECTION_LAG_SECONDS ?? 60 },
    fulfilment: {
      enabled: flag(environment.FULFILMENT_WORKER, true),
      batchIntervalWhileBusyMs: environment.FULFILMENT_BATCH_INTERVAL_WHILE_BUSY_MS ?? 5_000,
    },
    webhooks: {
      ...(webhookUrl === undefined ? {} : { url: webhookUrl }),
      secret: webhookSecret ?? DEMO_WEBHOOK_SECRET,
      demoShop: mode === 'demo' && webhookUrl === undefined,
      retryScheduleMs: 'delaysMs' in schedule ? schedule.delaysMs : [],
      connectTimeoutMs,
      timeoutMs,
      concurrency: webhookConcurrency,
      concurrencyWhileBusy: webhookConcurrencyWhileBusy,
    },
    refunds: {
      resultTimeoutMinutes: environment.REFUND_RESULT_TIMEOUT_MINUTES ?? 1440,
      pwdBatchExpireAfterHours: environment.REFUND_PWD_BATCH_EXPIRE_AFTER_HOURS ?? 72,
    },
    reconcile: {
      enabled: flag(environment.RECONCILE_WORKER, true),
      awaitingAfterMinutes,
      horizonDays,
    },
    inbox: inboxOf(environment),
    logLevel: environment.LOG_LEVEL ?? 'info',
    warnings,
  });
}

function inboxOf(environment: Environment): LedgerConfig['inbox'] {
  return { unverifiedRetentionDays: environment.INBOX_RETENTION_DAYS ?? 90 };
}
