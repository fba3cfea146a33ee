import { escapeHtml, formatYuan } from '@ledger/alipay-protocol';
import type { IngestResult } from '@ledger/inbox';

/** What the buyer is told after Alipay's redirect (docs/operations.md, "Replies"). */
export type ReturnPageKind = 'paid' | 'pending' | 'unverified';

interface PageText {
  title: string;
  lines: string[];
}

/**
 * Where a demo's return page leads next (docs/product-rules.md, "Demo mode"): the person who paid is the
 * one trying the ledger, so the page links to the order in the console, the trade's buyer and seller page
 * on the sandbox, and the order page. A live return page has none of these: its visitor is a buyer.
 */
export interface DemoReturnLinks {
  /** The order page (`/demo`) is served. */
  orderPage: boolean;
  /** The sandbox the demo's gateway is (its trade pages), when known. */
  sandboxUrl?: string;
}

interface Link {
  href: string;
  text: string;
}

/**
 * Which page a processed return_url deserves. `paid` only when the ledger itself recognised the payment
 * with nothing anomalous about it; a genuine redirect that has not (yet) proved one is `pending`: the
 * asynchronous notification may still complete it (docs/alipay-protocol.md, "Return URL": return_url is a
 * hint).
 */
export function returnPageKind(result: IngestResult): ReturnPageKind {
  if (result.outcome === 'rejected') return 'unverified';
  const state = result.order?.state;
  if (state !== undefined && state.paid && state.anomalies.length === 0) return 'paid';
  return 'pending';
}

function textOf(kind: ReturnPageKind, result: IngestResult): PageText {
  const state = result.order?.state;
  const outTradeNo = state?.placed === undefined ? undefined : result.order?.outTradeNo;
  const order = outTradeNo === undefined ? [] : [`订单号 Order: ${outTradeNo}`];
  switch (kind) {
    case 'paid':
      return {
        title: '支付成功 · Payment received',
        lines: [
          ...order,
          `金额 Amount: ¥${formatYuan(state?.paidFee ?? 0)}`,
          '感谢您的购买，您可以关闭此页面。 Thank you: you can close this page.',
        ],
      };
    case 'pending':
      return {
        title: '正在确认付款 · Confirming your payment',
        lines: [
          ...order,
          '我们尚未收到支付宝的付款确认，通常几分钟内完成；无需重复付款。',
          'Alipay has not confirmed the payment to us yet. This usually takes a few minutes: please do not pay again.',
        ],
      };
    case 'unverified':
      return {
        title: '无法验证 · This confirmation could not be verified',
        lines: [
          '此页面的付款信息无法验证。如您已付款，支付宝会直接通知我们，无需重复付款。',
          'The payment details on this page could not be verified. If you paid, Alipay will tell us directly: please do not pay again.',
        ],
      };
  }
}

function demoLinks(kind: ReturnPageKind, result: IngestResult, demo: DemoReturnLinks): Link[] {
  const state = result.order?.state;
  const outTradeNo =
    kind === 'unverified' || state?.placed === undefined ? undefined : result.order?.outTradeNo;
  const tradeNo = kind === 'unverified' ? undefined : state?.tradeNo;
  return [
    outTradeNo === undefined
      ? { href: '/console', text: '控制台 The console: orders, notifications, what needs a person' }
      : {
          href: `/console/orders/${encodeURIComponent(outTradeNo)}`,
          text: '控制台中的订单 This order in the console: its events and the notifications behind them',
        },
    ...(tradeNo === undefined || demo.sandboxUrl === undefined
      ? []
      : [
          {
            href: `${demo.sandboxUrl}/trades/${encodeURIComponent(tradeNo)}`,
            text: '沙箱中的交易 The trade on the sandbox: ship, confirm receipt, ask for a refund, as the buyer or the seller',
          },
        ]),
    ...(demo.orderPage ? [{ href: '/demo', text: '再下一单 Place another test order' }] : []),
  ];
}

function linkList(links: readonly Link[]): string {
  const items = links.map(
    ({ href, text }) => `        <li><a href="${escapeHtml(href)}">${escapeHtml(text)}</a></li>`,
  );
  return `
    <nav class="demo" aria-label="demo">
      <p>演示 Demo: what to look at next</p>
      <ul>
${items.join('\n')}
      </ul>
    </nav>`;
}

/**
 * A small, self-contained HTML page: never blank, nothing from the request shown unescaped. `demo` adds
 * where to go next; without it (live mode) the page is for the buyer alone.
 */
export function renderReturnPage(kind: ReturnPageKind, result: IngestResult, demo?: DemoReturnLinks): string {
  const { title, lines } = textOf(kind, result);
  const paragraphs = lines.map((line) => `<p>${escapeHtml(line)}</p>`).join('\n    ');
  const next = demo === undefined ? '' : linkList(demoLinks(kind, result, demo));
  return `<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>${escapeHtml(title)}</title>
  <style>
    body { font-family: system-ui, sans-serif; margin: 0; padding: 3rem 1rem; background: #f5f6f8; color: #1d2129; }
    main { max-width: 32rem; margin: 0 auto; background: #fff; border-radius: 12px; padding: 2rem;
           box-shadow: 0 1px 4px rgba(0, 0, 0, 0.08); }
    h1 { font-size: 1.3rem; margin-top: 0; }
    main.paid h1 { color: #1a7f37; }
    main.unverified h1 { color: #b42318; }
    nav.demo { border-top: 1px solid #e5e6eb; margin-top: 1.5rem; font-size: 0.95rem; }
    nav.demo li { margin: 0.4rem 0; }
  </style>
</head>
<body>
  <main class="${kind}">
    <h1>${escapeHtml(title)}</h1>
    ${paragraphs}${next}
  </main>
</body>
</html>
`;
}
