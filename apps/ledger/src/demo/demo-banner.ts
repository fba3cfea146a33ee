/** What `npm start` shows a newcomer in demo mode. */
export interface DemoBannerFacts {
  /** The ledger's PUBLIC_BASE_URL. */
  baseUrl: string;
  /** The gateway the ledger talks to. */
  gateway: string;
  /** Where the sandbox started beside the ledger runs, if it did. */
  sandboxUrl?: string;
  /** The admin token when it was generated for this run (shown once); unset when ADMIN_TOKEN is. */
  generatedToken?: string;
}

/**
 * Plain text for the terminal, apart from the JSON logs: where to place a test order, where the cashier
 * is, how to read an order's history in the admin API, and the admin token.
 */
export function demoBanner(facts: DemoBannerFacts): string {
  const token = facts.generatedToken ?? '$ADMIN_TOKEN';
  const alipay =
    facts.sandboxUrl === undefined
      ? `the gateway at ${facts.gateway}`
      : `the sandbox at ${facts.sandboxUrl} (control API and docs: ${facts.sandboxUrl}/docs)`;
  const lines = [
    '',
    'Demo mode: no Alipay credentials, no real money.',
    `  Alipay is played by ${alipay}.`,
    `  Place a test order:   ${facts.baseUrl}/demo`,
    `  The cashier:          the order page sends you to ${facts.sandboxUrl === undefined ? "the gateway's" : "the sandbox's"} cashier; pay there`,
    `  An order's history:   curl -H "Authorization: Bearer ${token}" ${facts.baseUrl}/admin/orders/<outTradeNo>/history`,
    facts.generatedToken === undefined
      ? '  Admin token:          the ADMIN_TOKEN you set'
      : `  Admin token:          ${facts.generatedToken} (generated for this run; set ADMIN_TOKEN to fix it)`,
    '',
    '',
  ];
  return lines.join('\n');
}
