export type LedgerMode = 'demo' | 'live';

type RawEnvironment = Readonly<Record<string, string | undefined>>;

/** The merchant's identity. The demo has its own, so any of these means real credentials. */
const CREDENTIAL_VARIABLES = [
  'ALIPAY_PARTNER',
  'ALIPAY_KEY',
  'ALIPAY_PRIVATE_KEY_FILE',
  'ALIPAY_PUBLIC_KEY_FILE',
  'ALIPAY_SELLER_ID',
] as const;

const CHOOSE_DEMO =
  'set LEDGER_MODE=demo to run the demo on purpose (the sandbox plays Alipay with the demo key published in ' +
  'the source; no real money)';

/**
 * What says a deployment is meant for real payments (README, Configuration): NODE_ENV=production, a
 * DATABASE_URL, PUBLIC_BASE_URL, or any variable named ALIPAY_*, known or not (a misspelt one was meant too).
 */
export function liveSignals(raw: RawEnvironment): string[] {
  const alipay = Object.keys(raw)
    .filter((name) => name.startsWith('ALIPAY_') && raw[name] !== undefined)
    .sort();
  return [
    ...(raw.NODE_ENV === 'production' ? ['NODE_ENV=production'] : []),
    ...(raw.DATABASE_URL === undefined ? [] : ['DATABASE_URL']),
    ...alipay,
    ...(raw.PUBLIC_BASE_URL === undefined ? [] : ['PUBLIC_BASE_URL']),
  ];
}

/** The settings live mode needs that are not given, for the sign type in force. */
export function missingLiveSettings(raw: RawEnvironment, signType: 'MD5' | 'RSA'): string[] {
  const missing: string[] = [];
  if (raw.ALIPAY_PARTNER === undefined) missing.push('ALIPAY_PARTNER');
  if (signType === 'MD5' && raw.ALIPAY_KEY === undefined) {
    const keyFiles = raw.ALIPAY_PRIVATE_KEY_FILE !== undefined || raw.ALIPAY_PUBLIC_KEY_FILE !== undefined;
    missing.push(
      keyFiles ? 'ALIPAY_KEY (or ALIPAY_SIGN_TYPE=RSA, to sign with the key files)' : 'ALIPAY_KEY',
    );
  }
  if (signType === 'RSA') {
    for (const name of ['ALIPAY_PRIVATE_KEY_FILE', 'ALIPAY_PUBLIC_KEY_FILE']) {
      if (raw[name] === undefined) missing.push(name);
    }
  }
  if (raw.PUBLIC_BASE_URL === undefined) missing.push('PUBLIC_BASE_URL');
  return missing;
}

/**
 * Demo mode only where the operator chose it (LEDGER_MODE=demo) or where nothing is configured for
 * production; live mode only with its full credentials. Without a mode, a LEDGER_MODE that is neither
 * (the schema names it) or a problem to report.
 */
export function decideMode(
  raw: RawEnvironment,
  signType: 'MD5' | 'RSA',
): { mode: LedgerMode } | { problem: string } | Record<string, never> {
  const chosen = raw.LEDGER_MODE;
  if (chosen === 'demo') {
    const contradicting: string[] = CREDENTIAL_VARIABLES.filter((name) => raw[name] !== undefined);
    if (signType === 'RSA') contradicting.push('ALIPAY_SIGN_TYPE=RSA');
    if (contradicting.length === 0) return { mode: 'demo' };
    return {
      problem:
        `LEDGER_MODE=demo contradicts ${contradicting.join(', ')}: the demo signs as the sandbox's demo ` +
        'merchant with its published MD5 key, never with real credentials; remove them to run the demo, or ' +
        'set LEDGER_MODE=live to use them',
    };
  }
  const missing = missingLiveSettings(raw, signType);
  if (chosen === 'live') {
    if (missing.length === 0) return { mode: 'live' };
    return { problem: `LEDGER_MODE=live needs the live settings; missing: ${missing.join(', ')}` };
  }
  if (chosen !== undefined) return {};
  const signals = liveSignals(raw);
  if (signals.length === 0) return { mode: 'demo' };
  if (missing.length === 0) return { mode: 'live' };
  return {
    problem:
      `LEDGER_MODE is unset, and ${signals.join(', ')} ${signals.length === 1 ? 'says' : 'say'} this is not a ` +
      `trial run, but the live settings are incomplete; missing: ${missing.join(', ')}. Give them to run ` +
      `live, or ${CHOOSE_DEMO}`,
  };
}
