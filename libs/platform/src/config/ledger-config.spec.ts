import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  buildNotifyVerifyUrl,
  isMd5Key,
  parseRsaPrivateKey,
  parseRsaPublicKey,
} from '@ledger/alipay-protocol';
import {
  ConfigError,
  DEFAULT_ALIPAY_GATEWAY,
  DEMO_ALIPAY,
  DEMO_WEBHOOK_SECRET,
  loadConfig,
  loadDatabaseConfig,
  type LoadConfigOptions,
} from './ledger-config';

const noEnvFile: LoadConfigOptions = { envFile: false, cwd: '/srv/ledger' };

const PARTNER = '2088123456789012';
const KEY = 'k1k2k3k4k5k6k7k8k9k0abcdefghijkl';
const TOKEN = 'an-admin-token-of-32-characters!';
const DATABASE_URL = 'postgres://ledger:s3cret@db.internal:5432/ledger';

/** Everything live mode needs, on PostgreSQL, with an MD5 key. */
const LIVE = {
  ALIPAY_PARTNER: PARTNER,
  ALIPAY_KEY: KEY,
  PUBLIC_BASE_URL: 'https://shop.example.com',
  DATABASE_URL,
};

function problemsOf(env: NodeJS.ProcessEnv, options: LoadConfigOptions = noEnvFile): string[] {
  try {
    loadConfig(env, options);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/** The one problem about `variable` (the text before its first `=`, `:` or space). */
function problemOf(env: NodeJS.ProcessEnv, variable: string, options?: LoadConfigOptions): string {
  const found = problemsOf(env, options).filter((problem) => problem.split(/[=: ]/)[0] === variable);
  expect(found).toHaveLength(1);
  return found[0];
}

describe('loadConfig', () => {
  it('runs the demo on loopback with its pages when nothing is set', () => {
    const config = loadConfig({}, noEnvFile);
    expect(config.mode).toBe('demo');
    expect(config.http).toEqual({
      port: 3000,
      host: '127.0.0.1',
      publicBaseUrl: 'http://127.0.0.1:3000',
      corsOrigins: [],
    });
    expect(config.pages).toEqual({ apiDocs: true, demoPage: true });
    expect(config.warnings).toEqual([]);
    expect(config.database).toEqual({
      url: undefined,
      dataDir: '/srv/ledger/.data',
      poolSize: 10,
      statementTimeoutMs: 30_000,
      lockTimeoutMs: 10_000,
      acquireTimeoutMs: 5_000,
      preparedStatements: true,
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

  it('holds the fulfilment outbox back for 5 s at most while busy, 0 to 60 s when told, and refuses the rest', () => {
    expect(loadConfig({}, noEnvFile).fulfilment.batchIntervalWhileBusyMs).toBe(5_000);
    expect(
      loadConfig({ FULFILMENT_BATCH_INTERVAL_WHILE_BUSY_MS: '0' }, noEnvFile).fulfilment
        .batchIntervalWhileBusyMs,
    ).toBe(0);
    for (const value of ['-1', '60001', '1.5', 'soon']) {
      expect(problemsOf({ FULFILMENT_BATCH_INTERVAL_WHILE_BUSY_MS: value })).toEqual([
        expect.stringContaining('FULFILMENT_BATCH_INTERVAL_WHILE_BUSY_MS must be an integer from 0 to 60000'),
      ]);
    }
  });

  it('asks about orders awaiting payment after 15 minutes for 7 days unless told otherwise', () => {
    expect(loadConfig({}, noEnvFile).reconcile).toEqual({
      enabled: true,
      awaitingAfterMinutes: 15,
      horizonDays: 7,
    });
    const config = loadConfig(
      { RECONCILE_AWAITING_AFTER_MINUTES: '60', RECONCILE_HORIZON_DAYS: '30', RECONCILE_WORKER: 'false' },
      noEnvFile,
    );
    expect(config.reconcile).toEqual({ enabled: false, awaitingAfterMinutes: 60, horizonDays: 30 });
  });

  it('refuses reconcile ages that are not whole minutes or days in range, or that leave nothing to ask', () => {
    for (const value of ['0', '1.5', 'soon', '10081']) {
      expect(
        problemOf({ RECONCILE_AWAITING_AFTER_MINUTES: value }, 'RECONCILE_AWAITING_AFTER_MINUTES'),
      ).toMatch(/must be an integer number of minutes from 1 to 10080/);
    }
    for (const value of ['0', '91', '7d']) {
      expect(problemOf({ RECONCILE_HORIZON_DAYS: value }, 'RECONCILE_HORIZON_DAYS')).toMatch(
        /must be an integer number of days from 1 to 90/,
      );
    }
    expect(
      problemOf(
        { RECONCILE_AWAITING_AFTER_MINUTES: '1440', RECONCILE_HORIZON_DAYS: '1' },
        'RECONCILE_AWAITING_AFTER_MINUTES',
      ),
    ).toMatch(/must be shorter than RECONCILE_HORIZON_DAYS=1/);
    expect(problemOf({ RECONCILE_WORKER: 'yes' }, 'RECONCILE_WORKER')).toMatch(/must be true or false/);
  });

  it('reads the database timeouts, the inbox retention and the CORS origins, and refuses bad ones', () => {
    const config = loadConfig(
      {
        DATABASE_STATEMENT_TIMEOUT_MS: '60000',
        DATABASE_LOCK_TIMEOUT_MS: '2000',
        DATABASE_ACQUIRE_TIMEOUT_MS: '1500',
        DATABASE_PREPARED_STATEMENTS: 'false',
        INBOX_RETENTION_DAYS: '30',
        CORS_ORIGINS: 'https://admin.example.com,http://ops.example.com:8080',
      },
      noEnvFile,
    );
    expect(config.database).toMatchObject({
      statementTimeoutMs: 60_000,
      lockTimeoutMs: 2_000,
      acquireTimeoutMs: 1_500,
      preparedStatements: false,
    });
    expect(config.inbox.unverifiedRetentionDays).toBe(30);
    expect(config.http.corsOrigins).toEqual(['https://admin.example.com', 'http://ops.example.com:8080']);
    expect(
      problemsOf({
        DATABASE_STATEMENT_TIMEOUT_MS: '5',
        DATABASE_PREPARED_STATEMENTS: 'sometimes',
        INBOX_RETENTION_DAYS: '0',
        CORS_ORIGINS: 'admin.example.com',
      }).map((problem) => problem.split(':')[0]),
    ).toEqual([
      'DATABASE_STATEMENT_TIMEOUT_MS="5"',
      'DATABASE_PREPARED_STATEMENTS="sometimes"',
      'INBOX_RETENTION_DAYS="0"',
      'CORS_ORIGINS="admin.example.com"',
    ]);
  });

  it('generates a different admin token on each start when none is set', () => {
    expect(loadConfig({}, noEnvFile).admin.token).not.toEqual(loadConfig({}, noEnvFile).admin.token);
  });

  it('types and defaults live MD5 credentials, with rotation keys, and closes the demo pages', () => {
    const config = loadConfig(
      {
        ...LIVE,
        PORT: '8080',
        ALIPAY_KEY: `${KEY},${'b'.repeat(32)}`,
        ALIPAY_INPUT_CHARSET: 'GBK',
        ALIPAY_VERIFY_NOTIFY_ID: 'false',
        PUBLIC_BASE_URL: 'https://shop.example.com/',
        ADMIN_TOKEN: TOKEN,
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
    expect(config.pages).toEqual({ apiDocs: false, demoPage: false });
    expect(config.alipay.partner).toBe(PARTNER);
    expect(config.alipay.sellerId).toBe(PARTNER);
    expect(config.alipay.md5Keys).toEqual([KEY, 'b'.repeat(32)]);
    expect(config.alipay.inputCharset).toBe('gbk');
    expect(config.alipay.verifyNotifyId).toBe(false);
    expect(config.admin).toEqual({ token: TOKEN, tokenGenerated: false });
    expect(config.database.url).toBe(DATABASE_URL);
    expect(config.warnings).toEqual([]);
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
    expect(variables).toHaveLength(new Set(variables).size);
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
        'LEDGER_MODE',
      ]),
    );
    expect(problems.find((p) => p.startsWith('PORT'))).toContain('integer from 1 to 65535');
    expect(problems.find((p) => p.startsWith('ALIPAY_SIGN_TYPE'))).toContain('MD5 or RSA');
    const text = problems.join('\n');
    expect(text).not.toContain('secret key');
    expect(text).not.toContain('mysql://');
    expect(text).not.toContain('short');
  });

  it('reads .env, and the real environment wins over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-config-'));
    writeFileSync(join(dir, '.env'), 'PORT=4000\nHOST=127.0.0.1\n');
    const config = loadConfig({ HOST: '::1' }, { cwd: dir });
    expect(config.http.port).toBe(4000);
    expect(config.http.host).toBe('::1');
    expect(config.http.publicBaseUrl).toBe('http://[::1]:4000');
  });
});

describe('the mode', () => {
  it('refuses NODE_ENV=production alone, naming what live mode misses and how to choose the demo', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      'LEDGER_MODE is unset, and NODE_ENV=production says this is not a trial run, but the live settings ' +
        'are incomplete; missing: ALIPAY_PARTNER, ALIPAY_KEY, PUBLIC_BASE_URL. Give them to run live, or set ' +
        'LEDGER_MODE=demo to run the demo on purpose (the sandbox plays Alipay with the demo key published ' +
        'in the source; no real money)',
    ]);
  });

  it('refuses a DATABASE_URL without credentials, without showing the URL', () => {
    const problem = problemOf({ DATABASE_URL }, 'LEDGER_MODE');
    expect(problem).toContain('DATABASE_URL says this is not a trial run');
    expect(problem).toContain('missing: ALIPAY_PARTNER, ALIPAY_KEY, PUBLIC_BASE_URL');
    expect(problem).toContain('LEDGER_MODE=demo');
    expect(problem).not.toContain('s3cret');
  });

  it('takes any ALIPAY_ variable, known or misspelt, and PUBLIC_BASE_URL as meaning live', () => {
    for (const env of [
      { ALIPAY_GATEWAY: 'https://openapi.example.com/gateway.do' },
      { ALIPAY_INPUT_CHARSET: 'gbk' },
      { ALIPAY_PARTNR: PARTNER },
      { PUBLIC_BASE_URL: 'https://shop.example.com' },
    ]) {
      const [name] = Object.keys(env);
      expect(problemOf(env, 'LEDGER_MODE')).toContain(`and ${name} says this is not a trial run`);
    }
  });

  it('names the missing half of a partial credential set, for the sign type in force', () => {
    expect(problemOf({ ALIPAY_PARTNER: PARTNER, DATABASE_URL }, 'LEDGER_MODE')).toContain(
      'missing: ALIPAY_KEY, PUBLIC_BASE_URL.',
    );
    expect(problemOf({ ALIPAY_SIGN_TYPE: 'RSA', ALIPAY_PARTNER: PARTNER }, 'LEDGER_MODE')).toContain(
      'missing: ALIPAY_PRIVATE_KEY_FILE, ALIPAY_PUBLIC_KEY_FILE, PUBLIC_BASE_URL.',
    );
    expect(problemOf({ ALIPAY_PARTNER: PARTNER, ALIPAY_PRIVATE_KEY_FILE: 'k.pem' }, 'LEDGER_MODE')).toContain(
      'missing: ALIPAY_KEY (or ALIPAY_SIGN_TYPE=RSA, to sign with the key files), PUBLIC_BASE_URL.',
    );
  });

  it('is demo with no sign of production, live with full credentials, and refused in between', () => {
    const signals = {
      NODE_ENV: 'production',
      DATABASE_URL,
      ALIPAY_GATEWAY: 'https://mapi.alipay.com/gateway.do',
      ALIPAY_PARTNER: PARTNER,
      ALIPAY_KEY: KEY,
      PUBLIC_BASE_URL: 'https://shop.example.com',
    };
    const names = Object.keys(signals) as (keyof typeof signals)[];
    fc.assert(
      fc.property(fc.subarray(names), (chosen) => {
        const env = {
          EMBEDDED_DATABASE_ACCEPT_DATA_LOSS: 'true',
          ...Object.fromEntries(chosen.map((name) => [name, signals[name]])),
        };
        const missing = (['ALIPAY_PARTNER', 'ALIPAY_KEY', 'PUBLIC_BASE_URL'] as const).filter(
          (name) => !chosen.includes(name),
        );
        if (chosen.length === 0) return loadConfig(env, noEnvFile).mode === 'demo';
        if (missing.length === 0) return loadConfig(env, noEnvFile).mode === 'live';
        const [problem] = problemsOf(env);
        return (
          problem.includes(`missing: ${missing.join(', ')}.`) &&
          problem.includes('set LEDGER_MODE=demo') &&
          !problem.includes('s3cret')
        );
      }),
    );
  });

  it('runs the demo where the operator chose it, on PostgreSQL, in production, with another gateway', () => {
    const config = loadConfig(
      {
        LEDGER_MODE: 'demo',
        NODE_ENV: 'production',
        DATABASE_URL,
        ALIPAY_GATEWAY: 'http://sandbox.internal:3001/gateway.do',
        PUBLIC_BASE_URL: 'http://ledger.internal:3000',
      },
      noEnvFile,
    );
    expect(config.mode).toBe('demo');
    expect(config.alipay).toMatchObject({
      partner: DEMO_ALIPAY.partner,
      md5Keys: [DEMO_ALIPAY.md5Key],
      gateway: 'http://sandbox.internal:3001/gateway.do',
    });
    expect(config.http.publicBaseUrl).toBe('http://ledger.internal:3000');
  });

  it('refuses LEDGER_MODE=demo with real credentials, by name', () => {
    expect(
      problemsOf({
        LEDGER_MODE: 'demo',
        ALIPAY_PARTNER: PARTNER,
        ALIPAY_KEY: KEY,
        ALIPAY_SELLER_ID: PARTNER,
        ALIPAY_SIGN_TYPE: 'RSA',
      }),
    ).toEqual([
      "LEDGER_MODE=demo contradicts ALIPAY_PARTNER, ALIPAY_KEY, ALIPAY_SELLER_ID, ALIPAY_SIGN_TYPE=RSA: the demo signs as the sandbox's demo merchant with its published MD5 key, never with real credentials; remove them to run the demo, or set LEDGER_MODE=live to use them",
    ]);
  });

  it('requires the full credentials with LEDGER_MODE=live, and refuses other modes', () => {
    expect(problemsOf({ LEDGER_MODE: 'live', DATABASE_URL })).toEqual([
      'LEDGER_MODE=live needs the live settings; missing: ALIPAY_PARTNER, ALIPAY_KEY, PUBLIC_BASE_URL',
    ]);
    expect(loadConfig({ ...LIVE, LEDGER_MODE: 'live' }, noEnvFile).mode).toBe('live');
    expect(problemsOf({ LEDGER_MODE: 'production' })).toEqual([
      'LEDGER_MODE="production": LEDGER_MODE must be demo (the sandbox plays Alipay, no real money) or live ' +
        '(real Alipay credentials)',
    ]);
  });

  it('refuses live mode on the embedded database unless the data loss is accepted, then warns', () => {
    const { DATABASE_URL: _postgres, ...embedded } = LIVE;
    const problem = problemOf(embedded, 'DATABASE_URL');
    expect(problem).toContain('PGlite does not fsync');
    expect(problem).toContain('after Alipay was answered success');
    expect(problem).toContain('EMBEDDED_DATABASE_ACCEPT_DATA_LOSS=true');
    const accepted = loadConfig({ ...embedded, EMBEDDED_DATABASE_ACCEPT_DATA_LOSS: 'true' }, noEnvFile);
    expect(accepted.mode).toBe('live');
    expect(accepted.warnings).toEqual([expect.stringContaining('PGlite does not fsync')]);
    expect(
      problemOf(
        { ...embedded, EMBEDDED_DATABASE_ACCEPT_DATA_LOSS: 'yes' },
        'EMBEDDED_DATABASE_ACCEPT_DATA_LOSS',
      ),
    ).toContain('true or false');
  });
});

describe('the listen address', () => {
  it('is loopback in demo mode, every interface in live mode, and what the operator sets', () => {
    expect(loadConfig({}, noEnvFile).http.host).toBe('127.0.0.1');
    expect(loadConfig(LIVE, noEnvFile).http.host).toBe('0.0.0.0');
    expect(loadConfig({ ...LIVE, HOST: '10.0.0.5' }, noEnvFile).http.host).toBe('10.0.0.5');
  });

  it('warns when the demo listens beyond loopback, and names the pages by localhost there', () => {
    const config = loadConfig({ HOST: '0.0.0.0' }, noEnvFile);
    expect(config.http.host).toBe('0.0.0.0');
    expect(config.http.publicBaseUrl).toBe('http://localhost:3000');
    expect(config.warnings).toEqual([
      "demo mode listens on HOST=0.0.0.0, not loopback: anyone who reaches it can place orders on the order page without a token and drive the sandbox's unauthenticated control API",
    ]);
    expect(loadConfig({ HOST: 'localhost' }, noEnvFile).warnings).toEqual([]);
    expect(loadConfig({ HOST: '127.0.0.2' }, noEnvFile).warnings).toEqual([]);
  });
});

describe('values a later step would refuse', () => {
  it('expires unconfirmed pwd batches after 72 hours unless told otherwise, and refuses a time that is not one', () => {
    expect(loadConfig({ LEDGER_MODE: 'demo' }, noEnvFile).refunds.pwdBatchExpireAfterHours).toBe(72);
    expect(
      loadConfig({ LEDGER_MODE: 'demo', REFUND_PWD_BATCH_EXPIRE_AFTER_HOURS: '0.5' }, noEnvFile).refunds
        .pwdBatchExpireAfterHours,
    ).toBe(0.5);
    for (const value of ['0', '-1', 'two days', '8761', 'Infinity']) {
      expect(
        problemOf(
          { LEDGER_MODE: 'demo', REFUND_PWD_BATCH_EXPIRE_AFTER_HOURS: value },
          'REFUND_PWD_BATCH_EXPIRE_AFTER_HOURS',
        ),
      ).toContain('REFUND_PWD_BATCH_EXPIRE_AFTER_HOURS must be a number of hours above 0 and at most 8760');
    }
  });

  it('refuses a gateway with a query or a fragment, like the PHP kit\'s "gateway.do?"', () => {
    expect(
      problemsOf({ LEDGER_MODE: 'demo', ALIPAY_GATEWAY: 'https://mapi.alipay.com/gateway.do?' }),
    ).toEqual([
      'ALIPAY_GATEWAY="https://mapi.alipay.com/gateway.do?": ALIPAY_GATEWAY must be an http(s) URL without ' +
        "query or fragment, e.g. https://mapi.alipay.com/gateway.do (drop the trailing ? of the value in Alipay's PHP kit)",
    ]);
    expect(
      problemOf(
        { LEDGER_MODE: 'demo', ALIPAY_GATEWAY: 'https://gw.example.com/gateway.do#x' },
        'ALIPAY_GATEWAY',
      ),
    ).toContain('without query');
  });

  it('accepts only gateways that the request builders accept', () => {
    const suffix = fc.constantFrom('', '?', '?_input_charset=utf-8', '#top', '/', ' ', '/gateway.do');
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), suffix, (url, end) => {
        const gateway = url + end;
        let accepted: boolean;
        try {
          loadConfig({ LEDGER_MODE: 'demo', ALIPAY_GATEWAY: gateway }, noEnvFile);
          accepted = true;
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          accepted = false;
        }
        const built = buildNotifyVerifyUrl({ partner: PARTNER, notifyId: 'n1', gateway });
        return !accepted || built.ok;
      }),
    );
  });

  it('refuses MD5 keys that are not exactly 32 letters and digits, by position, never showing them', () => {
    const short = 'k'.repeat(16);
    const problem = problemOf({ ...LIVE, ALIPAY_KEY: short }, 'ALIPAY_KEY');
    expect(problem).toBe(
      'ALIPAY_KEY=(redacted): the key has 16 characters; ALIPAY_KEY must be the MD5 key of the merchant ' +
        'console, exactly 32 letters and digits; during a rotation, several such keys separated by commas, the ' +
        'first one signing',
    );
    const rotation = problemOf(
      { ...LIVE, ALIPAY_KEY: `${KEY},${'x'.repeat(31)}-,,${'y'.repeat(64)}` },
      'ALIPAY_KEY',
    );
    expect(rotation).toContain(
      'key 2 of 4 has a character other than letters and digits, key 3 of 4 is empty, key 4 of 4 has 64 characters;',
    );
    expect(rotation).not.toContain('xxxx');
    expect(rotation).not.toContain(KEY);
  });

  it('accepts only MD5 keys that signing accepts', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 0, maxLength: 40 }), (key) => {
        fc.pre(!key.includes(','));
        let accepted: boolean;
        try {
          loadConfig({ ...LIVE, ALIPAY_KEY: key }, noEnvFile);
          accepted = true;
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          accepted = false;
        }
        return !accepted || isMd5Key(key);
      }),
    );
  });

  it('never accepts the demo key in live mode', () => {
    const problem = problemOf({ ...LIVE, ALIPAY_KEY: `${KEY},${DEMO_ALIPAY.md5Key}` }, 'ALIPAY_KEY');
    expect(problem).toContain('holds the demo key, which is published in the source');
    expect(problem).not.toContain(DEMO_ALIPAY.md5Key);
  });

  it('requires PUBLIC_BASE_URL in live mode to be reachable: no loopback, no unspecified address', () => {
    for (const url of [
      'http://localhost:3000',
      'http://shop.localhost',
      'http://127.0.0.1:3000',
      'http://127.7.8.9',
      'http://[::1]:3000',
      'http://[::ffff:127.0.0.1]',
      'http://0.0.0.0:3000',
      'http://[::]',
    ]) {
      const problem = problemOf({ ...LIVE, PUBLIC_BASE_URL: url }, 'PUBLIC_BASE_URL');
      expect(problem).toContain('not localhost, 127.0.0.0/8, ::1 or 0.0.0.0');
    }
    expect(
      loadConfig({ ...LIVE, PUBLIC_BASE_URL: 'http://10.0.0.5:8080/ledger' }, noEnvFile).http.publicBaseUrl,
    ).toBe('http://10.0.0.5:8080/ledger');
    expect(
      loadConfig({ LEDGER_MODE: 'demo', PUBLIC_BASE_URL: 'http://localhost:3000' }, noEnvFile).mode,
    ).toBe('demo');
  });

  it('refuses a PUBLIC_BASE_URL with a query or a fragment in any mode', () => {
    for (const env of [LIVE, { LEDGER_MODE: 'demo' }]) {
      expect(
        problemOf({ ...env, PUBLIC_BASE_URL: 'https://shop.example.com/?x=1' }, 'PUBLIC_BASE_URL'),
      ).toContain('without query or fragment');
    }
  });

  it('refuses a pool smaller than the connections the process pins plus headroom', () => {
    const problem = problemOf({ ...LIVE, DATABASE_POOL_SIZE: '2' }, 'DATABASE_POOL_SIZE');
    expect(problem).toContain('from 4 to 100');
    expect(problem).toContain('the projector holds one connection for the life of the process');
    expect(loadConfig({ ...LIVE, DATABASE_POOL_SIZE: '4' }, noEnvFile).database.poolSize).toBe(4);
  });

  it('refuses an admin token shorter than 32 characters or with spaces, never showing it', () => {
    for (const token of ['x'.repeat(31), `${'x'.repeat(31)} y`, `${'x'.repeat(31)}令`]) {
      const problem = problemOf({ ADMIN_TOKEN: token }, 'ADMIN_TOKEN');
      expect(problem).toBe(
        'ADMIN_TOKEN=(redacted): ADMIN_TOKEN must be at least 32 printable ASCII characters without spaces ' +
          '(it travels in an Authorization: Bearer header), e.g. the output of: openssl rand -base64 32',
      );
    }
    expect(loadConfig({ ADMIN_TOKEN: TOKEN }, noEnvFile).admin.token).toBe(TOKEN);
  });

  it('opens /metrics without a token unless METRICS_TOKEN is set, and refuses a weak one or the admin token', () => {
    expect(loadConfig({}, noEnvFile).metrics).toEqual({});
    const token = 'a-metrics-token-of-32-characters';
    expect(loadConfig({ METRICS_TOKEN: token }, noEnvFile).metrics).toEqual({ token });
    expect(problemOf({ METRICS_TOKEN: 'x'.repeat(31) }, 'METRICS_TOKEN')).toBe(
      'METRICS_TOKEN=(redacted): METRICS_TOKEN must be at least 32 printable ASCII characters without spaces ' +
        '(Prometheus sends it in an Authorization: Bearer header), e.g. the output of: openssl rand -base64 32',
    );
    const same = problemOf({ ADMIN_TOKEN: TOKEN, METRICS_TOKEN: TOKEN }, 'METRICS_TOKEN');
    expect(same).toMatch(/^METRICS_TOKEN=\(redacted\) is the ADMIN_TOKEN/);
    expect(same).not.toContain(TOKEN);
  });

  it('is ready with projections up to 60 s behind unless told otherwise, and refuses a bound that is not one', () => {
    expect(loadConfig({}, noEnvFile).readiness).toEqual({ maxProjectionLagSeconds: 60 });
    expect(loadConfig({ READY_MAX_PROJECTION_LAG_SECONDS: '0' }, noEnvFile).readiness).toEqual({
      maxProjectionLagSeconds: 0,
    });
    for (const value of ['-1', '1.5', '1m', '86401']) {
      expect(problemOf({ READY_MAX_PROJECTION_LAG_SECONDS: value }, 'READY_MAX_PROJECTION_LAG_SECONDS')).toBe(
        `READY_MAX_PROJECTION_LAG_SECONDS="${value}": READY_MAX_PROJECTION_LAG_SECONDS must be an integer number ` +
          'of seconds from 0 to 86400: how old the oldest event a projection has not applied may be before ' +
          'GET /health/ready answers 503, e.g. 60',
      );
    }
  });
});

describe('RSA key files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-config-rsa-'));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const files: Record<string, string> = {
    'private-pkcs8.pem': rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    'private-pkcs1.pem': rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string,
    'private.b64': (rsa.privateKey.export({ type: 'pkcs8', format: 'der' }) as Buffer).toString('base64'),
    'public.pem': rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    'public-pkcs1.pem': rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }) as string,
    'public.b64': (rsa.publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64'),
    'ec-private.pem': ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    'ec-public.pem': ec.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    'fake.pem': '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n',
    'hello.txt': 'hello',
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  mkdirSync(join(dir, 'a-directory'));

  const rsaLive = (privateKey: string, publicKey: string) => ({
    ALIPAY_PARTNER: PARTNER,
    ALIPAY_SIGN_TYPE: 'RSA',
    ALIPAY_PRIVATE_KEY_FILE: privateKey,
    ALIPAY_PUBLIC_KEY_FILE: publicKey,
    PUBLIC_BASE_URL: 'https://shop.example.com',
    DATABASE_URL,
  });
  const inDir = { envFile: false as const, cwd: dir };

  it('reads the forms signing reads, and the keys they hold sign', () => {
    for (const [privateKey, publicKey] of [
      ['private-pkcs8.pem', 'public.pem'],
      ['private-pkcs1.pem', 'public-pkcs1.pem'],
      ['private.b64', 'public.b64'],
    ]) {
      const { alipay } = loadConfig(rsaLive(privateKey, publicKey), inDir);
      expect(parseRsaPrivateKey(alipay.merchantPrivateKeyPem!).ok).toBe(true);
      expect(parseRsaPublicKey(alipay.alipayPublicKeyPem!).ok).toBe(true);
    }
  });

  it('refuses a private key given as the public one, and the reverse', () => {
    const problems = problemsOf(rsaLive('public.pem', 'private-pkcs8.pem'), inDir);
    expect(problems).toEqual([
      'ALIPAY_PRIVATE_KEY_FILE="public.pem": the file holds a public key; it must hold the merchant\'s RSA private key (PEM PKCS#1 or PKCS#8, or its bare base64 DER body)',
      'ALIPAY_PUBLIC_KEY_FILE="private-pkcs8.pem": the file holds a private key; it must hold Alipay\'s RSA public key (PEM, or its bare base64 DER body, as the merchant console shows it)',
    ]);
    expect(problemOf(rsaLive('private-pkcs1.pem', 'private.b64'), 'ALIPAY_PUBLIC_KEY_FILE', inDir)).toContain(
      'holds a private key',
    );
  });

  it('refuses missing, unreadable, unparsable and non-RSA key files', () => {
    expect(problemOf(rsaLive('missing.pem', 'public.pem'), 'ALIPAY_PRIVATE_KEY_FILE', inDir)).toContain(
      'the file does not exist',
    );
    expect(problemOf(rsaLive('a-directory', 'public.pem'), 'ALIPAY_PRIVATE_KEY_FILE', inDir)).toContain(
      'the file cannot be read (EISDIR)',
    );
    expect(problemOf(rsaLive('fake.pem', 'hello.txt'), 'ALIPAY_PRIVATE_KEY_FILE', inDir)).toContain(
      'the file holds no key that can be read',
    );
    expect(problemOf(rsaLive('fake.pem', 'hello.txt'), 'ALIPAY_PUBLIC_KEY_FILE', inDir)).toContain(
      'the file holds no key that can be read',
    );
    expect(problemOf(rsaLive('ec-private.pem', 'ec-public.pem'), 'ALIPAY_PRIVATE_KEY_FILE', inDir)).toContain(
      'the file holds a ec key',
    );
    expect(problemOf(rsaLive('ec-private.pem', 'ec-public.pem'), 'ALIPAY_PUBLIC_KEY_FILE', inDir)).toContain(
      'the file holds a ec key',
    );
  });
});

describe('the pages', () => {
  it('serves /docs and /demo by default in demo mode only, and as the operator says', () => {
    expect(loadConfig({ API_DOCS: 'false', DEMO_PAGE: 'false' }, noEnvFile).pages).toEqual({
      apiDocs: false,
      demoPage: false,
    });
    expect(loadConfig({ ...LIVE, API_DOCS: 'true', DEMO_PAGE: 'true' }, noEnvFile).pages).toEqual({
      apiDocs: true,
      demoPage: true,
    });
    expect(problemOf({ API_DOCS: 'on' }, 'API_DOCS')).toContain('true or false');
  });
});

describe('the merchant webhooks', () => {
  const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
  const URL_ = 'https://shop.example.com/webhooks';

  it('sends to the demo shop with the published secret in demo mode, and to nobody in live mode', () => {
    const demo = loadConfig({}, noEnvFile);
    expect(demo.webhooks).toMatchObject({ demoShop: true, secret: DEMO_WEBHOOK_SECRET });
    expect(demo.webhooks.url).toBeUndefined();
    expect(demo.webhooks.retryScheduleMs).toEqual([
      5_000, 30_000, 120_000, 600_000, 3_600_000, 21_600_000, 86_400_000,
    ]);
    const live = loadConfig(LIVE, noEnvFile);
    expect(live.webhooks.demoShop).toBe(false);
    expect(live.webhooks.url).toBeUndefined();
    const configured = loadConfig(
      {
        ...LIVE,
        MERCHANT_WEBHOOK_URL: URL_,
        MERCHANT_WEBHOOK_SECRET: SECRET,
        MERCHANT_WEBHOOK_RETRY_SCHEDULE: '250ms,1s, 2m',
      },
      noEnvFile,
    );
    expect(configured.webhooks).toMatchObject({
      url: URL_,
      secret: SECRET,
      retryScheduleMs: [250, 1_000, 120_000],
    });
  });

  it('refuses a secret that is not whsec_ and 24 to 64 bytes, without echoing it', () => {
    for (const secret of ['not-a-secret', 'whsec_c2hvcnQ=', `whsec_${Buffer.alloc(65).toString('base64')}`]) {
      const problem = problemOf(
        { ...LIVE, MERCHANT_WEBHOOK_URL: URL_, MERCHANT_WEBHOOK_SECRET: secret },
        'MERCHANT_WEBHOOK_SECRET',
      );
      expect(problem).toContain('24 to 64 random bytes');
      expect(problem).not.toContain(secret);
    }
  });

  it('refuses a URL without its secret, a secret without its URL, and the demo secret in live mode', () => {
    expect(problemOf({ ...LIVE, MERCHANT_WEBHOOK_URL: URL_ }, 'MERCHANT_WEBHOOK_SECRET')).toContain(
      'is unset',
    );
    expect(problemOf({ ...LIVE, MERCHANT_WEBHOOK_SECRET: SECRET }, 'MERCHANT_WEBHOOK_SECRET')).toContain(
      'without MERCHANT_WEBHOOK_URL',
    );
    expect(
      problemOf(
        { ...LIVE, MERCHANT_WEBHOOK_URL: URL_, MERCHANT_WEBHOOK_SECRET: DEMO_WEBHOOK_SECRET },
        'MERCHANT_WEBHOOK_SECRET',
      ),
    ).toContain('published in the source');
    expect(problemOf({ ...LIVE, MERCHANT_WEBHOOK_URL: 'ftp://shop' }, 'MERCHANT_WEBHOOK_URL')).toContain(
      'http(s) URL',
    );
  });

  it('refuses a retry schedule or timeouts that cannot work, naming the entry', () => {
    expect(
      problemOf({ MERCHANT_WEBHOOK_RETRY_SCHEDULE: '5s,soon' }, 'MERCHANT_WEBHOOK_RETRY_SCHEDULE'),
    ).toContain('"soon" is not a duration');
    expect(problemOf({ MERCHANT_WEBHOOK_RETRY_SCHEDULE: '8d' }, 'MERCHANT_WEBHOOK_RETRY_SCHEDULE')).toContain(
      '8d is out of range',
    );
    expect(
      problemOf({ MERCHANT_WEBHOOK_RETRY_SCHEDULE: '5s,,1m' }, 'MERCHANT_WEBHOOK_RETRY_SCHEDULE'),
    ).toContain('"" is not a duration');
    expect(
      problemOf(
        { MERCHANT_WEBHOOK_CONNECT_TIMEOUT_MS: '20000', MERCHANT_WEBHOOK_TIMEOUT_MS: '10000' },
        'MERCHANT_WEBHOOK_CONNECT_TIMEOUT_MS',
      ),
    ).toContain('the connection is part of the attempt');
    expect(problemOf({ MERCHANT_WEBHOOK_CONCURRENCY: '0' }, 'MERCHANT_WEBHOOK_CONCURRENCY')).toContain(
      '1 to 256',
    );
    expect(
      problemOf({ MERCHANT_WEBHOOK_CONCURRENCY_WHILE_BUSY: '0' }, 'MERCHANT_WEBHOOK_CONCURRENCY_WHILE_BUSY'),
    ).toContain('1 to 256');
    expect(
      problemOf(
        { MERCHANT_WEBHOOK_CONCURRENCY: '4', MERCHANT_WEBHOOK_CONCURRENCY_WHILE_BUSY: '8' },
        'MERCHANT_WEBHOOK_CONCURRENCY_WHILE_BUSY',
      ),
    ).toContain('can only hold webhooks back');
  });
});

describe('loadDatabaseConfig', () => {
  it('needs only the database settings: no mode, no Alipay rules', () => {
    expect(loadDatabaseConfig({ DATABASE_URL, NODE_ENV: 'production' }, noEnvFile)).toEqual({
      database: expect.objectContaining({ url: DATABASE_URL, dataDir: '/srv/ledger/.data' }),
      logLevel: 'info',
      inbox: { unverifiedRetentionDays: 90 },
    });
    expect(
      loadDatabaseConfig({ DATABASE_URL, INBOX_RETENTION_DAYS: '30' }, noEnvFile).inbox
        .unverifiedRetentionDays,
    ).toBe(30);
    expect(
      loadDatabaseConfig({ ALIPAY_KEY: 'short', ADMIN_TOKEN: 'x' }, noEnvFile).database.url,
    ).toBeUndefined();
  });

  it('still refuses bad database settings', () => {
    expect(() =>
      loadDatabaseConfig(
        { DATABASE_URL: 'mysql://x', DATABASE_POOL_SIZE: '0', ALIPAY_KEY: 'short' },
        noEnvFile,
      ),
    ).toThrow(
      expect.objectContaining({
        problems: [
          expect.stringMatching(/^DATABASE_URL=\(redacted\)/),
          expect.stringMatching(/^DATABASE_POOL_SIZE="0"/),
        ],
      }),
    );
  });
});
