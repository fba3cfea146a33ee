import { randomBytes } from 'node:crypto';
import { formatYuan } from '@ledger/alipay-protocol';
import type { PaymentService } from '@ledger/domain';
import { CommandBus } from '@nestjs/cqrs';
import { PlaceOrderCommand } from '@ledger/commands';
import { EventStore } from '@ledger/event-store';
import { InboxQueries, type InboxNotificationView } from '@ledger/inbox';
import { DEMO_ALIPAY, loadConfig } from '@ledger/platform';
import {
  createTestDatabase,
  postNotification,
  signedNotification,
  startFakeAlipayGateway,
  tradeStatusSyncParams,
  type FakeAlipayGateway,
  type SignedNotification,
  type TestDatabase,
  type TradeStatusSyncFacts,
} from '@ledger/testing';
import { createLedgerApp, type LedgerApp } from '../apps/ledger/src/ledger-app';

/** A ledger on a fresh test database, listening on 127.0.0.1, asking a fake gateway for notify_verify. */
export interface RunningLedger {
  ledger: LedgerApp;
  database: TestDatabase;
  gateway: FakeAlipayGateway;
  baseUrl: string;
  /** The ledger's command bus. */
  commands: CommandBus;
  store: EventStore;
  inbox: InboxQueries;
  close(): Promise<void>;
}

export const ADMIN_TOKEN = 'alipay-notify-e2e-admin-token-0001';

/** An MD5 key of the right shape that is not the merchant's: what a forger signs with. */
export const FORGED_KEY = `forged-key-${'0'.repeat(21)}`;

export async function startLedger(label: string, env: Record<string, string> = {}): Promise<RunningLedger> {
  const gateway = await startFakeAlipayGateway();
  const database = await createTestDatabase(label);
  const config = loadConfig(
    // The fulfilment worker would append delivery events to paid orders; these tests assert exact streams.
    {
      LEDGER_MODE: 'demo',
      ADMIN_TOKEN,
      ALIPAY_GATEWAY: gateway.url,
      LOG_LEVEL: 'fatal',
      FULFILMENT_WORKER: 'false',
      ...env,
    },
    { envFile: false },
  );
  const ledger = await createLedgerApp(config, { database });
  await ledger.app.listen(0, '127.0.0.1');
  const baseUrl = await ledger.app.getUrl();
  return {
    ledger,
    database,
    gateway,
    baseUrl,
    commands: ledger.app.get(CommandBus),
    store: ledger.app.get(EventStore),
    inbox: ledger.app.get(InboxQueries),
    close: async () => {
      await ledger.close();
      await database.close();
      await gateway.close();
    },
  };
}

/** A fresh order number, unique across runs. */
export function newOutTradeNo(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** Places an order of `totalFee` fen with the demo seller. */
export async function placeOrder(
  commands: { execute(command: PlaceOrderCommand): Promise<unknown> },
  outTradeNo: string,
  options: { totalFee?: number; service?: PaymentService } = {},
): Promise<void> {
  const totalFee = options.totalFee ?? 1234;
  await commands.execute(
    new PlaceOrderCommand({
      type: 'PlaceOrder',
      outTradeNo,
      subject: `order ${outTradeNo}`,
      totalFee,
      service: options.service ?? 'create_direct_pay_by_user',
      sellerId: DEMO_ALIPAY.partner,
      requestParameters: { out_trade_no: outTradeNo, total_fee: formatYuan(totalFee) },
      placedAt: new Date().toISOString(),
    }),
  );
}

/** A `trade_status_sync` notification signed with the demo key, as Alipay sends it. */
export function tradeNotification(facts: TradeStatusSyncFacts, key?: string): SignedNotification {
  return signedNotification(tradeStatusSyncParams(facts), key);
}

export function notify(running: RunningLedger, notification: SignedNotification) {
  return postNotification(`${running.baseUrl}/alipay/notify`, notification);
}

/** POSTs raw bytes to /alipay/notify with the given Content-Type (or none). */
export async function postRaw(
  running: RunningLedger,
  body: Buffer | string,
  contentType?: string,
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${running.baseUrl}/alipay/notify`, {
    method: 'POST',
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return { status: response.status, text: await response.text() };
}

/** The event types of an order's stream, in order. */
export async function eventTypes(running: RunningLedger, outTradeNo: string): Promise<string[]> {
  return (await running.store.readStream(`order-${outTradeNo}`)).map((event) => event.type);
}

/** Every inbox row about an order, oldest first. */
export async function inboxRows(
  running: RunningLedger,
  outTradeNo: string,
): Promise<InboxNotificationView[]> {
  const { items } = await running.inbox.list({ outTradeNo }, { limit: 100 });
  return items.reverse();
}

/** The newest inbox row. */
export async function lastInboxRow(running: RunningLedger): Promise<InboxNotificationView> {
  const { items } = await running.inbox.list({}, { limit: 1 });
  return running.inbox.get(items[0].id);
}
