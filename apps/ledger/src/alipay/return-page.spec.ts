import { initialOrderState, type OrderState } from '@ledger/domain';
import type { IngestResult } from '@ledger/inbox';
import { renderReturnPage, returnPageKind } from './return-page';

function result(outcome: IngestResult['outcome'], state?: Partial<OrderState>): IngestResult {
  const detail: IngestResult['detail'] =
    outcome === 'rejected'
      ? { outcome, reason: 'signature', message: 'no' }
      : outcome === 'failed'
        ? { outcome, reason: 'database', message: 'down' }
        : { outcome: 'no_new_fact', reason: 'stale' };
  return {
    inboxId: 1,
    outcome,
    reply: outcome === 'applied' || outcome === 'no_new_fact' ? 'success' : 'fail',
    detail,
    ...(state === undefined
      ? {}
      : { order: { outTradeNo: 'T-1', state: { ...initialOrderState(), ...state } } }),
  };
}

const placed = {
  outTradeNo: 'T-1',
  subject: 's',
  totalFee: 1230,
  service: 'create_direct_pay_by_user' as const,
  sellerId: '2088000000000001',
  requestParameters: {},
  placedAt: '2024-05-01T00:00:00.000Z',
};

describe('the return page', () => {
  it('says paid only for a recognised payment with nothing anomalous', () => {
    expect(returnPageKind(result('applied', { placed, paid: true, paidFee: 1230 }))).toBe('paid');
    expect(
      returnPageKind(
        result('applied', {
          placed,
          paid: true,
          anomalies: [{ kind: 'trade_no_mismatch', detail: 'x', detectedAt: '2024-05-01T00:00:00.000Z' }],
        }),
      ),
    ).toBe('pending');
    expect(returnPageKind(result('applied', { placed, paid: false }))).toBe('pending');
    expect(returnPageKind(result('failed'))).toBe('pending');
    expect(returnPageKind(result('rejected'))).toBe('unverified');
  });

  it('shows the order and the amount paid', () => {
    const page = renderReturnPage('paid', result('applied', { placed, paid: true, paidFee: 1230 }));
    expect(page).toContain('Payment received');
    expect(page).toContain('T-1');
    expect(page).toContain('¥12.30');
  });

  it('escapes whatever it shows', () => {
    const hostile = result('applied', { placed, paid: true, paidFee: 1 });
    const page = renderReturnPage('paid', {
      ...hostile,
      order: { ...hostile.order!, outTradeNo: '<script>x</script>' },
    });
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;script&gt;');
  });

  it('never shows order details on a page that could not be verified', () => {
    const page = renderReturnPage('unverified', result('rejected'));
    expect(page).toContain('could not be verified');
    expect(page).not.toContain('T-1');
  });

  describe('in demo mode', () => {
    const demo = { orderPage: true, sandboxUrl: 'http://127.0.0.1:3001' };
    const hrefs = (page: string) => [...page.matchAll(/href="([^"]*)"/g)].map((match) => match[1]);

    it('leads to the order in the console, the trade on the sandbox and the order page', () => {
      const page = renderReturnPage(
        'paid',
        result('applied', { placed, paid: true, paidFee: 1230, tradeNo: '2024050122001' }),
        demo,
      );
      expect(hrefs(page)).toEqual([
        '/console/orders/T-1',
        'http://127.0.0.1:3001/trades/2024050122001',
        '/demo',
      ]);
    });

    it('encodes the order number into one path segment', () => {
      const paid = result('applied', { placed, paid: true, paidFee: 1 });
      const page = renderReturnPage(
        'paid',
        { ...paid, order: { ...paid.order!, outTradeNo: 'A/B?c=1&"d"#订单' } },
        demo,
      );
      expect(hrefs(page)[0]).toBe('/console/orders/A%2FB%3Fc%3D1%26%22d%22%23%E8%AE%A2%E5%8D%95');
      expect(page).not.toContain('"d"');
    });

    it('links to the console alone, without the order, when the redirect could not be verified', () => {
      const page = renderReturnPage('unverified', result('rejected'), { ...demo, orderPage: false });
      expect(hrefs(page)).toEqual(['/console']);
    });

    it('leaves out the sandbox before Alipay named the trade, and the order page when it is off', () => {
      const page = renderReturnPage('pending', result('applied', { placed, paid: false }), {
        orderPage: false,
      });
      expect(hrefs(page)).toEqual(['/console/orders/T-1']);
    });
  });

  it('links nowhere in live mode: its visitor is a buyer', () => {
    const page = renderReturnPage(
      'paid',
      result('applied', { placed, paid: true, paidFee: 1230, tradeNo: '2024050122001' }),
    );
    expect(page).not.toContain('href=');
    expect(page).not.toContain('/console');
  });
});
