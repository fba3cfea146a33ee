import { formatYuan } from '@ledger/alipay-protocol';
import type { PaymentService } from '@ledger/domain';
import { newTradeNo, postNotification } from '@ledger/testing';
import { ADMIN_TOKEN, placeOrder, tradeNotification, type RunningLedger } from './alipay-notify.fixture';

export const PUBLIC_BASE_URL = 'https://shop.example.com';

/** POST /refunds with the admin token (or the given headers). */
export async function postRefunds(
  running: RunningLedger,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${running.baseUrl}/refunds`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * Places an order of `totalFee` fen and pays it through `POST /alipay/notify` (`TRADE_SUCCESS`; escrow:
 * `WAIT_BUYER_PAY` then `WAIT_SELLER_SEND_GOODS`); resolves with its trade_no.
 */
export async function paidOrder(
  running: RunningLedger,
  outTradeNo: string,
  totalFee: number,
  service: PaymentService = 'create_direct_pay_by_user',
): Promise<string> {
  await placeOrder(running.commands, outTradeNo, { totalFee, service });
  const tradeNo = newTradeNo();
  const statuses =
    service === 'trade_create_by_buyer' ? ['WAIT_BUYER_PAY', 'WAIT_SELLER_SEND_GOODS'] : ['TRADE_SUCCESS'];
  for (const tradeStatus of statuses) {
    const notification = tradeNotification({
      outTradeNo,
      tradeNo,
      tradeStatus,
      totalFee: formatYuan(totalFee),
      service,
    });
    const reply = await postNotification(`${running.baseUrl}/alipay/notify`, notification);
    if (reply.text !== 'success') throw new Error(`the payment of ${outTradeNo} was answered ${reply.text}`);
  }
  return tradeNo;
}

/** The event types of a stream, in order. */
export async function streamTypes(running: RunningLedger, streamId: string): Promise<string[]> {
  return (await running.store.readStream(streamId)).map((event) => event.type);
}
