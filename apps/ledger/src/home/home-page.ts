import { escapeHtml } from '@ledger/alipay-protocol';

/** What a demo's home page links to, as the configuration has it. */
export interface DemoHomeFacts {
  /** The order page (`/demo`) is served. */
  orderPage: boolean;
  /** The API description (`/docs`) is served. */
  apiDocs: boolean;
  /** The sandbox the demo's gateway is, when there is one. */
  sandboxUrl?: string;
}

interface Entry {
  href: string;
  title: string;
  what: string;
}

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1d2129}' +
  'h1{font-size:1.4rem}li{margin:.8rem 0}a{font-weight:600}.note{color:#666;font-size:.9rem}';

function entries(facts: DemoHomeFacts): Entry[] {
  return [
    ...(facts.orderPage
      ? [
          {
            href: '/demo',
            title: '测试下单 Place a test order',
            what: "a form that places an order and sends you to the sandbox's cashier to pay it",
          },
        ]
      : []),
    {
      href: '/console',
      title: '控制台 The console',
      what: "the operator's pages: orders and their events, notifications, refunds; sign in with the admin token printed at start",
    },
    ...(facts.sandboxUrl === undefined
      ? []
      : [
          {
            href: `${facts.sandboxUrl}/`,
            title: '支付宝沙箱 The Alipay sandbox',
            what: "Alipay's side: its trades, each with the buyer's and the seller's buttons (ship, confirm receipt, ask for a refund), and its control API",
          },
        ]),
    ...(facts.apiDocs
      ? [
          {
            href: '/docs',
            title: 'API',
            what: 'the JSON API (OpenAPI): orders, refunds, the admin views; with the admin token as a bearer token',
          },
        ]
      : []),
  ];
}

/**
 * `GET /` in demo mode (docs/product-rules.md, "Demo mode"): where a person trying the ledger goes first.
 * Plain HTML that loads nothing; every link is one the configuration serves.
 */
export function renderDemoHomePage(facts: DemoHomeFacts): string {
  const items = entries(facts).map(
    ({ href, title, what }) =>
      `    <li><a href="${escapeHtml(href)}">${escapeHtml(title)}</a><br>${escapeHtml(what)}</li>`,
  );
  return `<!DOCTYPE html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>Alipay ledger demo</title>
  <style>${STYLE}</style>
</head>
<body>
  <h1>支付宝账本演示 · Alipay ledger demo</h1>
  <p class="note">Demo mode: the sandbox plays Alipay with demo credentials. No real money moves.</p>
  <ul>
${items.join('\n')}
  </ul>
</body>
</html>
`;
}
