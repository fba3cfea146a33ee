import { signParams } from '@ledger/alipay-protocol';
import { DEMO_ALIPAY, loadConfig } from '@ledger/platform';
import { createTestDatabase, type TestDatabase } from '@ledger/testing';
import { createLedgerApp, type LedgerApp } from '../apps/ledger/src/ledger-app';

jest.setTimeout(120_000);

const TOKEN = 'orders-e2e-admin-token-000000001';
const PUBLIC_BASE_URL = 'https://shop.example.com';

interface PlacedOrder {
  outTradeNo: string;
  service: string;
  totalFee: string;
  created: boolean;
  paymentUrl: string;
  form: { action: string; method: string; charset: string; fields: { name: string; value: string }[] };
}

describe('POST /orders', () => {
  let database: TestDatabase;
  let ledger: LedgerApp;
  let baseUrl: string;

  beforeAll(async () => {
    database = await createTestDatabase('orders');
    const config = loadConfig(
      { LEDGER_MODE: 'demo', ADMIN_TOKEN: TOKEN, PUBLIC_BASE_URL, LOG_LEVEL: 'warn' },
      { envFile: false },
    );
    ledger = await createLedgerApp(config, { database });
    await ledger.app.listen(0, '127.0.0.1');
    baseUrl = await ledger.app.getUrl();
  });
  afterAll(async () => {
    await ledger?.close();
    await database?.close();
  });

  const post = (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) =>
    fetch(`${baseUrl}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const admin = (path: string) =>
    fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const order = (outTradeNo: string, overrides: Record<string, unknown> = {}) => ({
    outTradeNo,
    subject: '会员年卡 Annual membership',
    totalFee: '120.00',
    ...overrides,
  });

  /** The query parameters of a URL, decoded, in their order. */
  const paramsOf = (url: string) => [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));

  it('places an order and answers its signed create_direct_pay_by_user request, URL and form', async () => {
    const response = await post(order('ORD-INSTANT-1', { body: 'one year' }));
    expect(response.status).toBe(201);
    const placed = (await response.json()) as PlacedOrder;
    expect(placed).toMatchObject({
      outTradeNo: 'ORD-INSTANT-1',
      service: 'create_direct_pay_by_user',
      totalFee: '120.00',
      created: true,
    });

    const url = new URL(placed.paymentUrl);
    expect(`${url.origin}${url.pathname}`).toBe('https://mapi.alipay.com/gateway.do');
    const params = Object.fromEntries(url.searchParams);
    expect(params).toMatchObject({
      service: 'create_direct_pay_by_user',
      partner: DEMO_ALIPAY.partner,
      seller_id: DEMO_ALIPAY.partner,
      _input_charset: 'utf-8',
      out_trade_no: 'ORD-INSTANT-1',
      subject: '会员年卡 Annual membership',
      body: 'one year',
      total_fee: '120.00',
      payment_type: '1',
      notify_url: `${PUBLIC_BASE_URL}/alipay/notify`,
      return_url: `${PUBLIC_BASE_URL}/alipay/return`,
      sign_type: 'MD5',
    });
    // The signature is the MD5 of the request as Alipay recomputes it (docs/alipay-protocol.md, "MD5").
    const unsigned = paramsOf(placed.paymentUrl).filter(
      ({ name }) => name !== 'sign' && name !== 'sign_type',
    );
    const resigned = signParams(unsigned, 'utf-8', { signType: 'MD5', md5Key: DEMO_ALIPAY.md5Key });
    expect(resigned.ok && resigned.value.sign).toBe(params.sign);

    expect(placed.form).toEqual({
      action: 'https://mapi.alipay.com/gateway.do?_input_charset=utf-8',
      method: 'POST',
      charset: 'utf-8',
      fields: paramsOf(placed.paymentUrl),
    });
  });

  it('shows the order in the admin API as soon as it is answered (read-your-writes)', async () => {
    await post(order('ORD-READ-1', { totalFee: '0.01' }));
    const response = await admin('/admin/orders/ORD-READ-1');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      outTradeNo: 'ORD-READ-1',
      status: 'awaiting_payment',
      statusCode: 0,
      totalFee: '0.01',
      paidFee: '0.00',
      delivery: { state: 'none' },
      version: 1,
    });
  });

  it('freezes the request: the same order again places nothing and answers the same payment URL', async () => {
    const first = (await (await post(order('ORD-SAME-1'))).json()) as PlacedOrder;
    const again = await post(order('ORD-SAME-1'));
    expect(again.status).toBe(200);
    const repeated = (await again.json()) as PlacedOrder;
    expect(repeated).toEqual({ ...first, created: false });

    const history = (await (await admin('/admin/orders/ORD-SAME-1/history')).json()) as {
      events: { type: string; data: { requestParameters: Record<string, string> }; notification: unknown }[];
    };
    expect(history.events.map((event) => event.type)).toEqual(['OrderPlaced']);
    expect(history.events[0].notification).toBeNull();
    const frozen = history.events[0].data.requestParameters;
    expect(paramsOf(first.paymentUrl).filter(({ name }) => !name.startsWith('sign'))).toEqual(
      Object.entries(frozen).map(([name, value]) => ({ name, value })),
    );
  });

  it('places one order when the same order arrives six times at once', async () => {
    const responses = await Promise.all(Array.from({ length: 6 }, () => post(order('ORD-RACE-1'))));
    expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as PlacedOrder[];
    expect(new Set(bodies.map((b) => b.paymentUrl)).size).toBe(1);
    const history = (await (await admin('/admin/orders/ORD-RACE-1/history')).json()) as { events: unknown[] };
    expect(history.events).toHaveLength(1);
  });

  it('refuses another order under a number already placed: 409, and the first order stands', async () => {
    await post(order('ORD-CONFLICT-1'));
    for (const change of [
      { totalFee: '120.01' },
      { subject: 'Other' },
      { service: 'trade_create_by_buyer' },
    ]) {
      const response = await post(order('ORD-CONFLICT-1', change));
      expect(response.status).toBe(409);
      const error = (await response.json()) as Record<string, unknown>;
      expect(error).toEqual({
        statusCode: 409,
        error: 'Conflict',
        message: expect.stringContaining('ORD-CONFLICT-1'),
      });
    }
    expect(await (await admin('/admin/orders/ORD-CONFLICT-1')).json()).toMatchObject({
      totalFee: '120.00',
      version: 1,
    });
  });

  it('signs trade_create_by_buyer with its price, quantity and logistics', async () => {
    const response = await post(order('ORD-DUAL-1', { service: 'trade_create_by_buyer', totalFee: '88.80' }));
    expect(response.status).toBe(201);
    const placed = (await response.json()) as PlacedOrder;
    expect(Object.fromEntries(new URL(placed.paymentUrl).searchParams)).toMatchObject({
      service: 'trade_create_by_buyer',
      price: '88.80',
      quantity: '1',
      logistics_type: 'EXPRESS',
      logistics_fee: '0.00',
      logistics_payment: 'SELLER_PAY',
    });
    expect(placed.form.fields.map((f) => f.name)).not.toContain('total_fee');
  });

  describe('invalid input is 400 with the field named', () => {
    const cases: [string, unknown, string][] = [
      ['a missing outTradeNo', { subject: 'x', totalFee: '1.00' }, 'outTradeNo'],
      ['an outTradeNo with a reserved character', order('ORD^1'), 'outTradeNo'],
      ['an outTradeNo of 65 characters', order('A'.repeat(65)), 'outTradeNo'],
      ['a missing subject', { outTradeNo: 'ORD-BAD-1', totalFee: '1.00' }, 'subject'],
      ['a blank subject', order('ORD-BAD-1', { subject: '   ' }), 'subject'],
      ['a subject over 256 bytes', order('ORD-BAD-1', { subject: '年'.repeat(86) }), 'subject'],
      ['a subject with a NUL', order('ORD-BAD-1', { subject: 'a\u0000b' }), 'subject'],
      ['an amount as a number', order('ORD-BAD-1', { totalFee: 12.34 }), 'totalFee'],
      ['an amount with one decimal', order('ORD-BAD-1', { totalFee: '12.3' }), 'totalFee'],
      ['an amount of zero', order('ORD-BAD-1', { totalFee: '0.00' }), 'totalFee'],
      ['a negative amount', order('ORD-BAD-1', { totalFee: '-1.00' }), 'totalFee'],
      ['an amount above 100000000.00', order('ORD-BAD-1', { totalFee: '100000000.01' }), 'totalFee'],
      ['a body over 1000 bytes', order('ORD-BAD-1', { body: 'b'.repeat(1001) }), 'body'],
      ['an unknown service', order('ORD-BAD-1', { service: 'refund_fastpay_by_platform_pwd' }), 'service'],
      ['an unknown property', order('ORD-BAD-1', { sellerId: '2088000000000002' }), 'sellerId'],
    ];
    it.each(cases)('%s', async (_name, body, field) => {
      const response = await post(body);
      expect(response.status).toBe(400);
      const error = (await response.json()) as { statusCode: number; error: string; message: string };
      expect(error).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.any(String) });
      expect(error.message.startsWith(`${field}:`) || error.message.startsWith(`${field} `)).toBe(true);
    });

    it('a body that is not JSON', async () => {
      const response = await post('{"outTradeNo": ');
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    });

    it('and places nothing', async () => {
      expect((await admin('/admin/orders/ORD-BAD-1')).status).toBe(404);
    });
  });

  describe('needs the admin token (docs/product-rules.md, "HTTP endpoints")', () => {
    it.each([
      ['no Authorization header', {}],
      ['a wrong token', { authorization: 'Bearer not-the-admin-token' }],
      ['the token as Basic credentials', { authorization: `Basic ${TOKEN}` }],
      ['the token without a scheme', { authorization: TOKEN }],
      ['a longer token that starts with it', { authorization: `Bearer ${TOKEN}x` }],
    ])('%s is 401 and places nothing', async (_name, headers) => {
      const response = await post(order('ORD-AUTH-1'), headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(await response.json()).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        message: expect.any(String),
      });
      expect((await admin('/admin/orders/ORD-AUTH-1')).status).toBe(404);
    });

    it('checks the token before the body: 401, not 400', async () => {
      expect((await post({}, {})).status).toBe(401);
    });

    it('accepts the scheme in any case', async () => {
      expect((await post(order('ORD-AUTH-2'), { authorization: `bearer ${TOKEN}` })).status).toBe(201);
    });
  });
});
