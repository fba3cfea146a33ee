import { randomBytes } from 'node:crypto';
import {
  postNotification,
  signedNotification,
  tradeStatusSyncParams,
  type TradeStatusSyncFacts,
} from '@ledger/testing';

export const ADMIN_TOKEN = 'fulfilment-e2e-admin-token-000001';
export const TOTAL_FEE = '25.99';

/** An event as `GET /admin/orders/:outTradeNo/history` shows it. */
export interface HistoryEvent {
  position: number;
  version: number;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/** A fresh order number, unique across runs. */
export function newOutTradeNo(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** The ledger's HTTP API, as the merchant's systems and Alipay's notifier use it. */
export class LedgerClient {
  constructor(readonly baseUrl: string) {}

  /** `POST /orders`; fails the test unless the order is placed (201). */
  async placeOrder(
    outTradeNo: string,
    service: 'create_direct_pay_by_user' | 'trade_create_by_buyer',
  ): Promise<void> {
    const response = await fetch(`${this.baseUrl}/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ outTradeNo, subject: `order ${outTradeNo}`, totalFee: TOTAL_FEE, service }),
    });
    if (response.status !== 201) {
      throw new Error(`POST /orders answered ${response.status}: ${await response.text()}`);
    }
  }

  /** A signed `trade_status_sync` to `/alipay/notify`; fails the test unless answered `success`. */
  async notify(facts: Omit<TradeStatusSyncFacts, 'totalFee'> & { totalFee?: string }): Promise<void> {
    const notification = signedNotification(tradeStatusSyncParams({ totalFee: TOTAL_FEE, ...facts }));
    const reply = await postNotification(`${this.baseUrl}/alipay/notify`, notification);
    if (reply.text !== 'success') throw new Error(`the notification was answered ${reply.text}`);
  }

  async history(outTradeNo: string): Promise<HistoryEvent[]> {
    const response = await fetch(`${this.baseUrl}/admin/orders/${outTradeNo}/history`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    if (response.status !== 200) throw new Error(`history answered ${response.status}`);
    return ((await response.json()) as { events: HistoryEvent[] }).events;
  }

  /** The order's history once `done` holds for it; fails after `timeoutMs`. */
  async historyWhen(
    outTradeNo: string,
    done: (events: HistoryEvent[]) => boolean,
    timeoutMs = 30_000,
  ): Promise<HistoryEvent[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const events = await this.history(outTradeNo);
      if (done(events)) return events;
      if (Date.now() > deadline) {
        throw new Error(`order ${outTradeNo} did not get there: ${events.map((e) => e.type).join(', ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Whether the history holds an event of `type`. */
export function has(type: string): (events: HistoryEvent[]) => boolean {
  return (events) => events.some((event) => event.type === type);
}

export function countOf(events: HistoryEvent[], type: string): number {
  return events.filter((event) => event.type === type).length;
}
