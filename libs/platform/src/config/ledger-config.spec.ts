import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEFAULT_ALIPAY_GATEWAY, DEMO_ALIPAY, loadConfig } from './ledger-config';

const noEnvFile = { envFile: false as const, cwd: '/srv/ledger' };

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env, noEnvFile);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('runs in demo mode with the SPEC §4 defaults when nothing is set', () => {
    const config = loadConfig({}, noEnvFile);
    expect(config.mode).toBe('demo');
    expect(config.http).toEqual({
      port: 3000,
      host: '0.0.0.0',
      publicBaseUrl: 'http://localhost:3000',
      corsOrigins: [],
    });
    expect(config.database).toEqual({
      url: undefined,
      dataDir: '/srv/ledger/.data',
      poolSize: 10,
      statementTimeoutMs: 30_000,
      lockTimeoutMs: 10_000,
      acquireTimeoutMs: 5_000,
    });
    expect(config.inbox).toEqual({ unverifiedRetentionDays: 90 });
    expect(config.alipay).toMatchObject({
      partner: DEMO_ALIPAY.partner,
      sellerId: DEMO_ALIPAY.partner,
      signType: 'MD5',
      md5Keys: [DEMO_ALIPAY.md5Key],
      gateway: DEFAULT_ALIPAY_GATEWAY,
      inputCharset: 'utf-8',
      verifyNotifyId: true,
    });
    expect(config.admin.tokenGenerated).toBe(true);
    expect(config.admin.token.length).toBeGreaterThanOrEqual(32);
  });

  it('runs the fulfilment worker unless FULFILMENT_WORKER=false, and refuses other values', () => {
    expect(loadConfig({}, noEnvFile).fulfilment.enabled).toBe(true);
    expect(loadConfig({ FULFILMENT_WORKER: 'false' }, noEnvFile).fulfilment.enabled).toBe(false);
    expect(problemsOf({ FULFILMENT_WORKER: 'off' })).toEqual([
      'FULFILMENT_WORKER="off": FULFILMENT_WORKER must be true or false',
    ]);
  });

  it('reads the database timeouts, the inbox retention and the CORS origins, and refuses bad ones', () => {
    const config = loadConfig(
      {
        DATABASE_STATEMENT_TIMEOUT_MS: '60000',
        DATABASE_LOCK_TIMEOUT_MS: '2000',
        DATABASE_ACQUIRE_TIMEOUT_MS: '1500',
        INBOX_RETENTION_DAYS: '30',
        CORS_ORIGINS: 'https://admin.example.com,http://ops.example.com:8080',
      },
      noEnvFile,
    );
    expect(config.database).toMatchObject({
      statementTimeoutMs: 60_000,
      lockTimeoutMs: 2_000,
      acquireTimeoutMs: 1_500,
    });
    expect(config.inbox.unverifiedRetentionDays).toBe(30);
    expect(config.http.corsOrigins).toEqual(['https://admin.example.com', 'http://ops.example.com:8080']);
    expect(
      problemsOf({
        DATABASE_STATEMENT_TIMEOUT_MS: '5',
        INBOX_RETENTION_DAYS: '0',
        CORS_ORIGINS: 'admin.example.com',
      }).map((problem) => problem.split(':')[0]),
    ).toEqual([
      'DATABASE_STATEMENT_TIMEOUT_MS="5"',
      'INBOX_RETENTION_DAYS="0"',
      'CORS_ORIGINS="admin.example.com"',
    ]);
  });

  it('generates a different admin token on each start when none is set', () => {
    expect(loadConfig({}, noEnvFile).admin.token).not.toEqual(loadConfig({}, noEnvFile).admin.token);
  });

  it('types and defaults live MD5 credentials, with rotation keys', () => {
    const config = loadConfig(
      {
        PORT: '8080',
        ALIPAY_PARTNER: '2088123456789012',
        ALIPAY_KEY: 'a'.repeat(32) + ',' + 'b'.repeat(32),
        ALIPAY_INPUT_CHARSET: 'GBK',
        ALIPAY_VERIFY_NOTIFY_ID: 'false',
        PUBLIC_BASE_URL: 'https://shop.example.com/',
        ADMIN_TOKEN: 'x'.repeat(20),
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/ledger',
      },
      noEnvFile,
    );
    expect(config.mode).toBe('live');
    expect(config.http).toEqual({
      port: 8080,
      host: '0.0.0.0',
      publicBaseUrl: 'https://shop.example.com',
      corsOrigins: [],
    });
    expect(config.alipay.sellerId).toBe('2088123456789012');
    expect(config.alipay.md5Keys).toEqual(['a'.repeat(32), 'b'.repeat(32)]);
    expect(config.alipay.inputCharset).toBe('gbk');
    expect(config.alipay.verifyNotifyId).toBe(false);
    expect(config.admin).toEqual({ token: 'x'.repeat(20), tokenGenerated: false });
    expect(config.database.url).toBe('postgres://postgres@127.0.0.1:5432/ledger');
  });

  it('names every bad variable at once, with what it accepts, and never echoes secrets', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      ALIPAY_PARTNER: '1234',
      ALIPAY_KEY: 'secret key with spaces',
      ALIPAY_SIGN_TYPE: 'DSA',
      ALIPAY_INPUT_CHARSET: 'latin1',
      ALIPAY_VERIFY_NOTIFY_ID: 'maybe',
      ALIPAY_GATEWAY: 'not a url',
      DATABASE_URL: 'mysql://root@localhost/db',
      ADMIN_TOKEN: 'short',
    });
    const variables = problems.map((problem) => problem.split(/[=: ]/)[0]);
    expect(new Set(variables)).toEqual(
      new Set([
        'PORT',
        'ALIPAY_PARTNER',
        'ALIPAY_KEY',
        'ALIPAY_SIGN_TYPE',
        'ALIPAY_INPUT_CHARSET',
        'ALIPAY_VERIFY_NOTIFY_ID',
        'ALIPAY_GATEWAY',
        'DATABASE_URL',
        'ADMIN_TOKEN',
      ]),
    );
    expect(problems.find((p) => p.startsWith('PORT'))).toContain('integer from 1 to 65535');
    expect(problems.find((p) => p.startsWith('ALIPAY_SIGN_TYPE'))).toContain('MD5 or RSA');
    const text = problems.join('\n');
    expect(text).not.toContain('secret key');
    expect(text).not.toContain('mysql://');
    expect(text).not.toContain('short');
  });

  it('requires the partner and the MD5 key together', () => {
    expect(problemsOf({ ALIPAY_KEY: 'k'.repeat(32) })).toEqual([
      'ALIPAY_PARTNER is required when Alipay credentials are set',
    ]);
    expect(problemsOf({ ALIPAY_PARTNER: '2088123456789012' })).toEqual([
      'ALIPAY_KEY is required with ALIPAY_SIGN_TYPE=MD5',
    ]);
  });

  it('reads RSA PEM files and rejects missing or non-PEM ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-config-'));
    writeFileSync(join(dir, 'private.pem'), '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n');
    writeFileSync(join(dir, 'not-a-key.txt'), 'hello');
    const base = { ALIPAY_PARTNER: '2088123456789012', ALIPAY_SIGN_TYPE: 'RSA' };

    expect(() =>
      loadConfig(
        { ...base, ALIPAY_PRIVATE_KEY_FILE: 'private.pem', ALIPAY_PUBLIC_KEY_FILE: 'private.pem' },
        {
          envFile: false,
          cwd: dir,
        },
      ),
    ).not.toThrow();
    expect(() =>
      loadConfig(
        { ...base, ALIPAY_PRIVATE_KEY_FILE: 'missing.pem', ALIPAY_PUBLIC_KEY_FILE: 'not-a-key.txt' },
        {
          envFile: false,
          cwd: dir,
        },
      ),
    ).toThrow(
      /ALIPAY_PRIVATE_KEY_FILE="missing.pem": the file does not exist[\s\S]*ALIPAY_PUBLIC_KEY_FILE="not-a-key.txt": the file is not a PEM key/,
    );
  });

  it('reads .env, and the real environment wins over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-config-'));
    writeFileSync(join(dir, '.env'), 'PORT=4000\nHOST=127.0.0.1\n');
    const config = loadConfig({ HOST: '::1' }, { cwd: dir });
    expect(config.http.port).toBe(4000);
    expect(config.http.host).toBe('::1');
  });
});
