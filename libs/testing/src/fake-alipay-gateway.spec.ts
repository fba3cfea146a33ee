import { startFakeAlipayGateway, type FakeAlipayGateway } from './fake-alipay-gateway';

let gateway: FakeAlipayGateway;

beforeEach(async () => {
  gateway = await startFakeAlipayGateway();
});

afterEach(async () => {
  await gateway.close();
});

function verify(notifyId: string): Promise<string> {
  return fetch(`${gateway.url}?service=notify_verify&partner=2088000000000001&notify_id=${notifyId}`).then(
    (r) => r.text(),
  );
}

describe('the fake Alipay gateway', () => {
  it('answers a script in order, then keeps its last answer', async () => {
    gateway.script('notify_verify', 'n1', 'false', 'true');
    expect([await verify('n1'), await verify('n1'), await verify('n1')]).toEqual(['false', 'true', 'true']);
    expect(await verify('other')).toBe('true');
    expect(gateway.requestsFor('notify_verify', 'n1')).toHaveLength(3);
  });

  it('answers keys without a script with the default, until it is cleared', async () => {
    gateway.setDefault('notify_verify', 'false');
    expect(await verify('n2')).toBe('false');
    gateway.setDefault('notify_verify', undefined);
    expect(await verify('n2')).toBe('true');
  });

  it('answers the next requests as scripted whatever their key, unless their key has a script', async () => {
    gateway.script('notify_verify', 'own', 'false');
    gateway.scriptNext('notify_verify', 'invalid', 'false');
    expect([await verify('own'), await verify('a'), await verify('b'), await verify('c')]).toEqual([
      'false',
      'invalid',
      'false',
      'true',
    ]);
  });

  it('records a delayed request on arrival, and its answer once given', async () => {
    gateway.script('notify_verify', 'slow', { delayMs: 200, then: 'true' });
    const reply = verify('slow');
    const request = await gateway.waitForRequest((r) => r.key === 'slow');
    expect(request.answer).toBeUndefined();
    expect(await reply).toBe('true');
    expect(request.answer).toBe('true');
  });

  it('refuses an unknown service, and an unsigned request for a signed one', async () => {
    const unknown = await fetch(`${gateway.url}?service=single_trade_query&partner=2088000000000001`);
    expect(await unknown.text()).toContain('<error>ILLEGAL_SERVICE</error>');
    const unsigned = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'service=send_goods_confirm_by_platform&partner=2088000000000001&trade_no=1',
    });
    expect(await unsigned.text()).toContain('<error>ILLEGAL_SIGN</error>');
    expect(gateway.requests[1]).toMatchObject({ signature: 'invalid', signatureReason: 'MISSING_SIGN' });
  });

  it('forgets everything on reset', async () => {
    gateway.script('notify_verify', 'n3', 'false');
    await verify('n3');
    gateway.reset();
    expect(gateway.requests).toHaveLength(0);
    expect(await verify('n3')).toBe('true');
  });

  it('answers 404 outside /gateway.do', async () => {
    expect((await fetch(gateway.url.replace('/gateway.do', '/other'))).status).toBe(404);
  });
});
