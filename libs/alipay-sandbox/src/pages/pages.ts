import { describeAlipayError, escapeHtml, formatBeijingTime, formatYuan } from '@ledger/alipay-protocol';
import type { RefundBatch } from '../store/sandbox-store';
import type { Trade } from '../trades/trade';
import { ACTION_ROLES, type TradeAction } from '../trades/trade-machine';

// The sandbox's pages: plain HTML forms that work without JavaScript, POST then redirect then GET. Every
// value that came from a request is escaped here and nowhere else.

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}' +
  'h1{font-size:1.4rem;color:#1677ff}table{border-collapse:collapse;margin:1rem 0}' +
  'td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}' +
  'form{display:inline-block;margin:.3rem .5rem .3rem 0}button{padding:.5rem 1rem;font-size:1rem}' +
  '.note{color:#666;font-size:.9rem}.error{color:#c00}';

/** A whole page; `body` is HTML that the caller escaped. */
export function layout(title: string, body: string): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="zh-CN"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)} · Alipay sandbox</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    body,
    '<p class="note">支付宝沙箱 · Alipay sandbox: nothing here moves real money.</p>',
    '</body></html>',
  ].join('\n');
}

function rows(entries: readonly (readonly [string, string | undefined])[]): string {
  const cells = entries
    .filter((entry): entry is readonly [string, string] => entry[1] !== undefined)
    .map(([label, value]) => `<tr><th>${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`)
    .join('');
  return `<table>${cells}</table>`;
}

function postButton(action: string, name: string, value: string, label: string): string {
  return (
    `<form method="post" action="${escapeHtml(action)}">` +
    `<button type="submit" name="${escapeHtml(name)}" value="${escapeHtml(value)}">${escapeHtml(label)}</button>` +
    '</form>'
  );
}

const yuan = (fen: number) => `¥${formatYuan(fen)}`;

/**
 * The page Alipay shows for a refused redirect request (docs/alipay-protocol.md, "Error codes": "错误代码 XXX").
 */
export function errorPage(code: string, detail: string): string {
  const meaning = describeAlipayError(code);
  return layout(
    '调试错误 · Request refused',
    [
      '<p>调试错误，请回到请求来源地，重新发起请求。</p>',
      `<p>错误代码 Error code: <strong class="error" id="error-code">${escapeHtml(code)}</strong></p>`,
      meaning === undefined ? '' : `<p>${escapeHtml(meaning.zh)} · ${escapeHtml(meaning.en)}</p>`,
      `<p class="note" id="error-detail">${escapeHtml(detail)}</p>`,
    ].join('\n'),
  );
}

function orderRows(trade: Trade): string {
  const { terms } = trade;
  return rows([
    ['商户订单号 Order', terms.outTradeNo],
    ['商品 Subject', terms.subject],
    ['描述 Body', terms.body],
    ['金额 Amount', yuan(terms.totalFee)],
    ['交易号 Trade no.', trade.tradeNo],
    ['状态 Status', trade.tradeStatus + (trade.refundStatus === undefined ? '' : ` / ${trade.refundStatus}`)],
    ['已退款 Refunded', trade.refundedFee > 0 ? yuan(trade.refundedFee) : undefined],
  ]);
}

export const cashierPath = (tradeNo: string) => `/cashier/${encodeURIComponent(tradeNo)}`;
export const tradePath = (tradeNo: string) => `/trades/${encodeURIComponent(tradeNo)}`;
export const refundPath = (partner: string, batchNo: string) =>
  `/refunds/${encodeURIComponent(partner)}/${encodeURIComponent(batchNo)}`;

/** The cashier: the order, and the buyer's choices (escrow only for trade_create_by_buyer). */
export function cashierPage(trade: Trade): string {
  const action = cashierPath(trade.tradeNo);
  const buttons = [
    postButton(action, 'choice', 'instant', '立即付款 Pay now'),
    trade.terms.service === 'trade_create_by_buyer'
      ? postButton(action, 'choice', 'escrow', '担保交易付款 Pay with escrow')
      : '',
    postButton(action, 'choice', 'leave', '放弃付款 Leave without paying'),
  ].join('\n');
  return layout('支付宝收银台 · Cashier', `${orderRows(trade)}\n${buttons}`);
}

/** How many trades the sandbox's home page lists: the newest, which a demo is about. */
export const TRADES_PAGE_LIMIT = 100;

/**
 * The sandbox's home page: its trades, newest first, each linking to its trade page, where the buyer's and
 * the seller's buttons are; and the control API.
 */
export function tradesPage(newestFirst: readonly Trade[]): string {
  const shown = newestFirst.slice(0, TRADES_PAGE_LIMIT);
  const rowsHtml = shown.map((trade) =>
    [
      '<tr>',
      `<td><a href="${escapeHtml(tradePath(trade.tradeNo))}">${escapeHtml(trade.tradeNo)}</a></td>`,
      `<td>${escapeHtml(trade.terms.outTradeNo)}</td>`,
      `<td>${escapeHtml(trade.terms.subject)}</td>`,
      `<td>${escapeHtml(yuan(trade.terms.totalFee))}</td>`,
      `<td>${escapeHtml(trade.tradeStatus + (trade.refundStatus === undefined ? '' : ` / ${trade.refundStatus}`))}</td>`,
      `<td>${escapeHtml(formatBeijingTime(trade.gmtCreate))}</td>`,
      '</tr>',
    ].join(''),
  );
  const table =
    shown.length === 0
      ? '<p id="no-trades">还没有交易。 No trades yet: a payment request (the ledger\'s order page) creates one.</p>'
      : [
          '<table id="trades"><tr><th>交易号 Trade no.</th><th>商户订单号 Order</th><th>商品 Subject</th>' +
            '<th>金额 Amount</th><th>状态 Status</th><th>创建 Created (北京时间 UTC+8)</th></tr>',
          ...rowsHtml,
          '</table>',
          newestFirst.length > shown.length
            ? `<p class="note">The newest ${shown.length} of ${newestFirst.length}; the control API lists them all.</p>`
            : '',
        ].join('\n');
  return layout(
    '交易 · Trades',
    [
      '<p>Open a trade to act on it as its buyer (pay, confirm receipt, request a refund, send the goods back), its seller (ship, agree to or refuse a refund) or Alipay (close it, end the refund window). Each change is notified to the merchant, signed, as Alipay does.</p>',
      table,
      '<p><a href="/docs">控制接口 The control API</a> (JSON, for scripts and tests: trades, refund batches, notifications and their attempts, chaos).</p>',
    ].join('\n'),
  );
}

/** After "leave without paying": the trade still waits for payment. */
export function leftPage(trade: Trade): string {
  const back = trade.channels.showUrl;
  return layout(
    '未付款 · Not paid',
    [
      orderRows(trade),
      '<p>您没有付款，交易仍在等待付款。 You left without paying: the trade still waits for payment.</p>',
      `<p><a href="${escapeHtml(cashierPath(trade.tradeNo))}">返回收银台 Back to the cashier</a></p>`,
      back === undefined ? '' : `<p><a href="${escapeHtml(back)}">返回商户 Back to the merchant</a></p>`,
    ].join('\n'),
  );
}

const ACTION_LABELS: Readonly<Record<TradeAction, string>> = {
  'pay-instant': '立即付款 Pay now',
  'pay-escrow': '担保交易付款 Pay with escrow',
  close: '关闭交易 Close (unpaid timeout)',
  ship: '发货 Ship the goods',
  'confirm-receipt': '确认收货 Confirm receipt',
  finish: '结束退款期 End the refund window',
  'request-refund': '申请退款 Request a refund',
  'agree-refund': '同意退款 Agree to the refund',
  'refuse-refund': '拒绝退款 Refuse the refund',
  'return-goods': '退货 Send the goods back',
  'confirm-return': '确认收到退货 Confirm the returned goods',
};

const ROLE_TITLES = {
  buyer: '买家 Buyer',
  seller: '卖家 Seller',
  alipay: '支付宝 Alipay (timeouts)',
} as const;

/**
 * A trade with the buttons of each side for what is possible now (docs/alipay-protocol.md, "Escrow trades"
 * and "Escrow refunds").
 */
export function tradePage(trade: Trade, actions: readonly TradeAction[], notice?: string): string {
  const path = tradePath(trade.tradeNo);
  const sections = (['buyer', 'seller', 'alipay'] as const).map((role) => {
    const buttons = actions
      .filter((action) => ACTION_ROLES[action] === role)
      .map((action) => postButton(path, 'action', action, ACTION_LABELS[action]));
    return buttons.length === 0 ? '' : `<h2>${escapeHtml(ROLE_TITLES[role])}</h2>\n${buttons.join('\n')}`;
  });
  return layout(
    '交易详情 · Trade',
    [
      notice === undefined ? '' : `<p class="error" id="notice">${escapeHtml(notice)}</p>`,
      orderRows(trade),
      ...sections,
    ].join('\n'),
  );
}

/** A paid trade with no return_url to send the buyer to. */
export function paidPage(trade: Trade): string {
  return layout(
    '付款成功 · Paid',
    `${orderRows(trade)}\n<p><a href="${escapeHtml(tradePath(trade.tradeNo))}">交易详情 The trade</a></p>`,
  );
}

function recordRows(batch: RefundBatch): string {
  const results = new Map((batch.results ?? []).map((result) => [result.tradeNo, result.code]));
  const cells = batch.records
    .map((record) => {
      const code = results.get(record.tradeNo);
      return (
        `<tr><td>${escapeHtml(record.tradeNo)}</td><td>${escapeHtml(yuan(record.amount))}</td>` +
        `<td>${escapeHtml(record.reason)}</td>${code === undefined ? '' : `<td>${escapeHtml(code)}</td>`}</tr>`
      );
    })
    .join('');
  const resultHead = batch.results === undefined ? '' : '<th>结果 Result</th>';
  return `<table><tr><th>交易号 Trade no.</th><th>金额 Amount</th><th>原因 Reason</th>${resultHead}</tr>${cells}</table>`;
}

/**
 * The merchant confirms a password refund here (docs/alipay-protocol.md, "Batch refund requests":
 * "the merchant enters the pay password").
 */
export function refundConfirmPage(batch: RefundBatch): string {
  const path = refundPath(batch.partner, batch.batchNo);
  const total = batch.records.reduce((sum, record) => sum + record.amount, 0);
  return layout(
    '批量退款确认 · Confirm the batch refund',
    [
      rows([
        ['批次号 Batch', batch.batchNo],
        ['退款日期 Refund date', formatBeijingTime(batch.refundDate)],
        ['笔数 Records', String(batch.records.length)],
        ['总金额 Total', yuan(total)],
      ]),
      recordRows(batch),
      `<form method="post" action="${escapeHtml(path)}">`,
      '<label>支付密码 Payment password (the sandbox accepts any) <input type="password" name="password"></label>',
      '<button type="submit" name="decision" value="confirm">确认退款 Confirm</button>',
      '<button type="submit" name="decision" value="cancel">取消 Cancel</button>',
      '</form>',
    ].join('\n'),
  );
}

/** A batch after the merchant's decision. */
export function refundResultPage(batch: RefundBatch): string {
  const title =
    batch.state === 'cancelled' ? '退款已取消 · Refund cancelled' : '退款已提交 · Refund submitted';
  return layout(
    title,
    [
      rows([
        ['批次号 Batch', batch.batchNo],
        ['成功笔数 Refunded records', batch.successNum === undefined ? undefined : String(batch.successNum)],
      ]),
      recordRows(batch),
    ].join('\n'),
  );
}

/** A page for a trade, batch or path the sandbox does not know. */
export function notFoundPage(what: string): string {
  return layout('未找到 · Not found', `<p>${escapeHtml(what)}</p>`);
}
