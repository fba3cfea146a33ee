import { escapeHtml } from '@ledger/alipay-protocol';
import type { PaymentService } from '@ledger/domain';
import { demoSandboxUrl } from './demo-sandbox-url';

// The demo order page: a plain HTML form that works without JavaScript. Every value that came
// from a request is escaped here.

/** The two choices of the form, as the buyer sees them, and the service each one requests. */
export const DEMO_SERVICES: Readonly<Record<DemoServiceChoice, PaymentService>> = {
  instant: 'create_direct_pay_by_user',
  escrow: 'trade_create_by_buyer',
};

export type DemoServiceChoice = 'instant' | 'escrow';

/** What the form holds: as typed, so that a refused order comes back with the buyer's own values. */
export interface DemoOrderForm {
  subject: string;
  amount: string;
  service: DemoServiceChoice;
}

export const DEFAULT_DEMO_FORM: DemoOrderForm = {
  subject: '龙井绿茶 Longjing tea',
  amount: '0.01',
  service: 'instant',
};

/** Reads the posted form; anything that is not a single string counts as empty. */
export function readDemoForm(body: unknown): DemoOrderForm | { error: string } {
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const text = (name: string) => (typeof fields[name] === 'string' ? fields[name] : '');
  const service = text('service');
  if (service !== 'instant' && service !== 'escrow') {
    return { error: 'service: choose instant payment or escrow' };
  }
  return { subject: text('subject'), amount: text('amount').trim(), service };
}

/**
 * The amount as `POST /orders` wants it (yuan with two decimals): "12" and "12.5" are completed, anything
 * else is passed on as typed, for the order's own validation to name what is wrong.
 */
export function toYuanString(amount: string): string {
  if (/^(0|[1-9][0-9]*)$/.test(amount)) return `${amount}.00`;
  if (/^(0|[1-9][0-9]*)\.[0-9]$/.test(amount)) return `${amount}0`;
  return amount;
}

export interface DemoPageContext {
  /** The ledger's PUBLIC_BASE_URL. */
  baseUrl: string;
  /** The gateway the orders are sent to (the sandbox's gateway.do in demo mode). */
  gateway: string;
  /** Live mode: the orders are real, so the form asks for the admin token. */
  live?: boolean;
}

/** The admin token typed into the live form; never shown again. */
export function readAdminToken(body: unknown): string {
  const token = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).token : '';
  return typeof token === 'string' ? token : '';
}

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1d2129}' +
  'h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}' +
  'input[type=text]{width:100%;padding:.4rem;font-size:1rem;box-sizing:border-box}' +
  'fieldset{margin:.8rem 0;border:1px solid #ddd}fieldset label{display:block;margin:.3rem 0}' +
  'button{padding:.5rem 1.2rem;font-size:1rem;margin-top:.8rem}' +
  '.error{color:#b42318;font-weight:600}.note{color:#666;font-size:.9rem}code{word-break:break-all}';

/** The order page: the form (with `form`'s values), and `error` above it when the last try was refused. */
export function renderDemoPage(
  context: DemoPageContext,
  form: DemoOrderForm = DEFAULT_DEMO_FORM,
  error?: string,
): string {
  const checked = (choice: DemoServiceChoice) => (form.service === choice ? ' checked' : '');
  const live = context.live === true;
  const sandbox = demoSandboxUrl(live ? 'live' : 'demo', context.gateway);
  const docs = sandbox === undefined ? undefined : `${sandbox}/docs`;
  const history = `${context.baseUrl}/admin/orders/<outTradeNo>/history`;
  return `<!DOCTYPE html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>${live ? 'Place an order · Alipay ledger' : 'Place a test order · Alipay ledger demo'}</title>
  <style>${STYLE}</style>
</head>
<body>
  <h1>${live ? '下单 · Place an order' : '测试下单 · Place a test order'}</h1>
  ${
    live
      ? '<p class="note">Live mode: the order is placed with Alipay and paid with real money. The admin token is required.</p>'
      : '<p class="note">Demo mode: the ledger talks to the Alipay sandbox with demo credentials. No real money moves.</p>'
  }
  ${error === undefined ? '' : `<p class="error" id="error" role="alert">${escapeHtml(error)}</p>`}
  <form method="post" action="/demo" accept-charset="utf-8">
    <label for="subject">商品 Subject</label>
    <input type="text" id="subject" name="subject" required maxlength="256" value="${escapeHtml(form.subject)}">
    <label for="amount">金额 Amount (yuan)</label>
    <input type="text" id="amount" name="amount" required inputmode="decimal" value="${escapeHtml(form.amount)}">
    <fieldset>
      <legend>Service</legend>
      <label><input type="radio" name="service" value="instant"${checked('instant')}> instant payment (create_direct_pay_by_user)</label>
      <label><input type="radio" name="service" value="escrow"${checked('escrow')}> escrow (trade_create_by_buyer: the buyer picks escrow or instant at the cashier)</label>
    </fieldset>
    ${live ? '<label for="token">Admin token</label>\n    <input type="password" id="token" name="token" required autocomplete="off">\n    ' : ''}<button type="submit">下单并付款 Place the order and pay</button>
  </form>
  <h2>What happens</h2>
  <ol>
    <li>The order is placed as <code>POST /orders</code> places it, and you are sent to the cashier at <code>${escapeHtml(context.gateway)}</code>.</li>
    <li>On the cashier, pay now (or with escrow). ${live ? 'Alipay' : 'The sandbox'} sends the ledger its signed notifications, retried as Alipay does, and brings you back to the ledger's return page.</li>
    ${live ? '' : '<li>Once paid, the ledger sends the shop its signed <code>order.delivery_requested</code> webhook; the shop\'s 2xx answer is the delivery. <a href="/demo/shop">The demo shop</a> lists what it received.</li>\n    '}<li>The order's history (the admin token is printed in the ledger's terminal):<br>
      <code>curl -H "Authorization: Bearer $ADMIN_TOKEN" ${escapeHtml(history)}</code></li>
  </ol>
  ${docs === undefined ? '' : `<p class="note">Ship, confirm receipt, refund or make Alipay misbehave: <a href="${escapeHtml(docs)}">the sandbox's control API</a>.</p>`}
</body>
</html>
`;
}
