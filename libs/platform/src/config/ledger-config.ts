import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { parse as parseDotenv } from 'dotenv';
import { Environment } from './environment';

export type SignType = 'MD5' | 'RSA';
export type InputCharset = 'utf-8' | 'gbk';

/** Credentials the bundled sandbox gateway accepts; used only in demo mode (no Alipay credentials given). */
export const DEMO_ALIPAY = {
  partner: '2088000000000001',
  md5Key: 'demokey0000000000000000000000000',
} as const;

export const DEFAULT_ALIPAY_GATEWAY = 'https://mapi.alipay.com/gateway.do';

/**
 * The validated, typed configuration. Nothing else reads `process.env` (STYLE habit 6).
 * `mode` is `demo` when no Alipay credentials are configured at all.
 */
export class LedgerConfig {
  readonly mode: 'demo' | 'live';
  readonly http: {
    port: number;
    host: string;
    publicBaseUrl: string;
    /** Origins allowed to call the API from a browser; empty: CORS closed, `*`: any origin. */
    corsOrigins: string[];
  };
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
  /** Whether this process acts on delivery decisions (one process of a deployment is enough). */
  readonly fulfilment: { enabled: boolean };
  /** How long a submitted refund batch may wait for its result before it is flagged (issue 5 §3). */
  readonly refunds: { resultTimeoutMinutes: number };
  /** Unverified notifications older than this may be purged by the operator (docs/operations.md). */
  readonly inbox: { unverifiedRetentionDays: number };
  readonly logLevel: string;

  constructor(values: LedgerConfig) {
    Object.assign(this, values);
  }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const SECRET_VARIABLES = new Set(['ALIPAY_KEY', 'ADMIN_TOKEN', 'DATABASE_URL']);

/**
 * Reads `.env` (when present; real environment variables win over it), validates every variable and
 * returns the typed configuration, or throws a ConfigError naming every bad variable and what it accepts.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  options: { envFile?: string | false; cwd?: string } = {},
): LedgerConfig {
  const cwd = options.cwd ?? process.cwd();
  const envFile = options.envFile === undefined ? resolve(cwd, '.env') : options.envFile;
  const fromFile = envFile && existsSync(envFile) ? parseDotenv(readFileSync(envFile)) : {};
  const raw = Object.fromEntries(
    Object.entries({ ...fromFile, ...env }).filter(([, value]) => value !== undefined && value !== ''),
  );

  const environment = plainToInstance(Environment, raw);
  const problems = validateSync(environment, { forbidUnknownValues: false }).flatMap((error) =>
    Object.values(error.constraints ?? {}).map((message) => {
      const shown = SECRET_VARIABLES.has(error.property) ? '(redacted)' : JSON.stringify(raw[error.property]);
      return `${error.property}=${shown}: ${message}`;
    }),
  );

  const signType: SignType = environment.ALIPAY_SIGN_TYPE ?? 'MD5';
  const credentialsGiven = [
    'ALIPAY_PARTNER',
    'ALIPAY_KEY',
    'ALIPAY_PRIVATE_KEY_FILE',
    'ALIPAY_PUBLIC_KEY_FILE',
  ].some((name) => raw[name] !== undefined);
  const mode = credentialsGiven ? 'live' : 'demo';

  let merchantPrivateKeyPem: string | undefined;
  let alipayPublicKeyPem: string | undefined;
  if (mode === 'live') {
    if (!environment.ALIPAY_PARTNER)
      problems.push('ALIPAY_PARTNER is required when Alipay credentials are set');
    if (signType === 'MD5' && !environment.ALIPAY_KEY) {
      problems.push('ALIPAY_KEY is required with ALIPAY_SIGN_TYPE=MD5');
    }
    if (signType === 'RSA') {
      merchantPrivateKeyPem = readPem(
        environment.ALIPAY_PRIVATE_KEY_FILE,
        'ALIPAY_PRIVATE_KEY_FILE',
        cwd,
        problems,
      );
      alipayPublicKeyPem = readPem(
        environment.ALIPAY_PUBLIC_KEY_FILE,
        'ALIPAY_PUBLIC_KEY_FILE',
        cwd,
        problems,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const port = environment.PORT ?? 3000;
  const partner = mode === 'demo' ? DEMO_ALIPAY.partner : environment.ALIPAY_PARTNER!;
  const adminToken = environment.ADMIN_TOKEN;
  return new LedgerConfig({
    mode,
    http: {
      port,
      host: environment.HOST ?? '0.0.0.0',
      publicBaseUrl: (environment.PUBLIC_BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
      corsOrigins: environment.CORS_ORIGINS?.split(',') ?? [],
    },
    database: {
      url: environment.DATABASE_URL,
      dataDir: resolve(cwd, environment.DATA_DIR ?? './.data'),
      poolSize: environment.DATABASE_POOL_SIZE ?? 10,
      statementTimeoutMs: environment.DATABASE_STATEMENT_TIMEOUT_MS ?? 30_000,
      lockTimeoutMs: environment.DATABASE_LOCK_TIMEOUT_MS ?? 10_000,
      acquireTimeoutMs: environment.DATABASE_ACQUIRE_TIMEOUT_MS ?? 5_000,
    },
    alipay: {
      partner,
      sellerId: environment.ALIPAY_SELLER_ID ?? partner,
      signType,
      md5Keys:
        mode === 'demo' ? [DEMO_ALIPAY.md5Key] : (environment.ALIPAY_KEY?.split(',').filter(Boolean) ?? []),
      merchantPrivateKeyPem,
      alipayPublicKeyPem,
      gateway: environment.ALIPAY_GATEWAY ?? DEFAULT_ALIPAY_GATEWAY,
      inputCharset: environment.ALIPAY_INPUT_CHARSET ?? 'utf-8',
      verifyNotifyId: (environment.ALIPAY_VERIFY_NOTIFY_ID ?? 'true') === 'true',
    },
    admin: { token: adminToken ?? randomBytes(24).toString('base64url'), tokenGenerated: !adminToken },
    fulfilment: { enabled: (environment.FULFILMENT_WORKER ?? 'true') === 'true' },
    refunds: { resultTimeoutMinutes: environment.REFUND_RESULT_TIMEOUT_MINUTES ?? 1440 },
    inbox: { unverifiedRetentionDays: environment.INBOX_RETENTION_DAYS ?? 90 },
    logLevel: environment.LOG_LEVEL ?? 'info',
  });
}

function readPem(
  path: string | undefined,
  variable: string,
  cwd: string,
  problems: string[],
): string | undefined {
  if (!path) {
    problems.push(`${variable} is required with ALIPAY_SIGN_TYPE=RSA`);
    return undefined;
  }
  const file = resolve(cwd, path);
  if (!existsSync(file)) {
    problems.push(`${variable}=${JSON.stringify(path)}: the file does not exist`);
    return undefined;
  }
  const pem = readFileSync(file, 'utf8');
  if (!/-----BEGIN [A-Z ]*KEY-----/.test(pem)) {
    problems.push(`${variable}=${JSON.stringify(path)}: the file is not a PEM key`);
    return undefined;
  }
  return pem;
}
